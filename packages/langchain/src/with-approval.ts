/**
 * `withApproval(tool, options)`: the same tool (name, description, schema), except that each
 * call first asks the user's device, and the inner tool runs only through core's gate — when
 * the call was approved and the arguments about to run are exactly the approved ones.
 * @module
 */
import { ToolMessage } from '@langchain/core/messages';
import { tool, type StructuredToolInterface, type ToolRuntime } from '@langchain/core/tools';
import { setupWrapper, type ApprovalWrapperOptions } from '@noxy-approval/core';
import { callContextOf, isGated, type CallPredicate, type CallText, type LangChainCallContext } from './context.js';
import { gateCall } from './gated-call.js';

/** Options of {@link withApproval}. */
export interface WithApprovalOptions<RunContext = unknown>
  extends ApprovalWrapperOptions<LangChainCallContext<RunContext>> {
  /** The headline on the phone (default `defaultTitle(name, args)`, e.g. `Run transfer_funds (to: "bob")`). */
  title?: CallText<RunContext>;
  /** A sentence on why, shown labelled as the agent's. */
  summary?: CallText<RunContext>;
  /** Gate only the calls for which this returns true (default: every call). */
  when?: CallPredicate<RunContext>;
}

/**
 * Wraps a LangChain tool so that it runs only after the user approves that exact call.
 * A rejected or expired call (or one nobody could be asked about: relay down, no device,
 * quota) returns core's text for the model — as a ToolMessage with `status: 'error'` when the
 * tool was called with a tool call — and the inner tool does not run.
 *
 * The approved arguments are the ones the outer tool parsed with the inner tool's schema; the
 * inner tool receives the gate's copy of them (and validates them again, as any tool does).
 * @param inner a structured tool (an object schema); its result reaches the model unchanged
 * @throws NoxyError `INVALID_ARGUMENT` naming the bad option
 * @example
 * const transfer = withApproval(transferFunds, {
 *   client, identity: (ctx) => ctx.configurable?.user_email as string,
 *   when: (args) => Number(args.amount) > 100,
 * });
 */
export function withApproval<RunContext = unknown>(
  inner: StructuredToolInterface,
  options: WithApprovalOptions<RunContext>,
) {
  const setup = setupWrapper(options);
  const { title, summary, when } = options;
  const name = inner.name;

  const invokeInner = (args: Record<string, unknown>, runtime: ToolRuntime | undefined): Promise<unknown> => {
    const call = runtime?.toolCall;
    // Called with a tool call, the inner tool formats its own ToolMessage (content, artifact),
    // which passes through the outer tool untouched.
    if (call) return inner.invoke({ ...call, args, type: 'tool_call' }, runtime);
    return inner.invoke(args, runtime);
  };

  return tool(
    async (args: Record<string, unknown>, runtime: ToolRuntime): Promise<unknown> => {
      const toolCallId = runtime?.toolCall?.id ?? runtime?.toolCallId;
      const ctx = callContextOf<RunContext>(runtime);
      if (!(await isGated(when, args, ctx))) return invokeInner(args, runtime);
      const outcome = await gateCall(
        setup,
        {
          tool: name,
          args,
          ctx,
          toolCallId,
          texts: { title, summary },
          signal: runtime?.signal,
          writer: runtime?.writer,
        },
        (approved) => invokeInner(approved, runtime),
      );
      if (outcome.ran) return outcome.result;
      if (toolCallId === undefined) return outcome.message;
      return new ToolMessage({ content: outcome.message, tool_call_id: toolCallId, name, status: 'error' });
    },
    {
      name,
      description: inner.description,
      // biome-ignore lint/suspicious/noExplicitAny: the inner tool's schema, whatever its kind (zod 3/4, JSON schema)
      schema: inner.schema as any,
      ...(inner.returnDirect ? { returnDirect: true } : {}),
    },
  );
}
