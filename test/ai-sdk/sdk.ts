/**
 * The two AI SDK majors under one loose shape, so each suite runs unchanged against `ai` (6)
 * and `ai-v7` (7), and a scripted `MockLanguageModelV3` that answers turn by turn.
 */
import * as v6 from 'ai';
import * as v6test from 'ai/test';
import * as v7 from 'ai-v7';
import * as v7test from 'ai-v7/test';

/** What a test reads of a generateText result (both majors). */
export interface GenResult {
  text: string;
  content: { type: string; [k: string]: unknown }[];
  steps: { content: { type: string; [k: string]: unknown }[] }[];
  response: { messages: unknown[] };
  /** v7 only: all steps' messages. */
  responseMessages?: unknown[];
}

/** What a test reads of a streamText result. */
export interface StreamResult {
  text: PromiseLike<string>;
  content: PromiseLike<GenResult['content']>;
  steps: PromiseLike<GenResult['steps']>;
  fullStream: AsyncIterable<{ type: string; [k: string]: unknown }>;
}

type Options = Record<string, unknown>;

/** One AI SDK major. */
export interface Sdk {
  name: 'ai 6' | 'ai 7';
  major: 6 | 7;
  generateText(options: Options): Promise<GenResult>;
  streamText(options: Options): StreamResult;
  /** `tool()` of that major (identity at run time; types differ per major). */
  tool<T>(definition: T): T;
  stepCountIs(n: number): unknown;
  model(turns: Turn[]): ScriptedModel;
}

/** One scripted model turn: tool calls, or a final text. */
export type Turn = { calls: { id: string; name: string; args: Record<string, unknown> }[] } | { text: string };

/** A mock model and the prompts it was given. */
export interface ScriptedModel {
  model: unknown;
  prompts: unknown[][];
}

const usage = {
  inputTokens: { total: 1, noCache: 1, cacheRead: 0, cacheWrite: 0 },
  outputTokens: { total: 1, text: 1, reasoning: 0 },
};

function scripted(Mock: new (options: Options) => unknown, turns: Turn[]): ScriptedModel {
  const prompts: unknown[][] = [];
  let next = 0;
  const turn = (options: { prompt: unknown[]; abortSignal?: AbortSignal }) => {
    // A real provider's fetch fails on an aborted signal; so does this one.
    options.abortSignal?.throwIfAborted();
    prompts.push(options.prompt);
    const t = turns[Math.min(next++, turns.length - 1)]!;
    if ('text' in t) return { content: [{ type: 'text', text: t.text }], finish: 'stop' as const };
    const content = t.calls.map((c) => ({
      type: 'tool-call',
      toolCallId: c.id,
      toolName: c.name,
      input: JSON.stringify(c.args),
    }));
    return { content, finish: 'tool-calls' as const };
  };
  const model = new Mock({
    doGenerate: async (options: { prompt: unknown[]; abortSignal?: AbortSignal }) => {
      const { content, finish } = turn(options);
      return { content, finishReason: { unified: finish, raw: finish }, usage, warnings: [] };
    },
    doStream: async (options: { prompt: unknown[]; abortSignal?: AbortSignal }) => {
      const { content, finish } = turn(options);
      const parts: unknown[] = [{ type: 'stream-start', warnings: [] }];
      for (const c of content) {
        if (c.type === 'text') {
          const text = (c as { text: string }).text;
          parts.push({ type: 'text-start', id: 't' }, { type: 'text-delta', id: 't', delta: text });
          parts.push({ type: 'text-end', id: 't' });
        } else parts.push(c);
      }
      parts.push({ type: 'finish', finishReason: { unified: finish, raw: finish }, usage });
      return {
        stream: new ReadableStream({
          start(controller) {
            for (const p of parts) controller.enqueue(p);
            controller.close();
          },
        }),
      };
    },
  });
  return { model, prompts };
}

const loose = <F>(f: unknown) => f as F;

/** AI SDK 6 (`ai`). */
export const sdk6: Sdk = {
  name: 'ai 6',
  major: 6,
  generateText: loose(v6.generateText),
  streamText: loose(v6.streamText),
  tool: loose(v6.tool),
  stepCountIs: v6.stepCountIs,
  model: (turns) => scripted(loose(v6test.MockLanguageModelV3), turns),
};

/** AI SDK 7 (`ai-v7`). */
export const sdk7: Sdk = {
  name: 'ai 7',
  major: 7,
  generateText: loose(v7.generateText),
  streamText: loose(v7.streamText),
  tool: loose(v7.tool),
  stepCountIs: v7.stepCountIs,
  model: (turns) => scripted(loose(v7test.MockLanguageModelV3), turns),
};

/** The tool-result parts of every step (what the model was given back). */
export function toolResults(r: Pick<GenResult, 'steps'>): { toolName: string; output: unknown }[] {
  return r.steps.flatMap((s) => s.content.filter((c) => c.type === 'tool-result')) as never;
}

/** The tool-error parts of every step. */
export function toolErrors(r: Pick<GenResult, 'steps'>): { toolName: string; error: unknown }[] {
  return r.steps.flatMap((s) => s.content.filter((c) => c.type === 'tool-error')) as never;
}
