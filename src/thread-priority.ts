// Background threads (OCR, parsing for an ingestion job) run at the lowest scheduling priority, so that a server's
// query threads get the cores first and background work takes what is left: on two cores, searching while a scan is
// read stayed within 2× of idle p99 only so (docs/EVALUATION.md, "OCR while serving").
import { readlinkSync } from 'node:fs';
import os from 'node:os';

/** Linux nice value of background threads: 19 is the lowest priority, which any process may give its own threads. */
const BACKGROUND_NICE = 19;

/**
 * Lowers the priority of the calling thread only. On Linux a thread has its own nice value, set through its thread
 * id (/proc/thread-self names it); elsewhere, or if refused, the thread keeps its priority.
 */
export function runInBackground(): void {
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(threadId) && threadId > 0) os.setPriority(threadId, BACKGROUND_NICE);
  } catch {
    // Not Linux, or not allowed: the work still runs, at normal priority.
  }
}
