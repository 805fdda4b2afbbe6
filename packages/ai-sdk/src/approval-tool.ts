/**
 * `approvalTool(options)`: core's `request_human_approval` as an AI SDK tool, for agents that
 * decide themselves when to ask. Core's name, description and zod schema; `execute` asks the
 * configured identity (never one the model names) and returns the structured outcome and the
 * text the model should read.
 * @module
 */
import {
  APPROVAL_TOOL_DESCRIPTION,
  APPROVAL_TOOL_NAME,
  approvalInputSchema,
  resolveIdentity,
  setupWrapper,
  toApprovalOutput,
  type ApprovalInput,
  type ApprovalOutput,
} from '@noxy-approval/core';
import { tool, type Tool } from 'ai';
import { executionContext, type ExecuteOptionsLike } from './context.js';
import { approvalContext, checkFunction, type ApprovalPredicate, type NoxyAiSdkOptions } from './options.js';
import { notExecutedError } from './refusal.js';

/** The tool's name, `request_human_approval` (core's, shared by every wrapper). */
export const APPROVAL_TOOL = APPROVAL_TOOL_NAME;

/** Options of {@link approvalTool}. */
export interface ApprovalToolOptions extends NoxyAiSdkOptions {
  /**
   * Per-argument gating: `false` answers `not_required` at once, without asking anyone (e.g.
   * small amounts). Default: always ask.
   */
  when?: ApprovalPredicate<ApprovalInput>;
}

/** The answer when `when` said no approval is needed: nobody was asked. */
export interface ApprovalNotRequired {
  outcome: 'not_required';
  tool: string;
  message: string;
}

/** What `request_human_approval` returns to the model. */
export type ApprovalToolOutput = ApprovalOutput | ApprovalNotRequired;

/**
 * Creates the `request_human_approval` tool. Register it under {@link APPROVAL_TOOL}.
 *
 * Outcomes are results (`approved`, `rejected`, `expired`, `pending`, each with its `message`);
 * a request that cannot be made (relay down, no device, quota) is thrown as a `NoxyError`
 * naming the cause, which the SDK reports to the model as a tool error. The SDK's
 * `abortSignal` cancels the wait, and the `toolCallId` is the idempotency key: a retried step
 * with the same id continues the first decision instead of asking again.
 * @throws NoxyError `INVALID_ARGUMENT` for bad options
 * @example
 * const tools = { [APPROVAL_TOOL]: approvalTool({ client, identity: 'alice@example.com' }), transfer_funds };
 * await generateText({ model, tools, prompt, stopWhen: stepCountIs(4) });
 */
export function approvalTool(options: ApprovalToolOptions): Tool<ApprovalInput, ApprovalToolOutput> {
  checkFunction(options?.when, 'when');
  const setup = setupWrapper(options);
  const { when } = options;
  return tool({
    description: APPROVAL_TOOL_DESCRIPTION,
    inputSchema: approvalInputSchema,
    async execute(input, execOptions): Promise<ApprovalToolOutput> {
      const context = executionContext(APPROVAL_TOOL_NAME, input, execOptions as ExecuteOptionsLike);
      if (when && !(await when(input, context))) {
        return {
          outcome: 'not_required',
          tool: input.tool,
          message: `No approval is needed for "${input.tool}" with these arguments; nobody was asked.`,
        };
      }
      try {
        const identity = await resolveIdentity(setup.identity, context);
        const result = await setup.engine.request(
          input,
          approvalContext(setup, identity, execOptions.toolCallId, execOptions.abortSignal),
        );
        return toApprovalOutput(result);
      } catch (error) {
        throw notExecutedError(input.tool, error);
      }
    },
  });
}
