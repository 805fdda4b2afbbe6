/**
 * `resolveToolApprovals(...)`: answers AI SDK 6's `needsApproval` requests (also works on 7)
 * from the user's device. The SDK stops a step at a tool that needs approval and returns
 * `tool-approval-request` parts; this asks the phone for all of them in parallel and returns
 * the `tool` message of `tool-approval-response` parts to append before the next call, which
 * then runs the approved tools and tells the model about the denied ones.
 *
 * Binding limit: the SDK runs an approved tool in the next call, with the input of the
 * tool-call part in the messages you pass back. Each approval is checked with core's gate
 * against the request's `toolCall.input`, but nothing here can check the messages that come
 * back later; pass them back unchanged (or also wrap the tool with `withApproval`).
 * @module
 */
import { describeValue, invalidArgument, setupWrapper, type WrapperSetup } from '@noxy-approval/core';
import type { AiSdkCallContext } from './context.js';
import { decide, type DecideOptions } from './decide.js';
import { checkFunction, checkText, type NoxyAiSdkOptions } from './options.js';

/** A `tool-approval-request` content part (AI SDK 6 and 7), as far as this package reads it. */
export interface ToolApprovalRequestPart {
  type: 'tool-approval-request';
  approvalId: string;
  toolCall: { toolName: string; toolCallId: string; input: unknown };
  /** AI SDK 7: already decided by the SDK itself (e.g. by `toolApproval`); left alone. */
  isAutomatic?: boolean;
}

/** A `tool-approval-response` part, the answer to one request. */
export interface ToolApprovalResponsePart {
  type: 'tool-approval-response';
  approvalId: string;
  approved: boolean;
  /** For a denial: what the model reads (e.g. "The user rejected … do not retry it"). */
  reason?: string;
}

/** The message to append to the conversation before the next `generateText` / `streamText`. */
export interface ToolApprovalResponseMessage {
  role: 'tool';
  content: ToolApprovalResponsePart[];
}

/** What to answer: the last result's `content` (or the result itself), and the call's facts. */
export interface ToolApprovalsInput {
  /** `result.content` of the call that stopped for approval. */
  content?: readonly unknown[];
  /** Or the result itself (its `content` is read). */
  result?: { content: readonly unknown[] | PromiseLike<readonly unknown[]> };
  /** The conversation so far, passed to the identity resolver and `when`. */
  messages?: readonly unknown[];
  /** Passed to the identity resolver and `when` as `context`. */
  context?: unknown;
}

/** Options of {@link createToolApprovalResolver}. */
export interface ToolApprovalResolverOptions extends NoxyAiSdkOptions, DecideOptions {}

/** Answers the approval requests of one result. */
export type ToolApprovalResolver = (input: ToolApprovalsInput) => Promise<ToolApprovalResponseMessage>;

/**
 * A resolver with one engine for many calls: a retried resolution of the same tool call (same
 * `toolCallId`) continues the first decision instead of asking the human again.
 * @throws NoxyError `INVALID_ARGUMENT` for bad options
 */
export function createToolApprovalResolver(options: ToolApprovalResolverOptions): ToolApprovalResolver {
  checkFunction(options?.when, 'when');
  checkText(options?.title, 'title');
  checkText(options?.summary, 'summary');
  const setup = setupWrapper(options);
  return (input) => resolveWith(setup, options, input);
}

/**
 * Asks the user's device for every `tool-approval-request` of a result, in parallel, and
 * returns the `tool` message with one `tool-approval-response` per request: approved only if
 * the user approved exactly that call; otherwise `approved: false` with the reason the model
 * reads. Requests `when` declines are approved without asking. Its `content` is empty when
 * there was nothing to answer (then there is nothing to append).
 *
 * A request that cannot be made (relay down, no device, quota, abort of `signal`) rejects with
 * a `NoxyError` naming the cause and cancels the other waits: nothing is approved then.
 * Each call builds its own engine; pass a shared `store` (or use
 * {@link createToolApprovalResolver}) so that retries with the same `toolCallId` ask only once.
 * @example
 * const first = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
 * messages.push(...first.response.messages);
 * messages.push(await resolveToolApprovals({ result: first, client, identity: 'alice@example.com' }));
 * const second = await generateText({ model, tools, messages, stopWhen: stepCountIs(3) });
 */
export async function resolveToolApprovals(
  options: ToolApprovalsInput & ToolApprovalResolverOptions,
): Promise<ToolApprovalResponseMessage> {
  checkFunction(options?.when, 'when');
  checkText(options?.title, 'title');
  checkText(options?.summary, 'summary');
  const setup = setupWrapper(options);
  try {
    return await resolveWith(setup, options, options);
  } finally {
    setup.close();
  }
}

async function resolveWith(
  setup: WrapperSetup<AiSdkCallContext>,
  options: DecideOptions,
  input: ToolApprovalsInput,
): Promise<ToolApprovalResponseMessage> {
  const content = input.content ?? (input.result ? await input.result.content : undefined);
  if (!Array.isArray(content)) {
    throw invalidArgument('content', 'the content parts of a result (or give "result")', describeValue(content));
  }
  const requests = content.filter(isOpenRequest);
  if (requests.length === 0) return { role: 'tool', content: [] };
  // One failed request fails them all: stop the sibling waits instead of leaving them polling.
  const inner = new AbortController();
  const outer = options.signal;
  const forward = () => inner.abort(outer?.reason);
  if (outer?.aborted) forward();
  else outer?.addEventListener('abort', forward, { once: true });
  try {
    const answers = await Promise.all(
      requests.map(async (part): Promise<ToolApprovalResponsePart> => {
        const { toolName, toolCallId, input: callInput } = part.toolCall;
        const call: AiSdkCallContext = {
          toolName,
          toolCallId,
          input: callInput,
          messages: input.messages ?? [],
          context: input.context,
        };
        try {
          const d = await decide(setup, call, { ...options, signal: inner.signal }, false);
          const approved = 'notApplicable' in d || d.approved;
          return {
            type: 'tool-approval-response',
            approvalId: part.approvalId,
            approved,
            ...(!approved && 'reason' in d ? { reason: d.reason } : {}),
          };
        } catch (error) {
          inner.abort(error);
          throw error;
        }
      }),
    );
    return { role: 'tool', content: answers };
  } finally {
    outer?.removeEventListener('abort', forward);
  }
}

function isOpenRequest(part: unknown): part is ToolApprovalRequestPart {
  if (typeof part !== 'object' || part === null) return false;
  const p = part as Partial<ToolApprovalRequestPart>;
  return p.type === 'tool-approval-request' && p.isAutomatic !== true && typeof p.approvalId === 'string';
}
