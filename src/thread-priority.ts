// The OCR thread runs at a lower scheduling priority than the query threads, so that a server's searches get the
// cores first while a scan is read: on two cores, search p99 went past 2× of idle at normal priority
// (docs/EVALUATION.md, "OCR while serving").
import { readlinkSync } from 'node:fs';
import os from 'node:os';

/**
 * Linux nice value of background threads (0 normal .. 19 lowest; any process may lower its own threads). At 10 such a
 * thread gets about a tenth of a core that a busy normal thread also wants: the queries come first, and a scan still
 * advances on a saturated server (at 19 it got about 1.5%, and a job's pages waited behind every test of a CI run).
 */
const BACKGROUND_NICE = 10;

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
