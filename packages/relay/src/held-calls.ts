/**
 * Held `GetDecisionOutcome` calls: the relay side of the wait hint (docs/protocol.md §12).
 *
 * A call that carries `noxy-wait-ms: N` for a decision that is still pending is not answered at
 * once: it waits until the decision closes (its waiter is woken by the engine, see
 * outcome-waiters.ts) or N ms pass, then is answered as any other call. Thousands of calls may be
 * held, so a held call costs a map entry and a heap entry, no timer of its own: one timer, armed
 * for the earliest deadline, serves them all. Every trace of a call (waiter, heap entry, cancel
 * listener, slot) is gone when it is answered, cancelled by the client, or answered at shutdown.
 * @module
 */
import type { OutcomeWaiter, OutcomeWaiters } from './outcome-waiters.js';
import type { SlotLimiter } from './rate-limit.js';

/** The request metadata of the wait hint, and the response header that says the relay honours it. */
export const WAIT_HINT_HEADER = 'noxy-wait-ms';
/** Longest hold a client may ask for, ms. */
export const MAX_WAIT_HINT_MS = 25_000;

/** What a held call needs from its gRPC call: the client's cancellation. */
export interface CancellableCall {
  on(event: 'cancelled', listener: () => void): unknown;
  off(event: 'cancelled', listener: () => void): unknown;
}

/** One deadline in the {@link DeadlineQueue}. */
interface Deadline {
  at: number;
  fire: () => void;
  done: boolean;
}

/**
 * Deadlines served by one timer: a binary min-heap by time, with cancelled entries dropped lazily
 * (and the heap compacted when they are the majority, so it stays the size of what is live).
 */
export class DeadlineQueue {
  readonly #now: () => number;
  #heap: Deadline[] = [];
  #live = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #timerAt = Infinity;

  /** @param now a monotonic clock, ms (default `performance.now`) */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Live deadlines. */
  get size(): number {
    return this.#live;
  }

  /** Calls `fire` once, `ms` from now, unless cancelled first. */
  add(ms: number, fire: () => void): Deadline {
    const entry: Deadline = { at: this.#now() + ms, fire, done: false };
    this.#push(entry);
    this.#live++;
    this.#arm();
    return entry;
  }

  /** Cancels a deadline (idempotent). */
  cancel(entry: Deadline): void {
    if (entry.done) return;
    entry.done = true;
    this.#live--;
    if (this.#heap.length > 64 && this.#live < this.#heap.length / 2) {
      this.#heap = this.#heap.filter((e) => !e.done);
      this.#heapify();
    }
    if (this.#live === 0) this.#disarm();
  }

  /** Cancels every deadline without firing it. */
  clear(): void {
    for (const e of this.#heap) e.done = true;
    this.#heap = [];
    this.#live = 0;
    this.#disarm();
  }

  #arm(): void {
    while (this.#heap[0]?.done) this.#pop();
    const top = this.#heap[0];
    if (!top) return this.#disarm();
    if (this.#timer !== undefined && this.#timerAt <= top.at) return;
    this.#disarm();
    this.#timerAt = top.at;
    this.#timer = setTimeout(() => this.#fire(), Math.max(0, Math.ceil(top.at - this.#now())));
    // Held calls keep their own sockets open; this timer must not keep a closing process alive.
    this.#timer.unref?.();
  }

  #disarm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
  }

  #fire(): void {
    // Everything the timer was armed for is due when it fires, whatever the clock says: timers
    // and clock may disagree (fake timers in tests, a clock read a little early).
    const now = Math.max(this.#now(), this.#timerAt);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    // Bounded by the heap's size: each pass removes one entry.
    for (let top = this.#heap[0]; top && top.at <= now; top = this.#heap[0]) {
      this.#pop();
      if (top.done) continue;
      top.done = true;
      this.#live--;
      top.fire();
    }
    this.#arm();
  }

  #push(entry: Deadline): void {
    const h = this.#heap;
    h.push(entry);
    for (let i = h.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop();
    if (h.length === 0 || !last) return;
    h[0] = last;
    this.#siftDown(0);
  }

  #siftDown(start: number): void {
    const h = this.#heap;
    for (let i = start; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.at < h[m]!.at) m = l;
      if (r < h.length && h[r]!.at < h[m]!.at) m = r;
      if (m === i) return;
      [h[m], h[i]] = [h[i]!, h[m]!];
      i = m;
    }
  }

  #heapify(): void {
    for (let i = (this.#heap.length >> 1) - 1; i >= 0; i--) this.#siftDown(i);
  }
}

/** One call to hold. */
export interface HoldRequest {
  appId: string;
  /** The decision, from `decisionKeyString`. */
  decision: string;
  /** How long to hold at most, ms. */
  ms: number;
  call: CancellableCall;
  /** Answers the call with the then-current outcome; called once, unless the client cancelled. */
  answer: () => void;
}

interface Held extends OutcomeWaiter {
  request: HoldRequest;
  deadline: Deadline | undefined;
  onCancel: () => void;
}

/** The held calls of one relay. */
export class HeldCalls {
  readonly #waiters: OutcomeWaiters;
  readonly #slots: SlotLimiter;
  readonly #deadlines: DeadlineQueue;
  readonly #held = new Set<Held>();
  #closed = false;

  /**
   * @param waiters the engine's change notification
   * @param slots caps per app and in all (rate-limit.ts)
   * @param deadlines the shared timer (injectable for tests)
   */
  constructor(waiters: OutcomeWaiters, slots: SlotLimiter, deadlines = new DeadlineQueue()) {
    this.#waiters = waiters;
    this.#slots = slots;
    this.#deadlines = deadlines;
  }

  /** Calls held now. */
  get size(): number {
    return this.#held.size;
  }

  /**
   * Holds a call until its decision closes, `ms` pass, or the relay closes.
   * @returns false (nothing held: answer at once) when closing or over a cap
   */
  hold(request: HoldRequest): boolean {
    if (this.#closed || !this.#slots.take(request.appId)) return false;
    const held: Held = {
      request,
      deadline: undefined,
      wake: () => this.#release(held, true),
      onCancel: () => this.#release(held, false),
    };
    this.#held.add(held);
    this.#waiters.add(request.decision, held);
    held.deadline = this.#deadlines.add(request.ms, held.wake);
    request.call.on('cancelled', held.onCancel);
    return true;
  }

  /** Answers every held call now and holds no more (relay shutdown). */
  close(): void {
    this.#closed = true;
    for (const held of [...this.#held]) this.#release(held, true);
    this.#deadlines.clear();
  }

  #release(held: Held, answer: boolean): void {
    if (!this.#held.delete(held)) return;
    const { request } = held;
    this.#waiters.remove(request.decision, held);
    if (held.deadline) this.#deadlines.cancel(held.deadline);
    request.call.off('cancelled', held.onCancel);
    this.#slots.release(request.appId);
    if (answer) request.answer();
  }
}

/**
 * Reads the hint from request metadata values.
 * @returns the hint in ms, or undefined when absent
 * @throws Error naming the header and what it expects, for a value that is not 0…25,000
 */
export function parseWaitHint(values: ReadonlyArray<string | Buffer>): number | undefined {
  if (values.length === 0) return undefined;
  const raw = values.length === 1 && typeof values[0] === 'string' ? values[0].trim() : undefined;
  if (raw === undefined || !/^\d{1,5}$/.test(raw) || Number(raw) > MAX_WAIT_HINT_MS) {
    throw new WaitHintError(
      `"${WAIT_HINT_HEADER}" metadata expected one integer 0..${MAX_WAIT_HINT_MS} (ms to hold a pending answer); ` +
        'send it once, or leave it out to be answered at once',
    );
  }
  return Number(raw);
}

/** A malformed wait hint (answered INVALID_ARGUMENT). */
export class WaitHintError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WaitHintError';
  }
}
