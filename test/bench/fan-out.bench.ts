/**
 * Fan-out of one decision to 10 devices over loopback against the local relay, compared with
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

/** Starts relay + devices in a child process (see fixtures/stack-process.ts). */
async function remoteStack(devices: number) {
  const script = fileURLToPath(new URL('./fixtures/stack-process.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script, String(devices)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  const info = JSON.parse(line) as { grpcUrl: string; appToken: string; identity: string };
  return {
    ...info,
    async close() {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
}

async function timeSends(devices: number, concurrency: number, rounds: number): Promise<number> {
  const stack = await remoteStack(devices);
  const client = createNoxyClient({ endpoint: stack.grpcUrl, authToken: stack.appToken, kem: 'auto', fanOutConcurrency: concurrency });
  try {
    const decision = { kind: 'propose_tool_call', tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' };
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
  console.log(`      sequential fan-out to 10 devices (official SDK shape): ${sequential.toFixed(2)} ms = ${(sequential / one).toFixed(2)}× one device`);
  report({
    name: 'sendDecision to 10 devices (parallel fan-out)',
    value: ten,
    unit: 'ms',
    baseline: { label: '1 device', value: one },
    target: '≤ 2× one device',
    ok: ten <= 2 * one,
  });
}
