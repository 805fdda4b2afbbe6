/**
 * Shared pieces of the LangChain tests: a `transfer_funds` tool that records every run, a
 * scripted `fakeModel`, and readers for what the model saw next.
 */
import { tool } from '@langchain/core/tools';
import { AIMessage, ToolMessage, fakeModel } from 'langchain';
import { z } from 'zod';

/** The arguments of `transfer_funds`. */
export interface TransferArgs {
  to: string;
  amount: number;
}

/** A `transfer_funds` tool and the arguments of every run. */
export function transferTool(options: { failFirst?: boolean } = {}) {
  const runs: TransferArgs[] = [];
  const transfer = tool(
    async (args: TransferArgs) => {
      runs.push(args);
      if (options.failFirst && runs.length === 1) throw new Error('bank timeout');
      return `transferred ${args.amount} to ${args.to} (tx_${runs.length})`;
    },
    {
      name: 'transfer_funds',
      description: 'Send money to someone.',
      schema: z.object({ to: z.string(), amount: z.number() }),
    },
  );
  return { transfer, runs };
}

/** A model that calls `calls` in one turn, then answers "done". */
export function scriptedModel(calls: { name: string; args: Record<string, unknown>; id: string }[]) {
  return fakeModel().respondWithTools(calls).respond(new AIMessage('done'));
}

/** The tool messages the model received on its `turn`-th call (0-based). */
export function toolMessagesSeen(model: ReturnType<typeof fakeModel>, turn = 1): ToolMessage[] {
  const call = model.calls[turn];
  if (!call) throw new Error(`the model was called ${model.calls.length} times, not ${turn + 1}`);
  return call.messages.filter((m): m is ToolMessage => ToolMessage.isInstance(m));
}

/** Resolves once `check` is true (polling every 20 ms), or fails after `ms`. */
export async function until(check: () => boolean, ms = 5_000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Text of a message's content. */
export function textOf(m: { content: unknown }): string {
  return typeof m.content === 'string' ? m.content : JSON.stringify(m.content);
}
