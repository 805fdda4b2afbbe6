/**
 * Example: a Vercel AI SDK agent whose `transfer_funds` waits for Approve on the user's device.
 * Runs offline: the local relay in this process (in-memory store), a paired device that answers
 * by itself, and a scripted `MockLanguageModelV3` that calls `transfer_funds` once and then
 * tells the user what happened. `--reject` makes the device reject instead.
 *
 * `node --import tsx examples/ai-sdk-agent/index.ts [--reject]`
 * @module
 */
import { withApproval } from '@noxy-approval/ai-sdk';
import { createNoxyClient } from '@noxy-approval/core';
import { createMemoryKeyStore, createNoxyDevice } from '@noxy-approval/device';
import { startRelay } from '@noxy-approval/relay';
import { generateText, jsonSchema, stepCountIs, tool } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';

const identity = 'alice@example.com';
const answer = process.argv.includes('--reject') ? 'reject' : 'approve';
const say = (who: string, text: string) => console.log(`${who.padEnd(7)} ${text}`);

// 1. The relay, an app and the user's device (keys created on the device, kept in memory).
const relay = await startRelay({ dataDir: ':memory:' });
const app = relay.createApp({ name: 'ai-sdk-agent-example' });
say('relay', `listening on ${relay.grpcUrl} (app ${app.appId}; its token is never printed)`);
const pairing = relay.createPairing({ appId: app.appId, identity });
const device = await createNoxyDevice({
  relayUrl: relay.grpcUrl,
  appId: app.appId,
  identity,
  pairingCode: pairing.code,
  keyStore: createMemoryKeyStore(),
  transport: 'grpc',
});
device.on('decision', (d) => {
  const { tool: name, args } = d.payload as { tool: string; args: unknown };
  say('device', `asks the user: run ${name} ${JSON.stringify(args)}? → ${answer}`);
  device.decide(d.decisionId, answer).catch((e: unknown) => say('device', `could not answer: ${String(e)}`));
});
await device.connect();
say('device', `paired as ${device.deviceId}`);

// 2. The risky tool, gated: it runs only after the user approves exactly this call.
const client = createNoxyClient({ endpoint: relay.grpcUrl, authToken: app.appToken });
let transfers = 0;
const transferFunds = withApproval(
  tool({
    description: 'Send money from the user account',
    inputSchema: jsonSchema<{ to: string; amount: number; currency: string }>({
      type: 'object',
      properties: { to: { type: 'string' }, amount: { type: 'number' }, currency: { type: 'string' } },
      required: ['to', 'amount', 'currency'],
    }),
    execute: async ({ to, amount, currency }) => {
      transfers++;
      say('tool', `transfer_funds RAN: ${amount} ${currency} to ${to}`);
      return { transfer_id: `tx_${String(transfers).padStart(4, '0')}` };
    },
  }),
  { name: 'transfer_funds', client, identity, title: ({ amount, currency }) => `Pay ${amount} ${currency}` },
);

// 3. A scripted model: call transfer_funds, then report what the tool answered.
let turn = 0;
const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 },
};
const model = new MockLanguageModelV3({
  doGenerate: async ({ prompt }) => {
    if (turn++ === 0) {
      const input = JSON.stringify({ to: 'DE89 3704 0044 0532 0130 00', amount: 250, currency: 'EUR' });
      return {
        content: [{ type: 'tool-call', toolCallId: 'call_1', toolName: 'transfer_funds', input }],
        finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
        usage,
        warnings: [],
      };
    }
    const seen = JSON.stringify(prompt.at(-1));
    const text = seen.includes('transfer_id') ? 'Done: invoice #1042 is paid.' : 'I did not pay: you rejected it.';
    return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
  },
});

try {
  const result = await generateText({
    model,
    tools: { transfer_funds: transferFunds },
    prompt: "Pay Bob's Bikes invoice #1042 (250 EUR).",
    stopWhen: stepCountIs(3),
    onStepFinish: (step) => {
      for (const c of step.toolCalls) say('model', `calls ${c.toolName}(${JSON.stringify(c.input)})`);
      for (const r of step.toolResults) say('agent', `the model reads: ${JSON.stringify(r.output)}`);
      if (step.text) say('model', `says: "${step.text}"`);
    },
  });
  say('result', `${result.steps.length} steps; transfers executed: ${transfers}`);
  // The example checks its own ending: exactly one transfer when approved, none when rejected.
  const expected = answer === 'approve' ? 1 : 0;
  if (transfers !== expected) {
    say('result', `FAILED: expected ${expected} transfer(s) after "${answer}", got ${transfers}`);
    process.exitCode = 1;
  }
} finally {
  client.close();
  device.close();
  await relay.close();
}
