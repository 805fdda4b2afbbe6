/**
 * `approvalMiddleware(options)` for `createAgent`: routes the chosen tool calls to the user's
 * device before they run. Unlike `humanInTheLoopMiddleware` it needs no checkpointer, no
 * interrupt and no resume UI: the tool call simply waits for the phone.
 *
 * Each chosen call goes through core's gate with the agent's own tool handler as the action;
 * the handler receives the gate's private copy of exactly the approved arguments. Every other
 * call runs at once. Tool calls of one model turn run in parallel in LangChain, and each is
 * its own decision, asked at the same time: nothing here is shared between calls but the engine.
 * @module
 */
import { ToolMessage } from '@langchain/core/messages';
import { createMiddleware } from 'langchain';
import { describeValue, invalidArgument, setupWrapper, type ApprovalWrapperOptions } from '@noxy-approval/core';
import { callContextOf, isGated, type CallPredicate, type CallText, type LangChainCallContext } from './context.js';
import { gateCall } from './gated-call.js';

/**
 * Which tool calls need approval: `true` (every call), a list of tool names, or per tool name
 * `true` or a predicate of the call's arguments and context. Tools not named run at once.
 */
export type ApprovalGate<RunContext = unknown> =
  | true
  | readonly string[]
  | Readonly<Record<string, true | CallPredicate<RunContext>>>;

/** Options of {@link approvalMiddleware}. */
export interface ApprovalMiddlewareOptions<RunContext = unknown>
  extends ApprovalWrapperOptions<LangChainCallContext<RunContext>> {
  /** The calls to gate. */
  gate: ApprovalGate<RunContext>;
  /** The headline on the phone (default `defaultTitle(toolName, args)`); `ctx.toolCall.name` is the tool. */
  title?: CallText<RunContext>;
  /** A sentence on why, shown labelled as the agent's. */
  summary?: CallText<RunContext>;
  /** The middleware's name (default `NoxyApprovalMiddleware`); unique per agent. */
  name?: string;
}

type Rule<C> = true | CallPredicate<C> | undefined;

/** Validates `gate` once, at creation, into a lookup by tool name. */
function compileGate<C>(gate: ApprovalGate<C>): (tool: string) => Rule<C> {
  if (gate === true) return () => true;
  if (Array.isArray(gate)) {
    for (const [i, name] of gate.entries()) {
      if (typeof name !== 'string' || name === '')
        throw invalidArgument(`gate[${i}]`, 'a tool name', describeValue(name));
    }
    const names = new Set<string>(gate);
    return (tool) => (names.has(tool) ? true : undefined);
  }
  if (typeof gate !== 'object' || gate === null) {
    throw invalidArgument('gate', 'true, a list of tool names, or { toolName: true | predicate }', describeValue(gate));
  }
  const rules = new Map<string, true | CallPredicate<C>>();
  for (const [name, rule] of Object.entries(gate as Record<string, unknown>)) {
    if (rule !== true && typeof rule !== 'function') {
      throw invalidArgument(`gate.${name}`, 'true or a predicate (args, ctx) => boolean', describeValue(rule));
    }
    rules.set(name, rule as true | CallPredicate<C>);
  }
  // A Map, not the object: a tool named "constructor" or "__proto__" must not find a rule.
  return (tool) => rules.get(tool);
}

/**
 * Creates the middleware.
 * A refused call (rejected, expired, or nobody could be asked: relay unreachable, no device,
 * quota) becomes `ToolMessage({ content: <text for the model>, status: 'error' })` and the tool
 * does not run. Aborting the run (`invoke(…, { signal })`) stops the wait and rejects the run.
 * @throws NoxyError `INVALID_ARGUMENT` naming the bad option (`gate`, `identity`, …)
 * @example
 * const agent = createAgent({
 *   model, tools: [transferFunds, getBalance],
 *   middleware: [approvalMiddleware({ client, identity: 'alice@example.com', gate: ['transfer_funds'] })],
 * });
 */
export function approvalMiddleware<RunContext = unknown>(options: ApprovalMiddlewareOptions<RunContext>) {
  const setup = setupWrapper(options);
  const ruleOf = compileGate(options?.gate);
  const { title, summary } = options;
  return createMiddleware({
    name: options.name ?? 'NoxyApprovalMiddleware',
    wrapToolCall: async (request, handler) => {
      const { toolCall, runtime } = request;
      const rule = ruleOf(toolCall.name);
      const args = (toolCall.args ?? {}) as Record<string, unknown>;
      const ctx = callContextOf<RunContext>(runtime, toolCall);
      if (rule === undefined || !(await isGated(rule === true ? undefined : rule, args, ctx))) return handler(request);
      const outcome = await gateCall(
        setup,
        {
          tool: toolCall.name,
          args,
          ctx,
          toolCallId: toolCall.id,
          texts: { title, summary },
          signal: runtime.signal,
          writer: runtime.writer,
        },
        // The handler gets the gate's copy of the approved arguments, not the model's object.
        (approved) => handler({ ...request, toolCall: { ...toolCall, args: approved } }),
      );
      if (outcome.ran) return outcome.result;
      return new ToolMessage({
        content: outcome.message,
        tool_call_id: toolCall.id ?? '',
        name: toolCall.name,
        status: 'error',
      });
    },
  });
}
