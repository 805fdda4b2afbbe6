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

/**
 * The floor any fan-out pays on this machine: 10 parallel unary calls of a trivial RPC
 * (GetQuota) against one, on the same channel and relay.
 */
async function rpcFloor(rounds: number): Promise<{ one: number; ten: number }> {
  const stack = await remoteStack(0);
  const client = createNoxyClient({ endpoint: stack.grpcUrl, authToken: stack.appToken });
  try {
    const time = async (n: number) => {
      for (let i = 0; i < 5; i++) await Promise.all(Array.from({ length: n }, () => client.getQuota()));
      const times: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const start = performance.now();
        await Promise.all(Array.from({ length: n }, () => client.getQuota()));
        times.push(performance.now() - start);
      }
      return median(times);
    };
    return { one: await time(1), ten: await time(10) };
  } finally {
    client.close();
    await stack.close();
  }
}

async function timeSends(devices: number, concurrency: number, rounds: number): Promise<number> {
  const stack = await remoteStack(devices);
  const client = createNoxyClient({
    endpoint: stack.grpcUrl,
    authToken: stack.appToken,
    kem: 'auto',
    fanOutConcurrency: concurrency,
  });
  try {
    const decision = {
      kind: 'propose_tool_call',
      tool: 'transfer_funds',
      args: { to: 'bob', amount: 25 },
      title: 'Send 25 to Bob',
    };
    for (let i = 0; i < 5; i++) await client.sendDecision(stack.identity, decision);
    const times: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const start = performance.now();
      const sent = await client.sendDecision(stack.identity, decision);
      times.push(performance.now() - start);
      if (sent.delivered !== devices) throw new Error(`only ${sent.delivered}/${devices} delivered`);
    }
    return median(times);
  } finally {
    client.close();
    await stack.close();
  }
}

/** Runs the fan-out benchmark. */
export async function benchFanOut(): Promise<void> {
  const one = await timeSends(1, 16, 40);
  const ten = await timeSends(10, 16, 40);
  const sequential = await timeSends(10, 1, 40);
  const floor = await rpcFloor(40);
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
