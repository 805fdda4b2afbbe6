/**
 * What an identity resolver, a `when` predicate or a title function sees of a LangChain call:
 * the run's `context` (createAgent's `contextSchema`), its `configurable` (e.g. `thread_id`, a
 * user id the app put there) and the model's tool call. A multi-user app routes each call to
 * the right person from these — never from model-written arguments (docs/security.md §4).
 * @module
 */
import type { ToolCall } from '@langchain/core/messages';
import { NoxyError, defaultTitle } from '@noxy-approval/core';

/** The context of one LangChain tool call, as the identity resolver and the predicates see it. */
export interface LangChainCallContext<RunContext = unknown> {
  /** The run's context: what `agent.invoke(input, { context })` was given. */
  context: RunContext | undefined;
  /** The run's `configurable` (`thread_id`, …). */
  configurable: Record<string, unknown> | undefined;
  /** The model's tool call (absent when a tool is invoked directly with plain arguments). */
  toolCall: ToolCall | undefined;
}

/** A text shown on the phone: fixed, or derived from the call's arguments and context. */
export type CallText<RunContext = unknown> =
  | string
  | ((args: Record<string, unknown>, ctx: LangChainCallContext<RunContext>) => string);

/** Whether a call needs approval (true: ask the human first). */
export type CallPredicate<RunContext = unknown> = (
  args: Record<string, unknown>,
  ctx: LangChainCallContext<RunContext>,
) => boolean | Promise<boolean>;

/** The runtime fields every LangChain surface (tool runtime, middleware runtime) carries. */
export interface RuntimeLike {
  context?: unknown;
  configurable?: Record<string, unknown> | undefined;
  toolCall?: ToolCall | undefined;
}

/**
 * Builds the call context from a tool runtime or a middleware runtime.
 * @param toolCall the call, when the runtime does not carry it (middleware requests)
 */
export function callContextOf<C>(runtime: RuntimeLike | undefined, toolCall?: ToolCall): LangChainCallContext<C> {
  return {
    context: runtime?.context as C | undefined,
    configurable: runtime?.configurable,
    toolCall: toolCall ?? runtime?.toolCall,
  };
}

/**
 * The title and summary of a call: the configured texts, or `defaultTitle(tool, args)`.
 * @throws NoxyError `INVALID_ARGUMENT` naming `title` or `summary` when a text function fails
 */
export function callTexts<C>(
  tool: string,
  args: Record<string, unknown>,
  ctx: LangChainCallContext<C>,
  texts: { title?: CallText<C> | undefined; summary?: CallText<C> | undefined },
): { title: string; summary?: string } {
  const title = texts.title === undefined ? defaultTitle(tool, args) : textOf(texts.title, args, ctx, 'title');
  const summary = texts.summary === undefined ? undefined : textOf(texts.summary, args, ctx, 'summary');
  return summary === undefined ? { title } : { title, summary };
}

function textOf<C>(text: CallText<C>, args: Record<string, unknown>, ctx: LangChainCallContext<C>, field: string) {
  if (typeof text === 'string') return text;
  try {
    return text(args, ctx);
  } catch (cause) {
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new NoxyError('INVALID_ARGUMENT', `"${field}" function failed (${why}); nobody was asked`, {
      field,
      cause,
    });
  }
}

/**
 * Whether a call is gated. A predicate that throws counts as "gate it": a bug in the rule must
 * not let a risky call through unasked, and asking the human is always safe.
 */
export async function isGated<C>(
  when: CallPredicate<C> | undefined,
  args: Record<string, unknown>,
  ctx: LangChainCallContext<C>,
): Promise<boolean> {
  if (when === undefined) return true;
  try {
    return (await when(args, ctx)) !== false;
  } catch {
    return true;
  }
}

/**
 * The idempotency key of a call: the model's tool call id, scoped by the thread when there is
 * one — a replayed step or a retry of the same call continues its decision, while another
 * thread whose provider happens to reuse an id (some number calls `call_0`, `call_1`, …) does
 * not collide with it.
 */
export function idempotencyKeyOf(toolCallId: string | undefined, ctx: LangChainCallContext<unknown>) {
  if (toolCallId === undefined || toolCallId === '') return undefined;
  const thread = ctx.configurable?.thread_id;
  return typeof thread === 'string' && thread !== '' ? `${thread}\u0000${toolCallId}` : toolCallId;
}
