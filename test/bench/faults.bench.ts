/**
 * The fault suite's figures (issue 13 "Performance"), each against a baseline of the same run:
 * - recovery after a relay kill: `noxy-relay start` (own process, file store) is SIGKILLed and
 *   restarted on the same port and data folder; the time from its "ready" line to the agent
 *   client's own channel answering again — baseline: a new client's first call to a running
 *   relay; target ≤ 5 s;
 * - p99 GetQuota latency through the TCP fault proxy's latency toxic (50 ± 20 ms per chunk,
 *   both ways) — baseline: the same calls direct; target: p99 ≤ direct p99 + 2 × 70 ms + 20 ms.
 * (The relay's RSS under the slow-consumer attack is the `slow-device` bench.)
 * @module
 */
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { startFaultProxy } from '@noxy-approval/testing';
import { ChildRelay } from '../faults/child-relay.js';
import { median, quantile, report } from './report.js';

const KILLS = 5;
const CALLS = 400;
const CONCURRENCY = 4;
// Each worker pauses between calls: the relay allows 200 agent calls/s per app (docs/protocol.md §4.4).
const PAUSE_MS = 25;
const LATENCY_MS = 50;
const JITTER_MS = 20;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function untilAnswered(client: NoxyClient): Promise<number> {
  const start = performance.now();
  for (let n = 0; n < 500; n++) {
    if (
      await client.getQuota().then(
        () => true,
        () => false,
      )
    )
      return performance.now() - start;
    await sleep(10);
  }
  throw new Error('the relay did not answer within 500 tries');
}

/** `CALLS` GetQuota calls, `CONCURRENCY` at a time (paced under the rate limit); their latencies in ms. */
async function latencies(client: NoxyClient): Promise<number[]> {
  const out: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next++ < CALLS) {
        const t = performance.now();
        await client.getQuota();
        out.push(performance.now() - t);
        await sleep(PAUSE_MS);
      }
    }),
  );
  return out;
}

/** Runs the fault-suite benchmarks. */
export async function benchFaults(): Promise<void> {
  const relay = await ChildRelay.create('bench-faults', { trace: false });
  try {
    await relay.start();
    const endpoint = relay.grpcUrl;
    const token = relay.app.appToken;

    // Baseline: a new client's first answered call (connect + TLS-less handshake + the RPC).
    const firsts: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      const fresh = createNoxyClient({ endpoint, authToken: token });
      firsts.push(await untilAnswered(fresh));
      fresh.close();
    }
    const client = createNoxyClient({ endpoint, authToken: token });
    await client.getQuota();
    const recoveries: number[] = [];
    for (let i = 0; i < KILLS; i++) {
      await relay.kill();
      await sleep(200);
      await relay.start();
      recoveries.push(await untilAnswered(client));
    }
    report({
      name: `recovery after a relay SIGKILL + restart (median of ${KILLS})`,
      value: median(recoveries),
      unit: 'ms',
      baseline: { label: 'first call of a new client', value: median(firsts) },
      target: '≤ 5,000 ms',
      ok: median(recoveries) <= 5_000,
    });
    report({
      name: 'recovery, worst',
      value: Math.max(...recoveries),
      unit: 'ms',
      baseline: { label: 'first call of a new client', value: median(firsts) },
      target: '≤ 5,000 ms',
      ok: Math.max(...recoveries) <= 5_000,
    });

    const direct = await latencies(client);
    const proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port: relay.grpcPort },
      toxics: { latencyMs: LATENCY_MS, jitterMs: JITTER_MS },
    });
    const proxied = createNoxyClient({ endpoint: proxy.endpoint, authToken: token });
    await proxied.getQuota();
    const slow = await latencies(proxied);
    proxied.close();
    await proxy.close();
    client.close();
    const p99Direct = quantile(direct, 0.99);
    const p99Slow = quantile(slow, 0.99);
    const bound = p99Direct + 2 * (LATENCY_MS + JITTER_MS) + 20;
    report({
      name: `GetQuota p99 through the latency toxic (${LATENCY_MS} ± ${JITTER_MS} ms per chunk)`,
      value: p99Slow,
      unit: 'ms',
      baseline: { label: 'direct p99', value: p99Direct },
      target: `≤ ${bound.toFixed(0)} ms (direct p99 + 2 × ${LATENCY_MS + JITTER_MS} ms + 20 ms)`,
      ok: p99Slow <= bound,
    });
  } finally {
    await relay.dispose();
  }
}
