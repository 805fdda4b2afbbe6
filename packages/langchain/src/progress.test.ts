import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createProgress, PROGRESS_INTERVAL_MS, type ApprovalProgressEvent } from './progress.js';

describe('createProgress', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('first event at the first poll, then one per interval however rare the polls, then the outcome', () => {
    const events: ApprovalProgressEvent[] = [];
    const p = createProgress((e) => events.push(e as ApprovalProgressEvent), 'transfer_funds', 'call_1', Date.now);
    expect(events).toEqual([]);
    p.onPoll({ polls: 1, outcome: 'pending', elapsedMs: 0 });
    expect(events).toMatchObject([{ type: 'noxy_approval', status: 'waiting', polls: 1, toolCallId: 'call_1' }]);
    // Polls in between do not add events: the timer alone paces them.
    p.onPoll({ polls: 2, outcome: 'pending', elapsedMs: 300 });
    expect(events).toHaveLength(1);
    vi.advanceTimersByTime(PROGRESS_INTERVAL_MS * 3);
    expect(events).toHaveLength(4);
    expect(events.map((e) => e.elapsedMs)).toEqual([0, 10_000, 20_000, 30_000]);
    p.finish('approved');
    expect(events.at(-1)).toMatchObject({ status: 'decided', outcome: 'approved' });
    vi.advanceTimersByTime(PROGRESS_INTERVAL_MS * 3);
    expect(events).toHaveLength(5);
  });

  it('without a writer nothing is scheduled; a throwing writer is ignored', () => {
    const silent = createProgress(null, 't', undefined);
    silent.onPoll({ polls: 1, outcome: 'pending', elapsedMs: 0 });
    expect(vi.getTimerCount()).toBe(0);
    const broken = createProgress(
      () => {
        throw new Error('stream closed');
      },
      't',
      undefined,
    );
    expect(() => broken.onPoll({ polls: 1, outcome: 'pending', elapsedMs: 0 })).not.toThrow();
    broken.finish('rejected');
    expect(vi.getTimerCount()).toBe(0);
  });
});
