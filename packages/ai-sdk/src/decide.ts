/**
 * One approval decided on the phone for a tool call the SDK itself will run (AI SDK 7's
 * `toolApproval`, AI SDK 6's `needsApproval` requests): ask, wait, and check the answer with
 * core's gate before telling the SDK "approved".
 *
 * Here the SDK, not the gate, runs the tool after the answer. So the gate's run is an empty
 * action: `executeApproved` still checks that the approval is the first report, that exactly
 * this input hashes to the approved `action_hash`, claims the approval's single execution and
 * checks the deadline. What it cannot do is hand the tool its private copy — the SDK passes its
 * own input object. Where that object is the one the SDK will execute (7's `toolApproval`) it
 * is frozen before the request, so what runs is what the human saw.
 * @module
 */
import {
  describeValue,
  executeApproved,
  invalidArgument,
  resolveIdentity,
  type WrapperSetup,
} from '@noxy-approval/core';
import type { AiSdkCallContext } from './context.js';
import { approvalContext, callText, isRecord, type ApprovalPredicate, type CallText } from './options.js';
import { notExecutedError } from './refusal.js';

/** A tool call as an approval function sees it: the name and the parsed input. */
export interface ToolCallInfo {
  toolName: string;
  input: unknown;
}

/** What decides about calls the SDK runs itself. */
export interface DecideOptions {
  /** Cancels every wait; after an abort the answer is a rejection (`ABORTED`), never an approval. */
  signal?: AbortSignal;
  /** Per-argument gating: `false` → no approval needed (the call runs without asking). */
  when?: ApprovalPredicate<unknown>;
  /** Headline on the phone (default: core's `Run <tool> (<args>)`). */
  title?: CallText<ToolCallInfo>;
  /** Why, shown labelled as written by the agent. */
  summary?: CallText<ToolCallInfo>;
}

/** The answer for one call. */
export type Decision = { approved: true } | { approved: false; reason: string } | { notApplicable: true };

/**
 * Asks for `call` and checks the answer with the gate.
 * @param freeze deep-freeze the input first (the SDK will execute this very object)
 * @throws NoxyError when the request fails (`ABORTED`, `NO_DEVICES`, `RELAY_UNAVAILABLE`, …)
 * @internal
 */
export async function decide(
  setup: WrapperSetup<AiSdkCallContext>,
  call: AiSdkCallContext,
  options: DecideOptions,
  freeze: boolean,
): Promise<Decision> {
  const { toolName, input } = call;
  if (options.when && !(await options.when(input, call))) return { notApplicable: true };
  if (!isRecord(input)) throw invalidArgument('input', 'an object (the tool call arguments)', describeValue(input));
  if (freeze) deepFreeze(input);
  const info: ToolCallInfo = { toolName, input };
  const title = typeof options.title === 'function' ? options.title(info) : options.title;
  const summary = typeof options.summary === 'function' ? options.summary(info) : options.summary;
  try {
    const identity = await resolveIdentity(setup.identity, call);
    const approval = await setup.engine.request(
      { tool: toolName, args: input, ...callText(toolName, input, title, summary) },
      approvalContext(setup, identity, call.toolCallId, options.signal),
    );
    const checked = await executeApproved(setup.engine, approval, { tool: toolName, args: input }, () => undefined);
    return checked.status === 'executed' ? { approved: true } : { approved: false, reason: checked.message };
  } catch (error) {
    throw notExecutedError(toolName, error);
  }
}

/** Freezes a JSON-like value in place, so nothing can change it between approval and run. */
function deepFreeze(value: unknown, seen = new WeakSet<object>()): void {
  if (typeof value !== 'object' || value === null || seen.has(value)) return;
  seen.add(value);
  Object.freeze(value);
  for (const child of Object.values(value)) deepFreeze(child, seen);
}
