/**
 * The one manual clock of the tests and benchmarks: a virtual {@link Clock} (core's interface)
 * that never reads the system time. Time moves when a test calls {@link ManualClock.advance},
 * and, unless `autoAdvance` is off, whenever someone sleeps on it: on the next macrotask the
 * clock jumps to the earliest pending wake-up, so minutes of an agent client's waiting run in
 * milliseconds while its gRPC I/O stays on real timers. `now` is a bound function, so it can be
 * handed as is to a relay (`RelayOptions.now`), a raw device or a test server.
 * @module
 */
import { type Clock, NoxyError } from '@noxy-approval/core';

/** Options of {@link ManualClock}. */
export interface ManualClockOptions {
  /** The first reading, ms since the epoch (default 2030-01-01T00:00:00Z). */
  start?: number;
  /**
   * Jump to the earliest pending wake-up on the next macrotask after every `sleep` (default
   * true). Off, sleepers wake only when {@link ManualClock.advance} passes their time.
   */
  autoAdvance?: boolean;
}

interface Sleeper {
  at: number;
  wake(): void;
}

/** A virtual clock that only moves when told, or (by default) when someone sleeps on it. */
export class ManualClock implements Clock {
  /** Every sleep requested, in ms, in order. */
  readonly sleeps: number[] = [];
  #t: number;
  #sleepers: Sleeper[] = [];
  #scheduled = false;
  readonly #autoAdvance: boolean;

  /** @param options start time and whether sleeps fast-forward */
  constructor(options: ManualClockOptions = {}) {
    this.#t = options.start ?? Date.UTC(2030, 0, 1);
    this.#autoAdvance = options.autoAdvance ?? true;
  }

  /** The virtual time, ms since the epoch. Bound: `const now = clock.now` works. */
  readonly now = (): number => this.#t;

  /** Sleeps still waiting for their wake-up. */
  get pendingSleeps(): number {
    return this.#sleepers.length;
  }

  /**
   * Moves virtual time forward by `ms` and wakes every sleeper whose time has come, earliest
   * first.
   * @param ms a non-negative number of milliseconds
   */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`advance expected a non-negative number of ms, got ${ms}`);
    this.#t += ms;
    this.#wakeDue();
  }

  /**
   * Resolves once virtual time reaches now + `ms`; rejects with a `NoxyError` `ABORTED` (as
   * core's system clock does) as soon as `signal` fires.
   * @param ms how long to sleep, in virtual ms (negative counts as 0)
   * @param signal cancels the sleep
   */
  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    this.sleeps.push(ms);
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const sleeper: Sleeper = {
        at: this.#t + Math.max(0, ms),
        wake: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.#sleepers = this.#sleepers.filter((s) => s !== sleeper);
        reject(abortError(signal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
      if (this.#autoAdvance) this.#schedule();
    });
  }

  #wakeDue(): void {
    const due = this.#sleepers.filter((s) => s.at <= this.#t).sort((a, b) => a.at - b.at);
    this.#sleepers = this.#sleepers.filter((s) => s.at > this.#t);
    for (const s of due) s.wake();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      if (this.#sleepers.length === 0) return;
      this.#t = Math.max(this.#t, Math.min(...this.#sleepers.map((s) => s.at)));
      this.#wakeDue();
      if (this.#sleepers.length > 0) this.#schedule();
    });
  }
}

/** The rejection of an aborted sleep, worded like core's. */
function abortError(signal: AbortSignal | undefined): NoxyError {
  const reason: unknown = signal?.reason;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
  return new NoxyError('ABORTED', `operation aborted: ${why}`, { cause: reason });
}
