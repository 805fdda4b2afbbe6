/**
 * The model. By default a scripted `MockLanguageModelV3` from `ai/test`: deterministic, offline,
 * no API key. Turn 1 calls `transfer_funds`; turn 2 reads the tool's result and tells the user
 * what happened. With `--model`, a real model from the first API key found in the environment
 * (names only are read here; a key's value goes to its provider and is never printed).
 * @module
 */
import type { LanguageModel } from 'ai';
import { MockLanguageModelV3 } from 'ai/test';

/** The user's request. */
export const USER_PROMPT = "Please pay Bob's Bikes invoice #1042 (250 EUR) from my account.";

/** What a real model is told, so it has what the scripted one knows. */
export const SYSTEM_PROMPT =
  "You are a payment assistant. Bob's Bikes' IBAN is DE89 3704 0044 0532 0130 00 (from invoice #1042). " +
  'Pay with transfer_funds; then tell the user in one sentence what happened. If the tool did not run, ' +
  'do not retry it.';

/** The risky call the script makes: the arguments the human will see and approve. */
export const SCRIPTED_TRANSFER = { to: 'DE89 3704 0044 0532 0130 00', amount: 250, currency: 'EUR' } as const;

/** A model to run, and how to call it on screen. */
export interface DemoModel {
  model: LanguageModel;
  name: string;
}

/** The API keys `--model` looks for, in order, with their provider and default model. */
export const MODEL_KEYS = [
  { variable: 'OPENAI_API_KEY', provider: 'openai', defaultModel: 'gpt-4o-mini' },
  { variable: 'ANTHROPIC_API_KEY', provider: 'anthropic', defaultModel: 'claude-haiku-4-5' },
] as const;

/** The real model `--model` would use. */
export interface ModelChoice {
  provider: (typeof MODEL_KEYS)[number]['provider'];
  variable: (typeof MODEL_KEYS)[number]['variable'];
  modelId: string;
}

/** `--model` without any key: the message names the variables, never a value. */
export class NoModelKeyError extends Error {
  override name = 'NoModelKeyError';
  constructor() {
    super(
      '--model needs a real model API key in the environment: set OPENAI_API_KEY (openai, default gpt-4o-mini) ' +
        'or ANTHROPIC_API_KEY (anthropic, default claude-haiku-4-5). Without --model the demo uses its scripted, ' +
        'offline model.',
    );
  }
}

/**
 * Picks the real model from the environment: the first key of {@link MODEL_KEYS} that is set.
 * Pure (the environment is passed in) and reads only whether a key is set.
 * @throws NoModelKeyError when none is set
 */
export function chooseRealModel(env: Readonly<Record<string, string | undefined>>, modelId?: string): ModelChoice {
  const found = MODEL_KEYS.find((k) => (env[k.variable] ?? '').trim() !== '');
  if (!found) throw new NoModelKeyError();
  return { provider: found.provider, variable: found.variable, modelId: modelId ?? found.defaultModel };
}

/** The provider's model for a choice; the provider reads its key from the environment itself. */
export async function loadRealModel(choice: ModelChoice): Promise<DemoModel> {
  const name = `${choice.provider}:${choice.modelId} (real model, key from ${choice.variable})`;
  if (choice.provider === 'openai') {
    const { openai } = await import('@ai-sdk/openai');
    return { model: openai(choice.modelId), name };
  }
  const { anthropic } = await import('@ai-sdk/anthropic');
  return { model: anthropic(choice.modelId), name };
}

/** What the scripted model answers when the transfer did not run, by the refusal's reason. */
const NOT_DONE: Record<string, string> = {
  rejected: "You rejected the transfer on your device, so I did not pay invoice #1042 and I won't retry it.",
  expired: 'Nobody approved the transfer in time, so I did not pay invoice #1042; nothing was sent.',
  pending: 'The transfer is still waiting for your approval, so invoice #1042 is not paid yet; nothing was sent.',
};

const usage = {
  inputTokens: { total: 0, noCache: 0, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 0, text: 0, reasoning: 0 },
};

/** The last tool result in the prompt, as the JSON value the tool returned. */
function lastToolOutput(prompt: readonly { role: string; content: unknown }[]): Record<string, unknown> | undefined {
  const last = prompt.at(-1);
  if (last?.role !== 'tool' || !Array.isArray(last.content)) return undefined;
  const part = (last.content as { type: string; output?: { type: string; value?: unknown } }[]).findLast(
    (p) => p.type === 'tool-result',
  );
  const value = part?.output?.type === 'json' ? part.output.value : undefined;
  return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : { error: true };
}

/** The scripted model: a `MockLanguageModelV3` whose answers depend only on the conversation. */
export function createScriptedModel(): DemoModel {
  const model = new MockLanguageModelV3({
    provider: 'scripted',
    modelId: 'demo-script',
    doGenerate: async ({ prompt }) => {
      const output = lastToolOutput(prompt);
      if (!output) {
        return {
          content: [
            { type: 'text', text: "Invoice #1042 is from Bob's Bikes; I'll transfer 250 EUR to their IBAN." },
            {
              type: 'tool-call',
              toolCallId: 'call_1',
              toolName: 'transfer_funds',
              input: JSON.stringify(SCRIPTED_TRANSFER),
            },
          ],
          finishReason: { unified: 'tool-calls', raw: 'tool_calls' },
          usage,
          warnings: [],
        };
      }
      const text =
        typeof output.transfer_id === 'string'
          ? `Done: invoice #1042 is paid (transfer ${output.transfer_id}, ${String(output.amount)} EUR to Bob's Bikes).`
          : (NOT_DONE[String(output.reason)] ??
            'I did not pay invoice #1042: the transfer did not run, so nothing was sent.');
      return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
    },
  });
  return { model, name: 'scripted MockLanguageModelV3 (offline, deterministic)' };
}
