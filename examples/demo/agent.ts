/**
 * The agent: AI SDK 6's `generateText` with one tool, `transfer_funds`, gated with
 * `withApproval` from `@noxy-approval/ai-sdk`. The agent code knows nothing about approvals
 * beyond that one wrapper: the tool's `execute` runs only through core's gate (approved, exactly
 * these arguments, once, before the deadline); otherwise the model reads an `ApprovalRefusal`.
 * @module
 */
import { isApprovalRefusal, withApproval } from '@noxy-approval/ai-sdk';
import type { AgentInfo, Identity, NotExecutedReason, NoxyClient } from '@noxy-approval/core';
import { generateText, jsonSchema, stepCountIs, tool, wrapLanguageModel, type LanguageModelMiddleware } from 'ai';
import type { FakeBank, TransferArgs } from './bank.js';
import { safe, type DemoLog } from './log.js';
import { type DemoModel, SYSTEM_PROMPT, USER_PROMPT } from './model.js';

/** How the single gated call ended, as the demo reports it. */
export type CallOutcome = 'approved' | NotExecutedReason;

/** The end of a run. */
export interface AgentRun {
  /** The model's answer to the user. */
  finalText: string;
  /** Each gated call's outcome, in order; `error` when the request itself failed. */
  outcomes: (CallOutcome | 'error')[];
}

/** Options of {@link runAgent}. */
export interface AgentOptions {
  model: DemoModel;
  client: NoxyClient;
  identity: Identity;
  ttlSeconds: number;
  agent: AgentInfo;
  bank: FakeBank;
  log: DemoLog;
  signal: AbortSignal;
  /** Called with the SDK's input object of each call, before the gate sends the request. */
  onCall?: (input: TransferArgs) => void;
}

/** A real model can loop; a demo must end. */
const MAX_STEPS = 4;

/**
 * Runs the agent for the demo's one user request.
 * @throws whatever `generateText` throws (a model API error, an abort)
 */
export async function runAgent(o: AgentOptions): Promise<AgentRun> {
  const { log } = o;
  const outcomes: AgentRun['outcomes'] = [];
  let started = Date.now();
  const seconds = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;

  const transferFunds = withApproval(
    tool({
      description: 'Send money from the user account to an IBAN. Risky: the user approves each call on their device.',
      inputSchema: jsonSchema<TransferArgs>({
        type: 'object',
        properties: {
          to: { type: 'string', description: 'IBAN of the payee' },
          amount: { type: 'number', description: 'amount, greater than 0' },
          currency: { type: 'string', description: 'ISO 4217 code, e.g. EUR' },
        },
        required: ['to', 'amount', 'currency'],
        additionalProperties: false,
      }),
      // Reached only through the gate, with its private copy of exactly the approved arguments.
      execute: async (args) => {
        outcomes.push('approved');
        log.say('gate', `outcome: approved after ${seconds()}; running the tool with exactly the approved arguments`);
        const receipt = o.bank.transferFunds({ ...args });
        log.say('tool', `transfer_funds RAN: ${safe(JSON.stringify(receipt))}`);
        return receipt;
      },
    }),
    {
      name: 'transfer_funds',
      client: o.client,
      identity: o.identity,
      ttlSeconds: o.ttlSeconds,
      agent: o.agent,
      // Past the decision's expiry, so the wait ends as approved, rejected or expired.
      holdMs: o.ttlSeconds * 1000 + 10_000,
      title: ({ amount, currency }) => `Pay invoice #1042: ${amount} ${currency} to Bob's Bikes`,
      summary: 'The user asked me to pay this invoice. The IBAN is the one printed on the invoice.',
    },
  );
  const gatedExecute = transferFunds.execute!;
  const tools = {
    transfer_funds: {
      ...transferFunds,
      execute: (input: TransferArgs, options: Parameters<typeof gatedExecute>[1]) => {
        started = Date.now();
        log.say('gate', '"transfer_funds" is gated (withApproval): asking the user\'s device before running it');
        log.say(
          'gate',
          `sending the request to every device of ${o.identity.type}:${safe(o.identity.id)}, end-to-end encrypted ` +
            '(ML-KEM-768 + AES-256-GCM), then waiting for the answer',
        );
        o.onCall?.(input);
        return gatedExecute(input, options);
      },
    },
  };

  // Prints what the model answered before the SDK runs any tool it asked for.
  const narrate: LanguageModelMiddleware = {
    specificationVersion: 'v3',
    wrapGenerate: async ({ doGenerate }) => {
      const result = await doGenerate();
      for (const part of result.content) {
        if (part.type === 'text' && part.text.trim() !== '') log.say('model', `says: "${safe(part.text)}"`);
        if (part.type === 'tool-call') log.say('model', `calls ${safe(part.toolName)}(${safe(part.input)})`);
      }
      return result;
    },
  };

  log.say('agent', `generateText with model ${o.model.name}; tools: transfer_funds (gated)`);
  log.say('agent', `user asks: "${safe(USER_PROMPT)}"`);
  const result = await generateText({
    model: wrapLanguageModel({
      model: o.model.model as Parameters<typeof wrapLanguageModel>[0]['model'],
      middleware: narrate,
    }),
    system: SYSTEM_PROMPT,
    prompt: USER_PROMPT,
    tools,
    stopWhen: stepCountIs(MAX_STEPS),
    abortSignal: o.signal,
    onStepFinish: (step) => {
      for (const part of step.content) {
        if (part.type === 'tool-error') {
          outcomes.push('error');
          log.say('tool', `transfer_funds did NOT run: the request failed (${safe(String(part.error))})`);
        }
        if (part.type !== 'tool-result') continue;
        const output: unknown = part.output;
        if (isApprovalRefusal(output)) {
          outcomes.push(output.reason);
          log.say('gate', `outcome: ${output.reason} after ${seconds()} (decision ${safe(output.decision_id)})`);
          log.say('tool', 'transfer_funds did NOT run');
          log.say('gate', `the model is told: "${safe(output.message)}"`);
        } else {
          log.say('agent', "the tool's result goes back to the model");
        }
      }
    },
  });
  return { finalText: result.text, outcomes };
}
