/**
 * The AI SDK wrapper's cost (issue #10): one gated call through `withApproval`'s `execute`
 * against core's bare `runGated` for the same action, same relay, same instantly approving
 * device, in the same run. Target ≤ 1.1×.
 *
 * Interleaved (one of each in turn, so drift hits both alike), sequential (the relay allows a
 * device 20 messages/s and each answer is two), n = 40 each, medians. Each wrapped call has a
 * fresh toolCallId, as a model's calls do, so each is a new decision.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { withApproval } from '@noxy-approval/ai-sdk';
import { createApprovalEngine, runGated } from '@noxy-approval/core';
import { startLocalStack } from '@noxy-approval/testing';
import { median, report } from './report.js';

const args = { to: 'DE89 3704 0044 0532 0130 00', amount: 250, currency: 'EUR', memo: 'invoice #1042' };
const N = 40;

/** Runs the AI SDK wrapper benchmark. */
export async function benchAiSdk(): Promise<void> {
  const stack = await startLocalStack({ devices: [{ answer: 'approve', delayMs: 0 }] });
  try {
    const action = (a: typeof args) => ({ transfer_id: `tx_${a.amount}` });
    const engine = createApprovalEngine({ client: stack.client });
    const context = { identity: stack.identity };
    const request = { tool: 'transfer_funds', args, title: 'Run transfer_funds' };
    const tool = { description: 'Send money', inputSchema: undefined, execute: async (a: typeof args) => action(a) };
    const gated = withApproval(tool, { name: 'transfer_funds', client: stack.client, identity: stack.identity });
    // What the SDK calls: execute(input, { toolCallId, messages, abortSignal? }).
    const execute = gated.execute as unknown as (input: typeof args, options: object) => Promise<object>;
    let id = 0;
    const wrapped = async () => {
      const out = await execute(args, { toolCallId: `bench-${id++}`, messages: [] });
      if (!('transfer_id' in out)) throw new Error('withApproval did not run an approved call');
    };
    const bare = async () => {
      const r = await runGated(engine, request, action, context);
      if (r.status !== 'executed') throw new Error(`the gate did not run an approved call: ${r.status}`);
    };
    for (let i = 0; i < 5; i++) {
      await bare();
      await wrapped();
    }
    const bareMs: number[] = [];
    const wrappedMs: number[] = [];
    for (let i = 0; i < N; i++) {
      let t = performance.now();
      await bare();
      bareMs.push(performance.now() - t);
      t = performance.now();
      await wrapped();
      wrappedMs.push(performance.now() - t);
    }
    const b = median(bareMs);
    const w = median(wrappedMs);
    report({
      name: `approved call through withApproval's execute (interleaved, n=${N}, median)`,
      value: w,
      unit: 'ms',
      baseline: { label: "core's bare runGated, instant device", value: b },
      target: '≤ 1.1×',
      ok: w / b <= 1.1,
    });
  } finally {
    await stack.close();
  }
}
