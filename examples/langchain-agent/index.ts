/**
 * Example: a LangChain.js `createAgent` whose `transfer_funds` waits for Approve on the user's
 * device, offline. The model is `fakeModel()` (scripted: check the balance, then pay Bob 25),
 * `approvalMiddleware` gates `transfer_funds` only, and the phone is a local device that
 * approves. Prints each step and exits 0 when the transfer ran exactly once, after approval.
 *
 * Run: `npm run build && node --import tsx examples/langchain-agent/index.ts`
 * @module
 */
import { tool } from '@langchain/core/tools';
import { createNoxyClient } from '@noxy-approval/core';
import { approvalMiddleware, type ApprovalProgressEvent } from '@noxy-approval/langchain';
import { AIMessage, createAgent, fakeModel, HumanMessage, ToolMessage } from 'langchain';
import { z } from 'zod';
import { startLocalNoxy } from './local-relay.js';

const USER = 'alice@example.com';
const say = (who: string, text: string) => console.log(`${who.padEnd(7)} ${text}`);

const transfers: { to: string; amount: number }[] = [];

const getBalance = tool(async () => 'balance: 1,200.00 EUR', {
  name: 'get_balance',
  description: 'Read the account balance.',
  schema: z.object({}),
});

const transferFunds = tool(
  async ({ to, amount }: { to: string; amount: number }) => {
    transfers.push({ to, amount });
    return `sent ${amount} EUR to ${to} (transfer tx_${String(transfers.length).padStart(4, '0')})`;
  },
  {
    name: 'transfer_funds',
    description: 'Send money from the account.',
    schema: z.object({ to: z.string(), amount: z.number().positive() }),
  },
);

async function main(): Promise<number> {
  const noxy = await startLocalNoxy(USER, (d) => {
    const p = d.payload as { title?: string; tool?: string; args?: unknown };
    say('phone', `shows "${p.title}": ${p.tool} ${JSON.stringify(p.args)} → Approve`);
  });
  const client = createNoxyClient({ endpoint: noxy.endpoint, authToken: noxy.appToken });
  try {
    say('relay', `local relay on ${noxy.endpoint}, one device of ${USER} connected`);
    const model = fakeModel()
      .respondWithTools([{ name: 'get_balance', args: {}, id: 'call_balance' }])
      .respondWithTools([{ name: 'transfer_funds', args: { to: 'bob', amount: 25 }, id: 'call_pay' }])
      .respond(new AIMessage('Done: 25 EUR sent to Bob.'));
    const agent = createAgent({
      model,
      tools: [getBalance, transferFunds],
      middleware: [approvalMiddleware({ client, identity: USER, gate: ['transfer_funds'], ttlSeconds: 60 })],
    });
    say('user', 'Pay Bob 25 EUR.');
    const stream = await agent.stream(
      { messages: [new HumanMessage('Pay Bob 25 EUR.')] },
      { streamMode: ['updates', 'custom'] },
    );
    let answer = '';
    for await (const [mode, chunk] of stream) {
      if (mode === 'custom') {
        const e = chunk as ApprovalProgressEvent;
        if (e.type === 'noxy_approval') say('noxy', `${e.tool}: ${e.status}${e.outcome ? ` (${e.outcome})` : ''}`);
        continue;
      }
      for (const update of Object.values(chunk as Record<string, { messages?: unknown[] }>)) {
        for (const m of update?.messages ?? []) {
          if (ToolMessage.isInstance(m)) say('tool', `${m.name} → ${String(m.content)}`);
          else if (AIMessage.isInstance(m) && m.tool_calls?.length) {
            for (const c of m.tool_calls) say('model', `calls ${c.name} ${JSON.stringify(c.args)}`);
          } else if (AIMessage.isInstance(m)) {
            answer = String(m.content);
            say('model', answer);
          }
        }
      }
    }
    const ok = transfers.length === 1 && transfers[0]!.to === 'bob' && answer !== '';
    say('result', ok ? `transfers executed: ${transfers.length} (approved on the device)` : 'UNEXPECTED RESULT');
    return ok ? 0 : 1;
  } finally {
    client.close();
    await noxy.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
