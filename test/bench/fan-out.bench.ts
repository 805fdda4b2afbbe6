/**
 * Fan-out of one decision to 10 devices over loopback against the local relay (relay, devices
 * and agent in three processes), compared with
 * 1 device (target ≤ 2×), and the official SDKs' sequential fan-out (one device after the
 * other: `fanOutConcurrency: 1`) for reference (≈ 10×).
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
  report({
    name: 'sendDecision to 10 devices (parallel fan-out)',
    value: ten,
    unit: 'ms',
    baseline: { label: '1 device', value: one },
    target: '≤ 2× one device',
    ok: ten <= 2 * one,
  });
}
