/**
 * A virtual `Clock` for the agent client: `now()` is virtual, and every `sleep` jumps virtual
 * time forward to the earliest pending wake-up on the next macrotask, so minutes of waiting run
 * in milliseconds while the gRPC I/O stays on real timers.
 * @module
 */
import type { Clock } from '@noxy-approval/core';
import { NoxyError } from '@noxy-approval/core';

interface Timer {
  at: number;
  resolve(): void;
}

/** A clock that fast-forwards whenever someone sleeps. */
export class AutoClock implements Clock {
  /** Every sleep requested, in ms, in order. */
  readonly sleeps: number[] = [];
  private t: number;
  private timers: Timer[] = [];
  private scheduled = false;

  constructor(start = Date.UTC(2030, 0, 1)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      const abort = () => new NoxyError('ABORTED', 'operation aborted', { cause: signal?.reason });
      if (signal?.aborted) return reject(abort());
      const timer: Timer = {
        at: this.t + Math.max(0, ms),
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.timers = this.timers.filter((x) => x !== timer);
        reject(abort());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      if (this.timers.length === 0) return;
      const at = Math.min(...this.timers.map((x) => x.at));
      this.t = Math.max(this.t, at);
      const due = this.timers.filter((x) => x.at <= this.t);
      this.timers = this.timers.filter((x) => x.at > this.t);
      for (const x of due) x.resolve();
      if (this.timers.length > 0) this.schedule();
    });
  }
}
