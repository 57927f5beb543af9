// Worker threads that prepare documents (parse, chunk, tokenize: prepare.ts) in parallel. Results come back in the
// order asked for by whoever awaits them; a worker that dies (a parser crash, out of memory on one huge file) fails
// its task with the reason and is replaced, so one file never stops the rest.
import { Worker } from 'node:worker_threads';
import { KbError, type ErrorCode } from '../errors.ts';
import { currentCjkTokenizer } from '../text/tokenize.ts';
import { siblingModule } from '../module-file.ts';
import { decodeTerms, prepareDocument, type EncodedTerms, type PrepareInput, type PrepareProgress, type PreparedDocument } from './prepare.ts';

type Reply =
  | { id: number; progress: Parameters<PrepareProgress>[0] }
  | { id: number; result: Omit<PreparedDocument, 'terms'> & { encodedTerms: EncodedTerms } }
  | { id: number; error: { code: ErrorCode; details: Record<string, unknown> } | { message: string } };

interface Task {
  id: number;
  input: PrepareInput;
  resolve: (value: PreparedDocument) => void;
  reject: (error: unknown) => void;
  onProgress: PrepareProgress | undefined;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
}

export class PreparePool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private nextId = 0;
  private closed = false;

  /** `threads` workers (0: prepare in the calling thread). */
  constructor(readonly threads: number) {
    for (let index = 0; index < threads; index++) this.slots.push(this.spawn());
  }

  private spawn(): Slot {
    const worker = new Worker(new URL('../worker-entry.mjs', import.meta.url), { workerData: { entry: siblingModule('./prepare-worker', import.meta.url).href, tokenizer: currentCjkTokenizer() } });
    const slot: Slot = { worker, task: undefined };
    worker.on('message', (reply: Reply) => {
      if ('progress' in reply) {
        if (slot.task?.id === reply.id) slot.task.onProgress?.(reply.progress);
        return;
      }
      const task = slot.task;
      slot.task = undefined;
      if (task && task.id === reply.id) {
        if ('result' in reply) {
          const { encodedTerms, ...result } = reply.result;
          task.resolve({ ...result, terms: decodeTerms(encodedTerms) });
        } else if ('code' in reply.error) task.reject(new KbError(reply.error.code, reply.error.details));
        else task.reject(new Error(reply.error.message));
      }
      this.dispatch();
    });
    const failed = (reason: string) => {
      const task = slot.task;
      slot.task = undefined;
      if (task) task.reject(new KbError('KB_ERR_PARSE', { file: task.input.source, reason }));
      if (this.closed) return;
      const index = this.slots.indexOf(slot);
      if (index >= 0) this.slots[index] = this.spawn();
      this.dispatch();
    };
    worker.on('error', (error) => failed(`the parser stopped: ${error.message}`));
    worker.on('exit', (code) => {
      if (!this.closed && code !== 0) failed(`the parser exited with code ${code}`);
    });
    worker.unref();
    return slot;
  }

  prepare(input: PrepareInput, onProgress?: PrepareProgress): Promise<PreparedDocument> {
    if (this.threads === 0) return prepareDocument(input, onProgress);
    return new Promise((resolve, reject) => {
      this.queue.push({ id: this.nextId++, input, resolve, reject, onProgress });
      this.dispatch();
    });
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (slot.task || this.queue.length === 0) continue;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      slot.worker.postMessage({ id: task.id, input: task.input });
    }
    for (const slot of this.slots) if (!slot.task) slot.worker.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('the prepare pool was closed'));
    await Promise.all(this.slots.map((slot) => slot.worker.terminate()));
  }
}
