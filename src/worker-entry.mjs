// The entry of every worker thread: the TypeScript sources run through tsx's loader, which the main thread's
// `--import tsx` does not give to workers (Node 20), so each worker registers it before importing its module.
import { workerData } from 'node:worker_threads';

const { entry } = workerData;
if (entry.endsWith('.ts')) {
  const { register } = await import('tsx/esm/api');
  register();
}
await import(entry);
