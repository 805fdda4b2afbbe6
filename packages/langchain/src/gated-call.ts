/**
 * One gated tool call, shared by `withApproval` and `approvalMiddleware`: resolve who to ask
 * from the call's context, ask through core's gate with the tool call id as idempotency key,
 * report progress, and turn every way of not running into text for the model. The gate is
 * core's `runGated`; nothing here decides whether an approval covers a call.
 * @module
 */
import { NoxyError, resolveIdentity, runGated, type WrapperSetup } from '@noxy-approval/core';
import { callTexts, idempotencyKeyOf, type CallText, type LangChainCallContext } from './context.js';
import { unavailableMessage } from './messages.js';
import { createProgress, type ProgressWriter } from './progress.js';

/** What happened to a gated call. */
export type GatedCallResult<R> =
  | { ran: true; result: R }
  /** Not run; `message` is what the model reads. `reason` is the gate's, or the error code. */
  | { ran: false; reason: string; message: string };

/** One call to gate. */
export interface GatedCall<C> {
  tool: string;
  args: Record<string, unknown>;
  ctx: LangChainCallContext<C>;
  toolCallId: string | undefined;
  texts: { title?: CallText<C> | undefined; summary?: CallText<C> | undefined };
  signal: AbortSignal | undefined;
  writer: ProgressWriter;
}

/**
 * Asks and, only when core's gate allows it, runs `action` with the gate's private copy of the
 * approved arguments.
 * @throws NoxyError `ABORTED` when the run was cancelled (LangChain must see the abort, not a
 *   tool result); whatever `action` throws once it ran
 */
export async function gateCall<C, R>(
  setup: WrapperSetup<LangChainCallContext<C>>,
  call: GatedCall<C>,
  action: (approvedArgs: Record<string, unknown>) => R | Promise<R>,
): Promise<GatedCallResult<R>> {
  const progress = createProgress(call.writer, call.tool, call.toolCallId);
  let started = false;
  try {
    const identity = await resolveIdentity(setup.identity, call.ctx);
    const { title, summary } = callTexts(call.tool, call.args, call.ctx, call.texts);
    const key = idempotencyKeyOf(call.toolCallId, call.ctx);
    const gated = await runGated(
      setup.engine,
      { tool: call.tool, args: call.args, title, ...(summary !== undefined ? { summary } : {}) },
      (approved) => {
        started = true;
        return action(approved);
      },
      {
        identity,
        onPoll: progress.onPoll,
        ...(setup.holdMs !== undefined ? { holdMs: setup.holdMs } : {}),
        ...(call.signal ? { signal: call.signal } : {}),
        ...(key !== undefined ? { idempotencyKey: key } : {}),
      },
    );
    progress.finish(gated.approval.outcome);
    if (gated.status === 'executed') return { ran: true, result: gated.result };
    return { ran: false, reason: gated.reason, message: gated.message };
  } catch (error) {
    progress.finish();
    // An error of the action itself is the tool's own failure: LangChain handles it as usual.
    if (started || !NoxyError.isInstance(error)) throw error;
    if (error.code === 'ABORTED' || call.signal?.aborted) throw error;
    // Fail closed: nobody could be asked, so nothing runs, and the model is told why.
    return { ran: false, reason: error.code, message: unavailableMessage(call.tool, error) };
  }
}
