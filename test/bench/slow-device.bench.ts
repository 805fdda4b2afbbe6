/**
 * The slow-consumer attack of issue 13 item 1, against `noxy-relay start` in its own process
 * (durable store in a temporary folder): one device holds 5 gRPC streams that subscribe and then
 * never read, while an agent routes 600 decisions of 512 KiB to it. Printed beside their
 * targets, each against a baseline of the same run:
 * - the relay's peak resident memory (Linux `VmHWM`) — baseline: the idle relay; target ≤ 300 MB;
 * - another app's GetQuota p99 during the attack — baseline: the same calls without the attack;
 *   target ≤ 50 ms. That app calls from a process of its own (fixtures/quota-probe.ts): in the
 *   bench's process its latencies included the bench's own pauses (building and sending the
 *   attacker's envelopes on the same event loop), which no real client of the relay shares.
 *   Also printed: the p99 while the same 600 decisions go to a device that is not connected,
 *   i.e. what the write load alone costs, without any slow stream.
 *
 * The attacker is patient and well behaved: refused by the app's byte budget (rate-limit.ts,
 * 15.6 MiB/s of envelopes at the default rate) it waits the pushback and sends again, so each
 * phase lasts ~20 s. What the bystander still waits for is one commit's WAL sync (~520 KiB)
 * on the event loop; checkpoints run in a worker thread (store/checkpointer.ts).
 * @module
 */
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { status } from '@grpc/grpc-js';
import { createApp, RelayStore } from '@noxy-approval/relay';
import { fakeEnvelope, RawAgent, RawGrpcDevice, syntheticDeviceKeys } from '@noxy-approval/testing';
import { quantile, report } from './report.js';

const DECISIONS = 600;
const DECISION_BYTES = 512 << 10;
const STREAMS = 5;
const MB = 1e6;

const bin = fileURLToPath(new URL('../../packages/relay/bin/noxy-relay.js', import.meta.url));
const probeScript = fileURLToPath(new URL('./fixtures/quota-probe.ts', import.meta.url));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// Resident memory of a process from /proc (kB → bytes): now, and the peak so far.
function memoryOf(pid: number): { rss: number; peak: number } {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? Number.NaN) * 1024;
  return { rss: kb('VmRSS'), peak: kb('VmHWM') };
}

async function startCli(data: string): Promise<{ child: ChildProcess; grpcUrl: string }> {
  const child = spawn(
    process.execPath,
    [bin, 'start', '--data', data, '--grpc-port', '0', '--http-port', '0', '--log-level', 'error'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  for (let i = 0; i < 600; i++) {
    const grpcUrl = /^grpc\s+(\S+)$/m.exec(out)?.[1];
    if (grpcUrl) return { child, grpcUrl };
    if (child.exitCode !== null) break;
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`noxy-relay did not start: ${out}`);
}

/** The bystander app's GetQuota caller, in its own process (fixtures/quota-probe.ts). */
interface Probe {
  /** Latencies (ms) of `calls` calls one after the other, `gapMs` apart, or until `stop()`. */
  run(calls: number, gapMs: number): Promise<number[]>;
  stop(): void;
  close(): void;
}

async function startProbe(grpcUrl: string, token: string): Promise<Probe> {
  const child = fork(probeScript, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, PROBE_GRPC_URL: grpcUrl, PROBE_TOKEN: token },
  });
  const next = () =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const onExit = () => reject(new Error('quota probe exited'));
      child.once('exit', onExit);
      child.once('message', (m) => {
        child.off('exit', onExit);
        resolve(m as Record<string, unknown>);
      });
    });
  await next(); // ready
  return {
    async run(calls, gapMs) {
      const answer = next();
      child.send({ run: { calls, gapMs } });
      return (await answer).latencies as number[];
    },
    stop: () => child.send('stop'),
    close: () => {
      if (child.connected) child.send('exit');
      setTimeout(() => child.kill('SIGKILL'), 2_000).unref();
    },
  };
}

// Routes one decision, waiting out the app's rate limit and byte budget as the pushback says
// (the attacker is patient: that is its fastest way through).
async function routePatiently(a: RawAgent, deviceId: string): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    try {
      await a.route({ targetDeviceId: deviceId, ttlSeconds: 3600, ...fakeEnvelope(DECISION_BYTES) });
      return;
    } catch (error) {
      const e = error as { code?: number; metadata?: { get(key: string): unknown[] } };
      if (e.code !== status.RESOURCE_EXHAUSTED) throw error;
      const pushback = Number(e.metadata?.get('grpc-retry-pushback-ms')[0]);
      await sleep(Number.isFinite(pushback) && pushback > 0 ? Math.min(pushback, 1_000) : 50);
    }
  }
  throw new Error('RouteDecision stayed rate limited for 200 attempts');
}

// Routes DECISIONS decisions to `deviceId` (4 in flight) while the bystander measures GetQuota;
// returns its latencies and the relay's highest sampled RSS meanwhile.
async function underLoad(pid: number, attacker: RawAgent, bystander: Probe, deviceId: string) {
  let peak = memoryOf(pid).rss;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memoryOf(pid).rss);
  }, 100);
  const attack = (async () => {
    let next = 0;
    const worker = async () => {
      while (next < DECISIONS) {
        next++;
        await routePatiently(attacker, deviceId);
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    await sleep(1_000); // let the relay write (or refuse) what it queued
  })();
  const measuring = bystander.run(100_000, 10);
  await attack;
  bystander.stop();
  const latencies = await measuring;
  clearInterval(sampler);
  return { latencies, peak: Math.max(peak, memoryOf(pid).rss) };
}

async function registerDevice(grpcUrl: string, app: { appId: string; signingSecret: string }, identity: string) {
  const keys = syntheticDeviceKeys();
  const dev = new RawGrpcDevice(grpcUrl, app.appId, Date.now, { ownConnection: true });
  const reg = await dev.register(app.signingSecret, {
    identityType: 'email',
    identityId: identity,
    ...keys,
    deviceType: 'telegram',
  });
  if (reg.payload?.$case !== 'registerDevice') throw new Error('registration failed');
  return { dev, keys, deviceId: reg.payload.value.deviceId };
}

/** Runs the slow-consumer benchmark. */
export async function benchSlowDevice(): Promise<void> {
  const data = mkdtempSync(join(tmpdir(), 'noxy-bench-slow-'));
  const store = RelayStore.open(data);
  const attackerApp = createApp(store, Date.now(), { name: 'attacker', quotaTotal: 100_000 });
  const otherApp = createApp(store, Date.now(), { name: 'bystander' });
  store.close();
  const { child, grpcUrl } = await startCli(data);
  const streams: RawGrpcDevice[] = [];
  const attacker = new RawAgent(grpcUrl, attackerApp.appToken);
  const bystander = await startProbe(grpcUrl, otherApp.appToken);
  try {
    await bystander.run(20, 0); // warm-up
    const idle = memoryOf(child.pid!);
    const quiet = await bystander.run(200, 10);

    // The write load alone: the same decisions to a device with no connection (queued).
    const away = await registerDevice(grpcUrl, attackerApp, 'away@example.com');
    away.dev.close();
    const writeLoad = await underLoad(child.pid!, attacker, bystander, away.deviceId);

    const victim = await registerDevice(grpcUrl, attackerApp, 'victim@example.com');
    const first = victim.dev;
    streams.push(first);
    // Each stream subscribes, then never reads again (the relay closes the oldest past its cap
    // of sessions per device).
    await first.subscribe();
    first.stream.pause();
    for (let i = 1; i < STREAMS; i++) {
      const s = new RawGrpcDevice(grpcUrl, attackerApp.appId, Date.now, { ownConnection: true, history: false });
      streams.push(s);
      await s.authenticate(victim.keys);
      await s.subscribe();
      s.stream.pause();
    }
    const { latencies: loaded, peak: attackPeak } = await underLoad(child.pid!, attacker, bystander, victim.deviceId);
    const peak = Math.max(attackPeak, memoryOf(child.pid!).peak);

    report({
      name: `relay peak RSS, ${DECISIONS} × 512 KiB decisions to ${STREAMS} non-reading streams of one device`,
      value: peak / MB,
      unit: 'MB',
      baseline: { label: 'idle relay', value: idle.rss / MB },
      target: '≤ 300 MB',
      ok: peak <= 300 * MB,
    });
    const p99 = quantile(loaded, 0.99);
    console.log(
      `      GetQuota p99 while the same decisions go to a device that is not connected: ` +
        `${quantile(writeLoad.latencies, 0.99).toFixed(1)} ms (${writeLoad.latencies.length} calls), ` +
        `relay RSS ${(writeLoad.peak / MB).toFixed(0)} MB`,
    );
    report({
      name: `other app's GetQuota p99 during the attack (${loaded.length} calls)`,
      value: p99,
      unit: 'ms',
      baseline: { label: 'no attack', value: quantile(quiet, 0.99) },
      target: '≤ 50 ms',
      ok: p99 <= 50,
    });
  } finally {
    for (const s of streams) s.close();
    attacker.close();
    bystander.close();
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(undefined) : child.once('exit', r)));
    rmSync(data, { recursive: true, force: true });
  }
}
