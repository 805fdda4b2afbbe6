/**
 * The gate's own cost (issue #8): what `runGated` adds to an approved call — the private copies,
 * the action-hash recomputation and the execution claim — against a bare `engine.request` with
 * an instantly approving device on the local relay, measured in the same run. Target ≤ 1.05×.
 *
 * The end-to-end time of one approval is dominated by the relay round trips and the poll
 * schedule, whose jitter is larger than the gate's cost; so the gate's work is timed on its own
 * over many approvals (precise), and added to the measured bare request time. An interleaved
 * end-to-end comparison is printed beside it as a sanity check.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { createApprovalEngine, executeApproved, runGated, type ApprovalResult } from '@noxy-approval/core';
import { startLocalStack } from '@noxy-approval/testing';
import { median, report } from './report.js';

const args = { to: 'DE89 3704 0044 0532 0130 00', amount: 250, currency: 'EUR', memo: 'invoice #1042' };
const request = { tool: 'transfer_funds', args, title: 'Pay invoice #1042' };

/** Runs the gate benchmark. */
export async function benchGate(): Promise<void> {
  const stack = await startLocalStack({ devices: [{ answer: 'approve', delayMs: 0 }] });
  try {
    const engine = createApprovalEngine({ client: stack.client, agent: { name: 'bench' } });
    const context = { identity: stack.identity };
    const action = (a: typeof args) => a.amount;
    for (let i = 0; i < 10; i++) await runGated(engine, request, action, context); // warm-up

    // Interleaved end to end: bare request vs the whole gate, same relay, same device.
    const bare: number[] = [];
    const gated: number[] = [];
    for (let i = 0; i < 60; i++) {
      let t = performance.now();
      await engine.request(request, context);
      bare.push(performance.now() - t);
      t = performance.now();
      const r = await runGated(engine, request, action, context);
      gated.push(performance.now() - t);
      if (r.status !== 'executed') throw new Error(`the gate did not run an approved call: ${r.status}`);
    }

    // The gate's own work, timed alone over fresh approvals, so every claim is new and every
    // hash check matches (the path of a real approved call).
    // One at a time: the relay allows a device 20 messages/s, and each answer is two (ack, outcome).
    const fresh: ApprovalResult[] = [];
    for (let i = 0; i < 150; i++) fresh.push(await engine.request(request, context));
    const t = performance.now();
    for (const approval of fresh) {
      const r = await executeApproved(engine, approval, request, action);
      if (r.status !== 'executed') throw new Error(`the gate did not run an approved call: ${r.status}`);
    }
    const ownPerCall = (performance.now() - t) / fresh.length;
    const bareMedian = median(bare);
    console.log(
      `      gate's own work ${(ownPerCall * 1000).toFixed(1)} µs per call; end to end (interleaved, n=60): ` +
        `bare median ${bareMedian.toFixed(1)} ms, gated median ${median(gated).toFixed(1)} ms`,
    );
    report({
      name: 'approved call through the gate (bare request + the gate’s own work)',
      value: bareMedian + ownPerCall,
      unit: 'ms',
      baseline: { label: 'bare engine.request, instant device', value: bareMedian },
      target: '≤ 1.05×',
      ok: (bareMedian + ownPerCall) / bareMedian <= 1.05,
    });
  } finally {
    await stack.close();
  }
}
