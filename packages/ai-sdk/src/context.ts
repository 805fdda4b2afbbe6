/**
 * What an identity resolver and a `when` predicate see of one AI SDK tool call: the facts the
 * SDK hands over, under one name for AI SDK 6 and 7 (`experimental_context` in 6, the tool's
 * `context` in 7), so a multi-user app can route each call to the right person.
 * @module
 */

/** One tool call as the AI SDK describes it; the argument of identity resolvers and predicates. */
export interface AiSdkCallContext {
  /** The tool's name: its key in `tools` (or the `name` given to `withApproval`). */
  toolName: string;
  /** The model's id for this call; also the idempotency key of the approval request. */
  toolCallId: string;
  /** The call's input, as parsed by the tool's `inputSchema`. */
  input: unknown;
  /** The messages sent to the model for the step that made the call (as the SDK passes them). */
  messages: readonly unknown[];
  /**
   * The caller's context: AI SDK 6's `experimental_context`; AI SDK 7's tool context (the
   * tool's entry of `toolsContext`, as `execute` receives it). For `resolveToolApprovals`, the
   * `context` option.
   */
  context: unknown;
  /** AI SDK 7's `runtimeContext`, where the SDK gives it (`toolApproval`); otherwise undefined. */
  runtimeContext?: unknown;
}

/**
 * The options `execute` receives, as far as this package reads them: the common part of AI SDK
 * 6's and 7's `ToolExecutionOptions`, taken structurally so one build serves both majors.
 */
export interface ExecuteOptionsLike {
  toolCallId: string;
  messages?: readonly unknown[];
  abortSignal?: AbortSignal;
  /** AI SDK 6. */
  experimental_context?: unknown;
  /** AI SDK 7. */
  context?: unknown;
}

/**
 * The call context of an `execute` call.
 * @internal
 */
export function executionContext(toolName: string, input: unknown, options: ExecuteOptionsLike): AiSdkCallContext {
  return {
    toolName,
    toolCallId: options.toolCallId,
    input,
    messages: options.messages ?? [],
    // 7 passes `context` (and no experimental_context); 6 the reverse.
    context: options.context !== undefined ? options.context : options.experimental_context,
  };
}
