// A worker thread of the prepare pool: parses, chunks and tokenizes the files it is sent (prepare.ts), with the
// tokenizer of the process that started it.
import { parentPort, workerData } from 'node:worker_threads';
import { isKbError, describeError } from '../errors.ts';
import { setCjkTokenizer, type CjkTokenizer } from '../text/tokenize.ts';
import { encodeTerms, prepareDocument, type PrepareInput } from './prepare.ts';

const ready = setCjkTokenizer((workerData as { tokenizer: CjkTokenizer }).tokenizer);

parentPort!.on('message', async (message: { id: number; input: PrepareInput }) => {
  try {
    await ready;
    const { terms, ...result } = await prepareDocument(message.input, (progress) => parentPort!.postMessage({ id: message.id, progress }));
    // Millions of small Map entries are slow to copy between threads; one string and one array are not.
    parentPort!.postMessage({ id: message.id, result: { ...result, encodedTerms: encodeTerms(terms) } });
  } catch (error) {
    parentPort!.postMessage({ id: message.id, error: isKbError(error) ? { code: error.code, details: error.details } : { message: describeError(error) } });
  }
});
