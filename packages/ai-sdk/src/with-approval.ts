/**
 * `withApproval(tool, options)`: the same AI SDK tool, whose `execute` runs only after the user
 * approved exactly this call on their device. The run goes through core's gate (`runGated`):
 * approved, first report, arguments hashing to the approved `action_hash`, once, before the
 * deadline. This module only adapts the SDK's call to the gate and the gate's answer to a tool
 * result; it makes no approval decision of its own.
 * @module
 */
import {
  invalidArgument,
  resolveIdentity,
  runGated,
  setupWrapper,
  describeValue,
  type GateResult,
} from '@noxy-approval/core';
import { executionContext, type AiSdkCallContext, type ExecuteOptionsLike } from './context.js';
import {
  approvalContext,
  callText,
  checkFunction,
  checkText,
  isRecord,
  type ApprovalPredicate,
  type CallText,
  type NoxyAiSdkOptions,
} from './options.js';
import { isApprovalRefusal, notExecutedError, refusalOf } from './refusal.js';

/**
 * Any AI SDK tool with an `execute` (6 or 7), taken structurally. `never` parameters accept
 * every function, so a tool of either major fits without importing its types.
 */
export interface ExecutableToolLike {
  execute?: ((input: never, options: never) => unknown) | undefined;
  toModelOutput?: ((options: never) => unknown) | undefined;
}

/** The input type of a tool's `execute`. */
export type ToolInput<T extends ExecutableToolLike> =
  NonNullable<T['execute']> extends (input: infer I, options: never) => unknown ? I : unknown;

/** Options of {@link withApproval}. */
export interface WithApprovalOptions<Input> extends NoxyAiSdkOptions {
  /**
   * The tool's name as the model calls it (its key in `tools`): shown on the phone and part of
   * the approved action. The SDK does not tell `execute` its tool's name, so it is given here.
   */
  name: string;
  /** Headline on the phone (default: core's `Run <name> (<args>)`). Agent-written, shown as such. */
  title?: CallText<Input>;
  /** Why, in a sentence or two, shown labelled as written by the agent. */
  summary?: CallText<Input>;
  /** Per-argument gating: `false` runs the call at once without asking (default: always ask). */
  when?: ApprovalPredicate<Input>;
}

type Execute = (input: unknown, options: ExecuteOptionsLike) => unknown;
type ToModelOutput = (options: { toolCallId: string; input: unknown; output: unknown }) => unknown;

const AsyncGeneratorFunction = Object.getPrototypeOf(async function* () {}).constructor;

/**
 * Wraps `tool` so that its `execute` runs only when the user approves this exact call on their
 * device. Approved: the tool's real result. Rejected, expired, pending, or a call that does not
 * match its approval: an {@link ApprovalRefusal} the model reads (not a thrown error), and the
 * tool did not run. A request that cannot be made (relay down, no device, quota) is thrown as a
 * `NoxyError` naming the cause, which the SDK reports to the model as a tool error; nothing ran.
 *
 * The SDK's `abortSignal` cancels the wait; the model's `toolCallId` is the idempotency key, so
 * a retried step with the same id asks nobody again and does not run the tool a second time.
 *
 * The returned tool keeps `tool`'s type; at run time its output may also be an
 * {@link ApprovalRefusal} (see {@link isApprovalRefusal}).
 * @throws NoxyError `INVALID_ARGUMENT` for bad options or a tool without `execute`
 * @example
 * const transfer = withApproval(
 *   tool({ description: 'Send money', inputSchema: z.object({ to: z.string(), amount: z.number() }),
 *     execute: async ({ to, amount }) => bank.transfer(to, amount) }),
 *   { name: 'transfer_funds', client, identity: 'alice@example.com', when: ({ amount }) => amount > 100 },
 * );
 * await generateText({ model, tools: { transfer_funds: transfer }, prompt, stopWhen: stepCountIs(3) });
 */
export function withApproval<T extends ExecutableToolLike>(tool: T, options: WithApprovalOptions<ToolInput<T>>): T {
  if (typeof tool !== 'object' || tool === null || typeof tool.execute !== 'function') {
    throw invalidArgument('tool', 'an AI SDK tool with an execute function', describeValue(tool?.execute));
  }
  if (typeof options?.name !== 'string' || options.name === '') {
    throw invalidArgument('name', "the tool's name as the model calls it", describeValue(options?.name));
  }
  checkText(options.title, 'title');
  checkText(options.summary, 'summary');
  checkFunction(options.when, 'when');
  const setup = setupWrapper(options);
  const { name, when } = options;
  const original = tool.execute as unknown as Execute;

  /** The gate's answer for one call, or the tool's own result when no approval is needed. */
  async function gated(
    input: unknown,
    execOptions: ExecuteOptionsLike,
  ): Promise<{ run: unknown } | GateResult<unknown>> {
    const context: AiSdkCallContext = executionContext(name, input, execOptions);
    if (when && !(await when(input as ToolInput<T>, context))) return { run: original(input, execOptions) };
    if (!isRecord(input)) throw invalidArgument('input', 'an object (the tool call arguments)', describeValue(input));
    let started = false;
    try {
      const identity = await resolveIdentity(setup.identity, context);
      const request = {
        tool: name,
        args: input,
        ...callText(name, input as ToolInput<T>, options.title, options.summary),
      };
      return await runGated(
        setup.engine,
        request,
        // The gate passes its private copy of exactly the approved arguments.
        (approved) => {
          started = true;
          return original(approved, execOptions);
        },
        approvalContext(setup, identity, execOptions.toolCallId, execOptions.abortSignal),
      );
    } catch (error) {
      // The tool's own failure is its own; only a failed approval request is explained.
      throw started ? error : notExecutedError(name, error);
    }
  }

  const unwrap = (r: { run: unknown } | GateResult<unknown>) =>
    'run' in r ? r.run : r.status === 'executed' ? r.result : refusalOf(r);

  // A streaming tool (an async generator) stays one: its preliminary outputs still stream.
  const execute =
    original instanceof AsyncGeneratorFunction
      ? async function* (input: unknown, execOptions: ExecuteOptionsLike) {
          const out = unwrap(await gated(input, execOptions));
          if (isApprovalRefusal(out)) yield out;
          else yield* out as AsyncIterable<unknown>;
        }
      : async (input: unknown, execOptions: ExecuteOptionsLike) => unwrap(await gated(input, execOptions));

  const wrapped: Record<string, unknown> = { ...(tool as object), execute };
  const toModelOutput = tool.toModelOutput as unknown as ToModelOutput | undefined;
  if (toModelOutput) {
    // The tool's converter knows its own output, not a refusal: the model gets that as JSON.
    wrapped.toModelOutput = (o: { toolCallId: string; input: unknown; output: unknown }) =>
      isApprovalRefusal(o.output) ? { type: 'json', value: o.output } : toModelOutput(o);
  }
  return wrapped as T;
}
