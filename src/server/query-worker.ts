// A query thread (query-threads.ts): opens the knowledge bases it is asked about read-only, once per instance of the
// main thread's, and runs searches and the ask flow, posting the ask's parts as they come.
import { parentPort } from 'node:worker_threads';
import { isKbError } from '../errors.ts';
import { KnowledgeBase } from '../knowledge-base.ts';
import type { KnowledgeBaseTarget, QueryReply, QueryRequest, SerializedError } from './query-threads.ts';

const silent = { info: () => {}, warn: () => {} };
/** Per data directory, the instance opened here (one per directory: a newer instance replaces an older one). */
const opened = new Map<string, { instance: string; knowledgeBase: Promise<KnowledgeBase> }>();
/** Asks in progress, to cancel when the main thread's caller goes away. */
const running = new Map<number, AbortController>();

function open(target: KnowledgeBaseTarget): Promise<KnowledgeBase> {
  const current = opened.get(target.config.dataDir);
  if (current?.instance === target.instance) return current.knowledgeBase;
  if (current) void current.knowledgeBase.then((knowledgeBase) => knowledgeBase.close()).catch(() => undefined);
  const knowledgeBase = KnowledgeBase.open(target.config, silent, { readOnly: true });
  opened.set(target.config.dataDir, { instance: target.instance, knowledgeBase });
  // A failed open is tried again by the next request.
  knowledgeBase.catch(() => opened.get(target.config.dataDir)?.knowledgeBase === knowledgeBase && opened.delete(target.config.dataDir));
  return knowledgeBase;
}

function serialize(error: unknown): SerializedError {
  if (isKbError(error)) return { code: error.code, details: error.details };
  return { message: error instanceof Error ? error.message : String(error) };
}

async function handle(id: number, request: QueryRequest): Promise<void> {
  const post = (reply: QueryReply) => parentPort!.postMessage(reply);
  if (request.kind === 'cancel') return running.get(request.of)?.abort();
  if (request.kind === 'forget') {
    const current = opened.get(request.dataDir);
    opened.delete(request.dataDir);
    await current?.knowledgeBase.then((knowledgeBase) => knowledgeBase.close()).catch(() => undefined);
    return post({ id, type: 'result', value: null });
  }
  try {
    const knowledgeBases = await Promise.all(request.targets.map(open));
    request.targets.forEach((target, index) => (knowledgeBases[index]!.defaultFilters = target.defaultFilters));
    const [primary, ...others] = knowledgeBases;
    if (request.kind === 'open') return post({ id, type: 'result', value: null });
    if (request.kind === 'search') {
      const value = await primary!.search(request.query, request.topK, request.scope, request.filters, others, request.options);
      return post({ id, type: 'result', value });
    }
    const controller = new AbortController();
    running.set(id, controller);
    try {
      for await (const part of primary!.askStreamUnlimited({ ...request.input, alsoSearch: others, signal: controller.signal })) post({ id, type: 'part', part });
    } finally {
      running.delete(id);
    }
    post({ id, type: 'end' });
  } catch (error) {
    post({ id, type: 'error', error: serialize(error) });
  }
}

parentPort!.on('message', (message: { id: number; request: QueryRequest }) => void handle(message.id, message.request));
