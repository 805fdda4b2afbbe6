/**
 * Detection lag with the wait hint (docs/protocol.md §12.3), measured for real: the local relay
 * (in-memory store), one raw gRPC device and the core client in this process; 200 concurrent
 * waits, each decision answered by the device at its own time. Lag is the device's answer being
 * written → the wait resolving; polls per second per wait is the client's polls over each wait's
 * length. Used by detection-lag.bench.ts beside the simulated schedules on the same answer times.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { createNoxyClient } from '@noxy-approval/core';
import { startTestRelay } from '@noxy-approval/testing';

/** What one hinted run measured. */
export interface HintedRun {
  /** Per wait: answer written → outcome observed, s. */
  lags: number[];
  /** Per wait: polls made. */
  polls: number[];
  /** Per wait: wait start → observed, s. */
  durations: number[];
}

/**
 * Runs one wait per answer time (ms after the start), all at once.
 * @param answersMs when each decision is answered, ms after the waits start
 */
export async function measureHinted(answersMs: number[]): Promise<HintedRun> {
  // The harness's relay clock stands still, so its buckets never refill: make them hold
  // the whole run (routes, polls), which stays far below the default 200/s in rate anyway.
  const t = await startTestRelay({ rateLimits: { agentPerSecond: 20_000, devicePerSecond: 20_000 } });
  const identity = 'alice@example.com';
  const phone = await t.addDevice({ identityType: 'email', identityId: identity });
  const client = createNoxyClient({ endpoint: t.relay.grpcUrl, authToken: t.app.appToken, pollsPerSecond: 200 });
  const timers: ReturnType<typeof setTimeout>[] = [];
  try {
    const ids: string[] = [];
    for (let i = 0; i < answersMs.length; i++) {
      const decisionId = randomUUID();
      await t.agent.route({ targetDeviceId: phone.deviceId, decisionId, ttlSeconds: 900 });
      ids.push(decisionId);
    }
    await client.getQuota(); // the channel is up before the clock starts
    const start = performance.now();
    const answeredAt: number[] = [];
    const refused: string[] = [];
    const waits = ids.map(async (decisionId, i) => {
      timers.push(
        setTimeout(() => {
          answeredAt[i] = performance.now();
          phone.dev.outcome(decisionId, 'APPROVE').then(
            (r) => r.payload?.$case === 'error' && refused.push(JSON.stringify(r.payload.value)),
            (e: unknown) => refused.push(String(e)),
          );
        }, answersMs[i]),
      );
      // Bounded: a lost answer ends the run with an error instead of a hang.
      const result = await client.waitForDecisionOutcome({
        decisionId,
        identity,
        expiresAt: Date.now() + 900_000,
        maxWaitMs: answersMs[i]! + 30_000,
      });
      if (refused.length > 0) throw new Error(`the relay refused an answer: ${refused[0]}`);
      const observed = performance.now();
      if (result.outcome !== 'approved') throw new Error(`wait ${i} ended ${result.outcome}`);
      return { observed, polls: result.polls };
    });
    const results = await Promise.all(waits);
    return {
      lags: results.map((r, i) => (r.observed - answeredAt[i]!) / 1000),
      polls: results.map((r) => r.polls),
      durations: results.map((r) => (r.observed - start) / 1000),
    };
  } finally {
    for (const timer of timers) clearTimeout(timer);
    client.close();
    await t.close();
  }
}
