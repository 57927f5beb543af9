// Query threads: retrieval and answering run in worker threads, each holding its own read-only view of the knowledge
// bases (the same index files, followed through the database generation), so that a server uses every core. The
// main thread keeps HTTP, access, rate limits, jobs and every write (uploads, deletes, re-embedding); a thread sees
// a write at its next query (Storage.refresh). A request goes to the thread with the fewest requests in flight; a
// thread that dies fails its requests with the reason and is replaced.
import { Worker } from 'node:worker_threads';
import type { Config } from '../config.ts';
import { KbError, type ErrorCode } from '../errors.ts';
import type { AskInput, AskPart, AskTimings } from '../knowledge-base.ts';
import type { RetrievalResult, RetrieveOptions, SearchFilters } from '../retrieve/retriever.ts';
import type { ReadScope } from '../retrieve/read-scope.ts';
import { currentCjkTokenizer } from '../text/tokenize.ts';
import { siblingModule } from '../module-file.ts';

/** A knowledge base as a thread opens it: its configuration, and the identity of the instance the main thread holds. */
export interface KnowledgeBaseTarget {
  config: Readonly<Config>;
  /** Changes when the main thread opens the collection again (an embedding-model switch): threads reopen too. */
  instance: string;
  /** The collection's default filters (its languages setting). */
  defaultFilters: SearchFilters;
}

export type ThreadAskInput = Omit<AskInput, 'signal' | 'alsoSearch'>;

export type QueryRequest =
  | { kind: 'open'; targets: KnowledgeBaseTarget[] }
  | { kind: 'search'; targets: KnowledgeBaseTarget[]; query: string; topK: number; scope: ReadScope; filters: SearchFilters | undefined; options: RetrieveOptions }
  | { kind: 'ask'; targets: KnowledgeBaseTarget[]; input: ThreadAskInput }
  | { kind: 'cancel'; of: number; targets: [] }
  | { kind: 'forget'; dataDir: string; targets: [] };

export type SerializedError = { code: ErrorCode; details: Record<string, unknown> } | { message: string };

export type QueryReply =
  | { id: number; type: 'result'; value: unknown }
  | { id: number; type: 'part'; part: AskPart & { timings?: AskTimings } }
  | { id: number; type: 'end' }
  | { id: number; type: 'error'; error: SerializedError };

interface Pending {
  onPart?: (part: AskPart & { timings?: AskTimings }) => void;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Thread {
  worker: Worker;
  pending: Map<number, Pending>;
}

export function errorOf(error: SerializedError): Error {
  return 'code' in error ? new KbError(error.code, error.details) : new Error(error.message);
}

export class QueryThreads {
  private readonly threads: Thread[] = [];
  private nextId = 0;
  private closed = false;
  /** Requests answered by the threads so far (for metrics and tests). */
  answered = 0;

  constructor(readonly count: number) {
    if (!Number.isInteger(count) || count < 1) throw new Error(`query threads must be a whole number from 1, not ${count}`);
    for (let index = 0; index < count; index++) this.threads.push(this.spawn());
  }

  private spawn(): Thread {
    const worker = new Worker(new URL('../worker-entry.mjs', import.meta.url), {
      workerData: { entry: siblingModule('./query-worker', import.meta.url).href, tokenizer: currentCjkTokenizer() },
    });
    const thread: Thread = { worker, pending: new Map() };
    worker.on('message', (reply: QueryReply) => {
      const pending = thread.pending.get(reply.id);
      if (!pending) return;
      if (reply.type === 'part') return pending.onPart?.(reply.part);
      thread.pending.delete(reply.id);
      this.answered++;
      if (reply.type === 'error') pending.reject(errorOf(reply.error));
      else pending.resolve(reply.type === 'result' ? reply.value : undefined);
    });
    const failed = (reason: string) => {
      for (const pending of thread.pending.values()) pending.reject(new Error(`a query thread stopped: ${reason}`));
      thread.pending.clear();
      if (this.closed) return;
      const index = this.threads.indexOf(thread);
      if (index >= 0) this.threads[index] = this.spawn();
    };
    worker.on('error', (error) => failed(error.message));
    worker.on('exit', (code) => {
      if (!this.closed) failed(`it exited with code ${code}`);
    });
    return thread;
  }

  private send(request: QueryRequest, onPart?: Pending['onPart'], thread = this.leastBusy(), sent?: (id: number, thread: Thread) => void): Promise<unknown> {
    if (this.closed) return Promise.reject(new KbError('KB_ERR_NOT_READY', { details: 'the server is shutting down' }));
    const id = this.nextId++;
    sent?.(id, thread);
    return new Promise((resolve, reject) => {
      thread.pending.set(id, { resolve, reject, ...(onPart ? { onPart } : {}) });
      thread.worker.postMessage({ id, request });
    });
  }

  private leastBusy(): Thread {
    let best = this.threads[0]!;
    for (const thread of this.threads) if (thread.pending.size < best.pending.size) best = thread;
    return best;
  }

  /** Closes every thread's view of a knowledge base whose folder is going away (a deleted collection). */
  async forget(dataDir: string): Promise<void> {
    await Promise.all(this.threads.map((thread) => this.send({ kind: 'forget', dataDir, targets: [] }, undefined, thread)));
  }

  /** Opens the knowledge bases in every thread now, so that the first queries do not wait for it. */
  async open(targets: KnowledgeBaseTarget[]): Promise<void> {
    await Promise.all(this.threads.map((thread) => this.send({ kind: 'open', targets }, undefined, thread)));
  }

  search(targets: KnowledgeBaseTarget[], query: string, topK: number, scope: ReadScope, filters: SearchFilters | undefined, options: RetrieveOptions): Promise<RetrievalResult> {
    return this.send({ kind: 'search', targets, query, topK, scope, filters, options }) as Promise<RetrievalResult>;
  }

  /**
   * The ask flow's parts as the thread yields them. The caller's signal, or the caller leaving the loop early (a
   * client that went away), cancels the thread's work (its LLM call).
   */
  async *askStream(targets: KnowledgeBaseTarget[], input: ThreadAskInput, signal?: AbortSignal): AsyncGenerator<AskPart & { timings?: AskTimings }> {
    const parts: (AskPart & { timings?: AskTimings })[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    let asked: { id: number; thread: Thread } | undefined;
    const cancel = () => {
      if (asked && asked.thread.pending.has(asked.id)) asked.thread.worker.postMessage({ id: this.nextId++, request: { kind: 'cancel', of: asked.id, targets: [] } });
    };
    signal?.addEventListener('abort', cancel, { once: true });
    const done = this.send(
      { kind: 'ask', targets, input },
      (part) => {
        parts.push(part);
        wake?.();
      },
      this.leastBusy(),
      (id, thread) => (asked = { id, thread }),
    ).then(
      () => {
        finished = true;
        wake?.();
      },
      (error: unknown) => {
        failure = error;
        finished = true;
        wake?.();
      },
    );
    try {
      while (true) {
        if (parts.length > 0) {
          yield parts.shift()!;
          continue;
        }
        if (finished) break;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
      await done;
      if (failure) throw failure;
    } finally {
      signal?.removeEventListener('abort', cancel);
      if (!finished) cancel();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.threads.map((thread) => thread.worker.terminate()));
  }
}
