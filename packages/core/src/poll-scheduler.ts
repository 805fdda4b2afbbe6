/**
 * The per-client poll budget (docs/protocol.md §4.3): a token bucket shared by every wait of one client,
 * so a thousand concurrent waits stay inside the relay's per-app rate limit (200 msg/s,
 * docs/protocol.md §4.4) instead of each polling on its own. Waiters are served first come, first
 * served; an aborted waiter leaves the queue at once.
 * @module
 */
import type { Clock } from './clock.js';
import { abortError } from './errors.js';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/** A FIFO token bucket of polls per second. */
export class PollScheduler {
  private tokens: number;
  private last: number;
  private readonly queue: Waiter[] = [];
  private draining = false;
  private readonly burst: number;

  /**
   * @param pollsPerSecond sustained budget for the whole client
   * @param clock time source (fake in tests, virtual in benchmarks)
   */
  constructor(
    private readonly pollsPerSecond: number,
    private readonly clock: Clock,
  ) {
    this.burst = Math.max(1, Math.ceil(pollsPerSecond));
    this.tokens = this.burst;
    this.last = clock.now();
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.pollsPerSecond);
    this.last = now;
  }

  /** Resolves when this caller may poll; rejects with `ABORTED` if `signal` fires first. */
  acquire(signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortError(signal));
    this.refill();
    if (this.queue.length === 0 && this.tokens >= 1) {
      this.tokens -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        signal,
        onAbort: () => {
          const i = this.queue.indexOf(waiter);
          if (i >= 0) this.queue.splice(i, 1);
          reject(abortError(signal));
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
      void this.drain();
    });
  }

  private async drain(): Promise<void> {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        this.refill();
        if (this.tokens < 1) {
          await this.clock.sleep(((1 - this.tokens) / this.pollsPerSecond) * 1000);
          continue;
        }
        const waiter = this.queue.shift()!;
        this.tokens -= 1;
        waiter.signal?.removeEventListener('abort', waiter.onAbort);
        waiter.resolve();
      }
    } finally {
      this.draining = false;
    }
  }

  /** Rejects every queued waiter (client closed). */
  close(reason: unknown): void {
    for (const waiter of this.queue.splice(0)) {
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(reason);
    }
  }
}
