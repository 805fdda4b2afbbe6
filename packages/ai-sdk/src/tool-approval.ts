/**
 * `noxyToolApproval(options)`: a value for AI SDK 7's `toolApproval` option of `generateText` /
 * `streamText` that answers each approval on the user's device inside the same call — no
 * second call, no approval UI. The SDK awaits it before running the tool.
 *
 * Two SDK facts shape it: no abort signal reaches `toolApproval`,
 * so the caller's `signal` is given here, and an abort rejects the pending approval at once so
 * the SDK runs nothing after it; and the SDK resolves approvals one at a time, so two gated
 * calls of one step are two waits in a row.
 *
 * Binding, as far as the SDK allows: the approval covers exactly `toolCall.input`, checked
 * with core's gate (hash, single use, deadline); the input object — the very one the SDK then
 * passes to `execute` — is deep-frozen before the request. The tool itself still runs in the
 * SDK, which this package cannot see into: wrap it with `withApproval` as well if `execute`
 * must receive the gate's private copy.
 * @module
 */
import { describeValue, invalidArgument, setupWrapper } from '@noxy-approval/core';
import type { AiSdkCallContext } from './context.js';
import { decide, type Decision, type DecideOptions } from './decide.js';
import { checkFunction, checkText, type NoxyAiSdkOptions } from './options.js';

/** The statuses this package answers; a subset of AI SDK 7's `ToolApprovalStatus`. */
export type NoxyToolApprovalStatus = 'approved' | 'not-applicable' | { type: 'denied'; reason: string };

/** What AI SDK 7 passes to a generic `toolApproval` function (the part this package reads). */
export interface ToolApprovalRequestLike {
  toolCall: { toolName: string; toolCallId: string; input: unknown };
  messages: readonly unknown[];
  toolsContext?: unknown;
  runtimeContext?: unknown;
}

/** What AI SDK 7 passes to a per-tool `toolApproval` function (the part this package reads). */
export interface ToolApprovalOptionsLike {
  toolCallId: string;
  messages: readonly unknown[];
  toolContext?: unknown;
  runtimeContext?: unknown;
}

/** Options of {@link noxyToolApproval} and {@link noxyToolApprovalMap}. */
export interface NoxyToolApprovalOptions extends NoxyAiSdkOptions, DecideOptions {}

/** A generic `toolApproval` function. */
export type NoxyToolApprovalFunction = (request: ToolApprovalRequestLike) => Promise<NoxyToolApprovalStatus>;

/** A per-tool `toolApproval` function. */
export type NoxySingleToolApproval = (
  input: unknown,
  options: ToolApprovalOptionsLike,
) => Promise<NoxyToolApprovalStatus>;

const statusOf = (d: Decision): NoxyToolApprovalStatus =>
  'notApplicable' in d ? 'not-applicable' : d.approved ? 'approved' : { type: 'denied', reason: d.reason };

function checkOptions(options: NoxyToolApprovalOptions): void {
  checkFunction(options?.when, 'when');
  checkText(options?.title, 'title');
  checkText(options?.summary, 'summary');
  const signal: unknown = options?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw invalidArgument('signal', 'an AbortSignal', describeValue(signal));
  }
}

/**
 * A generic `toolApproval` function for AI SDK 7: every tool call (or those `when` selects)
 * waits for the user's answer on their device. `'approved'` lets the SDK run it; a rejection,
 * expiry or a failed check is `{ type: 'denied', reason }` with the text the model reads; a
 * request that cannot be made rejects with a `NoxyError` naming the cause (the SDK's call
 * fails, nothing runs), and so does an abort of `signal` (`ABORTED`).
 * @throws NoxyError `INVALID_ARGUMENT` for bad options
 * @example
 * const controller = new AbortController();
 * await generateText({ model, tools, prompt, stopWhen: stepCountIs(3), abortSignal: controller.signal,
 *   toolApproval: noxyToolApproval({ client, identity: 'alice@example.com', signal: controller.signal,
 *     when: (input, { toolName }) => toolName === 'transfer_funds' }) });
 */
export function noxyToolApproval(options: NoxyToolApprovalOptions): NoxyToolApprovalFunction {
  checkOptions(options);
  const setup = setupWrapper(options);
  return async ({ toolCall, messages, toolsContext, runtimeContext }) => {
    const context: AiSdkCallContext = {
      toolName: toolCall.toolName,
      toolCallId: toolCall.toolCallId,
      input: toolCall.input,
      messages,
      context: contextOf(toolsContext, toolCall.toolName),
      runtimeContext,
    };
    return statusOf(await decide(setup, context, options, true));
  };
}

/**
 * The per-tool form of AI SDK 7's `toolApproval`: `{ [name]: fn }` for the named tools only;
 * the other tools need no approval. One engine serves them all.
 * @throws NoxyError `INVALID_ARGUMENT` for bad options or no tool names
 * @example
 * toolApproval: noxyToolApprovalMap(['transfer_funds', 'delete_account'], { client, identity })
 */
export function noxyToolApprovalMap<const Name extends string>(
  toolNames: readonly Name[],
  options: NoxyToolApprovalOptions,
): Record<Name, NoxySingleToolApproval> {
  const names: readonly string[] = toolNames;
  if (!Array.isArray(names) || names.length === 0 || names.some((n: unknown) => typeof n !== 'string' || !n)) {
    throw invalidArgument('toolNames', 'a non-empty array of tool names', describeValue(toolNames));
  }
  checkOptions(options);
  const setup = setupWrapper(options);
  const map = Object.create(null) as Record<Name, NoxySingleToolApproval>;
  for (const toolName of toolNames) {
    map[toolName] = async (input, o) =>
      statusOf(
        await decide(
          setup,
          {
            toolName,
            toolCallId: o.toolCallId,
            input,
            messages: o.messages,
            context: o.toolContext,
            runtimeContext: o.runtimeContext,
          },
          options,
          true,
        ),
      );
  }
  return map;
}

/** A tool's entry of AI SDK 7's `toolsContext` (what that tool's `execute` gets as `context`). */
function contextOf(toolsContext: unknown, toolName: string): unknown {
  if (typeof toolsContext !== 'object' || toolsContext === null || !Object.hasOwn(toolsContext, toolName)) {
    return undefined;
  }
  return (toolsContext as Record<string, unknown>)[toolName];
}
