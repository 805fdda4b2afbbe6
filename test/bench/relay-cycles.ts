/**
 * Relay benchmarks over real loopback gRPC, run by `relay.bench.ts`:
 *
 * - {@link benchRelayCycles}: full decision cycles (RouteDecision → live decision_event →
 *   decision_ack → decision_outcome) with a raw device stream.
 *   Targets: durable ≥ 0.5 × in-memory and ≥ 300 cycles/s.
 * - {@link benchManyDevices}: 1,000 subscribed device connections and 1,000 pending
 *   decisions, the relay in a child process. Targets: p95 delivery ≤ 50 ms, relay RSS ≤ 300 MB.
 *
 * The relay runs in a child process (fixtures/relay-child.ts), as it would beside real agents and
 * devices; its rate limits and quota are raised: they are what is being avoided, not measured.
 * @module
 */
import { type ChildProcess, fork } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { agent } from '@noxy-approval/proto';
import { RawAgent, RawGrpcDevice, syntheticDeviceKeys } from '@noxy-approval/testing';
import type { ChildStats } from './fixtures/relay-child.js';

/** Result of {@link benchRelayCycles}. */
export interface RelayCyclesResult {
  cycles: number;
  /** Cycles in flight at once. */
  concurrency: number;
  cyclesPerSecond: number;
  /** Median and 95th percentile of one full cycle, ms. */
  p50CycleMs: number;
  p95CycleMs: number;
  /** `journal_mode` / `synchronous` of the store used. */
  journalMode: string;
  synchronous: number;
}

/** Result of {@link benchManyDevices}. */
export interface ManyDevicesResult {
  /** Devices with a live subscription at the end. */
  devices: number;
  pendingDecisions: number;
  /** RouteDecisions in flight during the measurement. */
  concurrency: number;
  /** Resident set size of the relay process (a child; the clients are not counted), bytes. */
  rssBytes: number;
  p50DeliveryMs: number;
  p95DeliveryMs: number;
  maxDeliveryMs: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function connectDevice(
  grpcUrl: string,
  appId: string,
  secret: string,
  identityId: string,
  ownConnection: boolean,
): Promise<RawGrpcDevice> {
  const dev = new RawGrpcDevice(grpcUrl, appId, Date.now, { history: false, ownConnection });
  const keys = syntheticDeviceKeys();
  const reg = await dev.register(secret, { identityType: 'user_id', identityId, ...keys, deviceType: 'desktop' });
  if (reg.payload?.$case !== 'registerDevice')
    throw new Error(`bench device registration failed: ${JSON.stringify(reg.payload)}`);
  const sub = await dev.subscribe();
  if (sub.payload?.$case !== 'subscribeDecisions') throw new Error('bench device subscribe failed');
  return dev;
}

/**
 * Runs `cycles` full decision cycles — RouteDecision → live decision_event → decision_ack →
 * decision_outcome — `concurrency` at a time, against a relay in a child process on
 * `dataDir` (agents and devices are other processes than the relay in real use too). Every
 * outcome is checked in the relay's store afterwards.
 * @param options.dataDir a folder (durable, WAL + synchronous=FULL) or `':memory:'`
 * @param options.cycles measured cycles (after 5% warm-up)
 * @param options.concurrency cycles in flight at once (default 8)
 */
export async function benchRelayCycles(options: {
  dataDir: string;
  cycles: number;
  concurrency?: number;
}): Promise<RelayCyclesResult> {
  const cycles = options.cycles;
  const concurrency = options.concurrency ?? 8;
  if (!Number.isInteger(cycles) || cycles < 1) throw new RangeError('"cycles" expected a positive integer');
  const warmup = Math.max(10, Math.floor(cycles / 20));
  const { child, info } = await forkRelay(options.dataDir);
  const agentClient = new RawAgent(info.grpcUrl, info.appToken);
  const dev = await connectDevice(info.grpcUrl, info.appId, info.signingSecret, 'bench-user', false);
  try {
    const one = async (): Promise<number> => {
      const start = performance.now();
      const decisionId = randomUUID();
      const event = dev.nextEvent(decisionId, 10_000);
      const routed = await agentClient.route({ targetDeviceId: dev.deviceId!, decisionId });
      if (routed.status !== agent.DeliveryStatus.DELIVERED) throw new Error(`bench route status ${routed.status}`);
      await event;
      const ack = await dev.ack(decisionId);
      if (ack.payload?.$case !== 'decisionAck') throw new Error('bench ack refused');
      const answer = await dev.outcome(decisionId, 'APPROVE');
      if (answer.payload?.$case !== 'decisionOutcome') throw new Error('bench outcome refused');
      return performance.now() - start;
    };
    const run = async (n: number): Promise<number[]> => {
      const times: number[] = [];
      let next = 0;
      const worker = async () => {
        while (next < n) {
          next++;
          times.push(await one());
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, n) }, worker));
      return times;
    };
    await run(warmup);
    const start = performance.now();
    const times = (await run(cycles)).sort((a, b) => a - b);
    const seconds = (performance.now() - start) / 1000;
    const stats = await ask<ChildStats>(child, 'stats');
    if ((stats.decisions.APPROVED ?? 0) !== cycles + warmup) {
      throw new Error(`bench: ${stats.decisions.APPROVED ?? 0} approved decisions stored, expected ${cycles + warmup}`);
    }
    return {
      cycles,
      concurrency,
      cyclesPerSecond: cycles / seconds,
      p50CycleMs: percentile(times, 50),
      p95CycleMs: percentile(times, 95),
      journalMode: stats.journalMode,
      synchronous: stats.synchronous,
    };
  } finally {
    dev.close();
    agentClient.close();
    await stopRelay(child);
  }
}

interface ChildReady {
  ready: true;
  grpcUrl: string;
  appId: string;
  appToken: string;
  signingSecret: string;
}

// Forks fixtures/relay-child.ts under tsx, like the other benchmark fixtures.
function forkRelay(dataDir: string): Promise<{ child: ChildProcess; info: ChildReady }> {
  const script = fileURLToPath(new URL('./fixtures/relay-child.ts', import.meta.url));
  const child = fork(script, [dataDir], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('bench relay child did not start')), 30_000);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`bench relay child exited with ${code}`)));
    child.once('message', (m) => {
      clearTimeout(timer);
      resolve({ child, info: m as ChildReady });
    });
  });
}

async function stopRelay(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  await exited;
}

function ask<T>(child: ChildProcess, message: string): Promise<T> {
  return new Promise((resolve) => {
    child.once('message', (m) => resolve(m as T));
    child.send(message);
  });
}

/**
 * Connects `devices` subscribed devices (one TCP connection each) to a relay running in a
 * child process, then routes one pending decision to each — `concurrency` RouteDecisions in
 * flight — and measures the time from sending RouteDecision to the device receiving the
 * event. `rssBytes` is the relay process's resident memory with every device connected and
 * every decision pending.
 * @param options.devices number of devices (default 1,000)
 * @param options.dataDir store of the relay (default `':memory:'`)
 * @param options.concurrency RouteDecisions in flight (default 10)
 */
export async function benchManyDevices(
  options: { devices?: number; dataDir?: string; concurrency?: number } = {},
): Promise<ManyDevicesResult> {
  const count = options.devices ?? 1000;
  const concurrency = options.concurrency ?? 10;
  const { child, info } = await forkRelay(options.dataDir ?? ':memory:');
  const agentClient = new RawAgent(info.grpcUrl, info.appToken);
  const devices: RawGrpcDevice[] = [];
  try {
    for (let i = 0; i < count; i += 50) {
      const batch = Array.from({ length: Math.min(50, count - i) }, (_, j) =>
        connectDevice(info.grpcUrl, info.appId, info.signingSecret, `bench-user-${i + j}`, true),
      );
      devices.push(...(await Promise.all(batch)));
    }
    const latencies: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < devices.length) {
        const dev = devices[next++]!;
        const decisionId = randomUUID();
        const start = performance.now();
        const event = dev.nextEvent(decisionId, 10_000);
        const routed = await agentClient.route({ targetDeviceId: dev.deviceId!, decisionId, ttlSeconds: 3600 });
        if (routed.status !== agent.DeliveryStatus.DELIVERED) throw new Error(`bench route status ${routed.status}`);
        await event;
        latencies.push(performance.now() - start);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    latencies.sort((a, b) => a - b);
    const { rss, liveDevices } = await ask<ChildStats>(child, 'stats');
    return {
      devices: liveDevices,
      pendingDecisions: latencies.length,
      concurrency,
      rssBytes: rss,
      p50DeliveryMs: percentile(latencies, 50),
      p95DeliveryMs: percentile(latencies, 95),
      maxDeliveryMs: latencies[latencies.length - 1] ?? 0,
    };
  } finally {
    for (const dev of devices) dev.close();
    agentClient.close();
    await stopRelay(child);
  }
}
