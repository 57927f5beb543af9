// A concurrency limit with a bounded queue: at most `concurrency` holders at once, at most `queue` waiting; beyond
// that, callers are told at once (the HTTP layer answers 503 with Retry-After) instead of piling up.
import { KbError } from './errors.ts';

export class ConcurrencyLimit {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    /** Holders at once (1..256). */
    private readonly concurrency: number,
    /** Callers allowed to wait (0..10000). */
    private readonly queue: number,
    /** What is limited, for the error message. */
    private readonly name: string,
    /** Retry-After suggested when full (seconds). */
    private readonly retryAfterSeconds = 5,
  ) {}

  get full(): boolean {
    return this.active >= this.concurrency && this.waiting.length >= this.queue;
  }

  /** Throws KB_ERR_BUSY (503 with Retry-After) when a caller would be refused now. */
  assertAvailable(): void {
    if (this.full) {
      throw new KbError('KB_ERR_BUSY', { details: `Too many ${this.name} in progress.`, retryAfter: this.retryAfterSeconds }, { extra: { retryAfter: this.retryAfterSeconds }, retryable: true });
    }
  }

  /** Waits for a slot and returns its release function; throws KB_ERR_BUSY when the queue is full. */
  async acquire(): Promise<() => void> {
    this.assertAvailable();
    if (this.active >= this.concurrency) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.waiting.shift()?.();
    };
  }
}
