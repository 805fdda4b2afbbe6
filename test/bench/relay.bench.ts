/**
 * Relay figures (issue #4): full RouteDecision → delivery → ack → outcome cycles per second
 * with the durable SQLite store against the same with `:memory:` (target durable ≥ 0.5×, and
 * ≥ 300 cycles/s), and 1,000 connected devices with 1,000 pending decisions (p95 delivery
 * latency ≤ 50 ms, relay RSS ≤ 300 MB). The measuring code is in relay-cycles.ts
 * (`benchRelayCycles`, `benchManyDevices`); the relay runs in its own process.
 * @module
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { benchManyDevices, benchRelayCycles } from './relay-cycles.js';
import { report } from './report.js';

/** Runs the relay benchmarks. */
export async function benchRelay(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'noxy-bench-'));
  try {
    const memory = await benchRelayCycles({ dataDir: ':memory:', cycles: 2_000 });
    const durable = await benchRelayCycles({ dataDir: dir, cycles: 2_000 });
    console.log(
      `      durable store: journal_mode=${durable.journalMode} synchronous=${durable.synchronous}, ` +
        `p95 cycle ${durable.p95CycleMs.toFixed(1)} ms`,
    );
    report({
      name: 'relay full cycles/s, durable SQLite store',
      value: durable.cyclesPerSecond,
      unit: 'cycles/s',
      baseline: { label: ':memory: store', value: memory.cyclesPerSecond },
      target: '≥ 0.5× in-memory and ≥ 300 cycles/s',
      ok: durable.cyclesPerSecond >= 0.5 * memory.cyclesPerSecond && durable.cyclesPerSecond >= 300,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const many = await benchManyDevices({ devices: 1_000 });
  report({
    name: `p95 delivery latency, ${many.devices} devices + ${many.pendingDecisions} pending`,
    value: many.p95DeliveryMs,
    unit: 'ms',
    baseline: { label: 'p50', value: many.p50DeliveryMs },
    target: '≤ 50 ms',
    ok: many.p95DeliveryMs <= 50,
  });
  report({
    name: 'relay RSS with 1,000 devices',
    value: many.rssBytes / 2 ** 20,
    unit: 'MiB',
    target: '≤ 300 MB',
    ok: many.rssBytes <= 300e6,
  });
}
