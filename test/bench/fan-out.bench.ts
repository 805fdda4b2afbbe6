/**
 * Fan-out of one decision to 10 devices over loopback against the local relay (relay, devices
 * and agent in three processes). Its ratio to 1 device is stated against the machine's own gRPC
 * floor — 10 parallel trivial calls (GetQuota) against one, same run — because on 2 cores even
 * trivial calls in parallel cost several times one call (target: fan-out ratio ≤ 1.0× the floor
 * ratio); and the parallel fan-out is compared with the official SDKs' sequential one (one
 * device after the other: `fanOutConcurrency: 1`; target ≤ 0.7×).
 * @module
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createNoxyClient } from '@noxy-approval/core';
import { median, report } from './report.js';

/** Spawns a fixture script under tsx; resolves with the child and its first stdout line. */
async function spawnFixture(name: string, args: string[]) {
  const script = fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return { child, line };
}

/** Relay and devices each in their own process, as they are in real life (see fixtures/). */
async function remoteStack(devices: number) {
  const relay = await spawnFixture('relay-process.ts', []);
  const info = JSON.parse(relay.line) as { grpcUrl: string; appId: string; appToken: string; signingSecret: string };
  const identity = 'alice@example.com';
  const phones = await spawnFixture('devices-process.ts', [
    info.grpcUrl,
    info.appId,
    info.signingSecret,
    identity,
    String(devices),
  ]);
  return {
    grpcUrl: info.grpcUrl,
    appToken: info.appToken,
    identity,
    async close() {
      for (const { child } of [phones, relay]) {
        child.stdin.end();
        await once(child, 'exit');
      }
    },
  };
}

const DECISION = {
  kind: 'propose_tool_call',
  tool: 'transfer_funds',
  args: { to: 'bob', amount: 25 },
  title: 'Send 25 to Bob',
};

/** One timed operation on a live stack: `run()` is one sample. */
interface Timed {
  run(): Promise<number>;
  close(): Promise<void>;
}

/** sendDecision to every device of a stack with `devices` devices, `concurrency` at a time. */
async function sends(devices: number, concurrency: number): Promise<Timed> {
  const stack = await remoteStack(devices);
  const client = createNoxyClient({
    endpoint: stack.grpcUrl,
    authToken: stack.appToken,
    kem: 'auto',
    fanOutConcurrency: concurrency,
  });
  return {
    async run() {
      const start = performance.now();
      const sent = await client.sendDecision(stack.identity, DECISION);
      const ms = performance.now() - start;
      if (sent.delivered !== devices) throw new Error(`only ${sent.delivered}/${devices} delivered`);
      return ms;
    },
    async close() {
      client.close();
      await stack.close();
    },
  };
}

/**
 * The floor any fan-out pays on this machine: `n` parallel unary calls of a trivial RPC
 * (GetQuota) on one channel to a relay of its own.
 */
async function floorCalls(n: number): Promise<Timed> {
  const stack = await remoteStack(0);
  const client = createNoxyClient({ endpoint: stack.grpcUrl, authToken: stack.appToken });
  return {
    async run() {
      const start = performance.now();
      await Promise.all(Array.from({ length: n }, () => client.getQuota()));
      return performance.now() - start;
    },
    async close() {
      client.close();
      await stack.close();
    },
  };
}

/**
 * Times every subject round by round, interleaved (one sample of each per round), so that the
 * load of a shared machine, which changes by the second, weighs on all of them alike.
 * @returns the median of each subject, ms
 */
async function interleaved(subjects: Timed[], rounds: number, warmup = 5): Promise<number[]> {
  const samples = subjects.map((): number[] => []);
  for (let r = 0; r < warmup + rounds; r++) {
    for (const [i, subject] of subjects.entries()) {
      const ms = await subject.run();
      if (r >= warmup) samples[i]!.push(ms);
    }
  }
  return samples.map((xs) => median(xs));
}

/** Runs the fan-out benchmark. */
export async function benchFanOut(): Promise<void> {
  const subjects = [
    await sends(1, 16),
    await sends(10, 16),
    await sends(10, 1),
    await floorCalls(1),
    await floorCalls(10),
  ];
  let times: number[];
  try {
    times = await interleaved(subjects, 40);
  } finally {
    for (const subject of subjects) await subject.close();
  }
  const [one, ten, sequential, floorOne, floorTen] = times as [number, number, number, number, number];
  const floor = { one: floorOne, ten: floorTen };
  console.log(
    `      sequential fan-out to 10 devices (official SDK shape): ${sequential.toFixed(2)} ms = ` +
      `${(sequential / one).toFixed(2)}× one device`,
  );
  console.log(
    `      gRPC floor on this machine: 10 parallel GetQuota ${floor.ten.toFixed(2)} ms = ` +
      `${(floor.ten / floor.one).toFixed(2)}× one call (${floor.one.toFixed(2)} ms)`,
  );
  const floorRatio = floor.ten / floor.one;
  console.log(`      sendDecision to 10 devices ${ten.toFixed(2)} ms = ${(ten / one).toFixed(2)}× one device`);
  report({
    name: 'fan-out to 10 devices ÷ 1 device, against the gRPC floor (10 parallel GetQuota ÷ 1)',
    value: ten / one,
    unit: '×',
    baseline: { label: 'gRPC floor ratio', value: floorRatio },
    target: '≤ 1.0× the floor ratio',
    ok: ten / one <= floorRatio,
  });
  report({
    name: 'sendDecision to 10 devices, parallel fan-out',
    value: ten,
    unit: 'ms',
    baseline: { label: 'sequential fan-out', value: sequential },
    target: '≤ 0.7× sequential',
    ok: ten <= 0.7 * sequential,
  });
}
