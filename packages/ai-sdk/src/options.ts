/**
 * The options every export of this package shares (core's wrapper options, with the AI SDK
 * call context for the identity resolver), and the agent-written text shown on the phone.
 * @module
 */
import {
  defaultTitle,
  describeValue,
  invalidArgument,
  type ApprovalContext,
  type ApprovalWrapperOptions,
  type Identity,
  type WrapperSetup,
} from '@noxy-approval/core';
import type { AiSdkCallContext } from './context.js';

/**
 * Core's common wrapper options: a `client` (or `endpoint` + `authToken`), the `identity` to ask
 * (fixed, or a resolver of the {@link AiSdkCallContext}), `ttlSeconds`, `agent`, `holdMs`,
 * `handleSecret`, `store`, `clock`, and `requireDeviceSignature` (only approvals signed by the
 * user's device count; docs/security.md §10).
 */
export type NoxyAiSdkOptions = ApprovalWrapperOptions<AiSdkCallContext>;

/** Text for the phone: fixed, or derived from the call's input. */
export type CallText<Input> = string | ((input: Input) => string);

/** Whether a call needs the human: `false` runs it at once, without a decision. */
export type ApprovalPredicate<Input> = (input: Input, context: AiSdkCallContext) => boolean | PromiseLike<boolean>;

/**
 * Checks an optional text option when the wrapper is created.
 * @internal
 */
export function checkText(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'string' && typeof value !== 'function') {
    throw invalidArgument(field, 'a string or a function of the input', describeValue(value));
  }
}

/**
 * Checks an optional function option when the wrapper is created.
 * @internal
 */
export function checkFunction(value: unknown, field: string): void {
  if (value !== undefined && typeof value !== 'function') {
    throw invalidArgument(field, 'a function', describeValue(value));
  }
}

/**
 * The title and summary of one call: the caller's, or core's default title.
 * @internal
 */
export function callText<I>(
  tool: string,
  input: I,
  title: CallText<I> | undefined,
  summary: CallText<I> | undefined,
): { title: string; summary?: string } {
  const t = typeof title === 'function' ? title(input) : title;
  const s = typeof summary === 'function' ? summary(input) : summary;
  const args = isRecord(input) ? input : {};
  return { title: t ?? defaultTitle(tool, args), ...(s !== undefined ? { summary: s } : {}) };
}

/**
 * Core's per-call context for one AI SDK call.
 * @internal
 */
export function approvalContext(
  setup: WrapperSetup<AiSdkCallContext>,
  identity: Identity,
  toolCallId: string,
  signal: AbortSignal | undefined,
): ApprovalContext {
  return {
    identity,
    // The model's call id: a retried step with the same id continues the first decision
    // instead of asking the human twice.
    idempotencyKey: toolCallId,
    ...(setup.holdMs !== undefined ? { holdMs: setup.holdMs } : {}),
    ...(signal ? { signal } : {}),
  };
}

/**
 * Whether a value is a plain JSON-like object (what a tool call's arguments must be).
 * @internal
 */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
