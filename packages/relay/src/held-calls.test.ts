import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DeadlineQueue, HeldCalls, MAX_WAIT_HINT_MS, parseWaitHint, WaitHintError } from './held-calls.js';
import { decisionKeyString, OutcomeWaiters } from './outcome-waiters.js';
import { SlotLimiter } from './rate-limit.js';

const key = (decisionId: string, appId = 'app-1') => ({ appId, decisionId, identityId: 'alice@example.com' });

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('DeadlineQueue', () => {
  it('fires each deadline once, in time order, on one timer; a cancelled one never fires', () => {
    const q = new DeadlineQueue(() => Date.now());
    const fired: number[] = [];
    const entries = [300, 100, 200, 100, 50].map((ms, i) => q.add(ms, () => fired.push(i)));
    q.cancel(entries[2]!);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(99);
    expect(fired).toEqual([4]);
    vi.advanceTimersByTime(1);
    expect(fired.sort()).toEqual([1, 3, 4]);
    vi.advanceTimersByTime(1_000);
    expect(fired.sort()).toEqual([0, 1, 3, 4]);
    expect(q.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('10,000 deadlines cancelled at random keep one timer, and nothing live once all are gone', () => {
    const q = new DeadlineQueue(() => Date.now());
    let fired = 0;
    const entries = Array.from({ length: 10_000 }, (_, i) => q.add(1 + ((i * 7919) % 25_000), () => fired++));
    for (const [i, e] of entries.entries()) if (i % 3 !== 0) q.cancel(e);
    expect(q.size).toBe(3_334);
    expect(vi.getTimerCount()).toBe(1);
    vi.advanceTimersByTime(25_001);
    expect(fired).toBe(3_334);
    expect(q.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });
});

class FakeCall extends EventEmitter {}

function setup(perApp = 100, total = 1_000) {
  const waiters = new OutcomeWaiters();
  const slots = new SlotLimiter(perApp, total);
  const held = new HeldCalls(waiters, slots, new DeadlineQueue(() => Date.now()));
  const hold = (decisionId: string, ms: number, appId = 'app-1') => {
    const call = new FakeCall();
    const answers: number[] = [];
    const ok = held.hold({
      appId,
      decision: decisionKeyString(key(decisionId, appId)),
      ms,
      call,
      answer: () => answers.push(Date.now()),
    });
    return { ok, call, answers };
  };
  return { waiters, slots, held, hold };
}

describe('HeldCalls', () => {
  it('a decision that closes wakes each of its calls exactly once, and leaves no waiter, timer or listener', () => {
    const { waiters, slots, held, hold } = setup();
    const calls = [hold('d1', 20_000), hold('d1', 10_000), hold('d2', 20_000)];
    expect(calls.every((c) => c.ok)).toBe(true);
    expect(waiters.decisions).toBe(2);
    expect(vi.getTimerCount()).toBe(1);
    waiters.wake(key('d1'));
    waiters.wake(key('d1')); // a second notification finds nobody
    expect(calls.map((c) => c.answers.length)).toEqual([1, 1, 0]);
    expect(calls[0]!.call.listenerCount('cancelled')).toBe(0);
    expect(held.size).toBe(1);
    expect(slots.size).toBe(1);
    vi.advanceTimersByTime(20_000);
    expect(calls.map((c) => c.answers.length)).toEqual([1, 1, 1]);
    expect(held.size).toBe(0);
    expect(waiters.decisions).toBe(0);
    expect(slots.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a call cancelled by its client is dropped at once and never answered', () => {
    const { waiters, held, hold } = setup();
    const c = hold('d1', 20_000);
    c.call.emit('cancelled');
    expect(held.size).toBe(0);
    expect(waiters.decisions).toBe(0);
    expect(c.call.listenerCount('cancelled')).toBe(0);
    waiters.wake(key('d1'));
    vi.advanceTimersByTime(30_000);
    expect(c.answers).toEqual([]);
  });

  it('answers at the hold’s end when nothing happens, not before', () => {
    const { hold } = setup();
    const start = Date.now();
    const c = hold('d1', 1_500);
    vi.advanceTimersByTime(1_499);
    expect(c.answers).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(c.answers).toEqual([start + 1_500]);
  });

  it('refuses to hold past an app’s slots or the total, so one app cannot take every slot', () => {
    const { held, hold } = setup(2, 3);
    expect([hold('a', 1_000).ok, hold('b', 1_000).ok, hold('c', 1_000).ok]).toEqual([true, true, false]);
    expect(hold('x', 1_000, 'app-2').ok).toBe(true);
    expect(hold('y', 1_000, 'app-3').ok).toBe(false); // the total
    vi.advanceTimersByTime(1_000);
    expect(held.size).toBe(0);
    expect(hold('c', 1_000).ok).toBe(true); // slots come back
  });

  it('close() answers every held call now and holds no more', () => {
    const { held, hold } = setup();
    const calls = Array.from({ length: 50 }, (_, i) => hold(`d${i % 5}`, 20_000));
    held.close();
    expect(calls.every((c) => c.answers.length === 1)).toBe(true);
    expect(held.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(hold('d1', 20_000).ok).toBe(false);
  });
});

describe('parseWaitHint', () => {
  it('reads 0 … 25,000 and nothing when absent', () => {
    expect(parseWaitHint([])).toBeUndefined();
    expect(parseWaitHint(['0'])).toBe(0);
    expect(parseWaitHint([' 1500 '])).toBe(1_500);
    expect(parseWaitHint([String(MAX_WAIT_HINT_MS)])).toBe(MAX_WAIT_HINT_MS);
  });

  it('refuses anything else, naming the header and the range', () => {
    for (const bad of [['25001'], ['-1'], ['1.5'], ['soon'], [''], ['1', '2'], [Buffer.from('1')]]) {
      expect(() => parseWaitHint(bad), String(bad)).toThrow(WaitHintError);
      expect(() => parseWaitHint(bad)).toThrow(/"noxy-wait-ms" metadata expected one integer 0\.\.25000/);
    }
  });
});
