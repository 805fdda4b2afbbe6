/**
 * `request_human_approval` as a LangChain tool: the model asks the user's device before a
 * risky action and reads the answer. Core's name, description and schema; core's engine.
 *
 * The tool uses `responseFormat: 'content_and_artifact'`, as LangChain's own retriever and
 * search tools do: the model reads core's outcome text (the ToolMessage `content`), and the
 * application gets the structured outcome as the ToolMessage `artifact` (core's snake_case
 * `ApprovalOutput`: outcome, decision_id, handle, action_hash, …) without it cluttering the
 * prompt. Invoked with plain arguments instead of a tool call, LangChain returns the text only.
 * @module
 */
import { tool, type ToolRuntime } from '@langchain/core/tools';
import {
  APPROVAL_TOOL_DESCRIPTION,
  APPROVAL_TOOL_NAME,
  NoxyError,
  approvalInputSchema,
  resolveIdentity,
  setupWrapper,
  toApprovalOutput,
  type ApprovalInput,
  type ApprovalOutput,
  type ApprovalWrapperOptions,
  type NoxyErrorCode,
} from '@noxy-approval/core';
import { callContextOf, idempotencyKeyOf, type LangChainCallContext } from './context.js';
import { pendingHint, unavailableMessage } from './messages.js';
import { createProgress } from './progress.js';

/** Options of {@link createApprovalTool}: core's common wrapper options. */
export type ApprovalToolOptions<RunContext = unknown> = ApprovalWrapperOptions<LangChainCallContext<RunContext>>;

/** The artifact when nobody could be asked (relay down, no device, quota…): nothing was approved. */
export interface ApprovalToolError {
  outcome: 'error';
  code: NoxyErrorCode;
  message: string;
}

/** The ToolMessage `artifact` of `request_human_approval`. */
export type ApprovalToolArtifact = ApprovalOutput | ApprovalToolError;

/**
 * Creates the `request_human_approval` tool. Each call waits until the user decides or the
 * decision expires (or, with `holdMs`, answers `pending` when the hold ends first).
 * @returns a LangChain tool named `request_human_approval`; its result is
 *   `[text for the model, ApprovalToolArtifact]`
 * @throws NoxyError `INVALID_ARGUMENT` naming the bad option
 * @example
 * const approval = createApprovalTool({ client, identity: 'alice@example.com' });
 * const agent = createAgent({ model, tools: [approval, transferFunds] });
 */
export function createApprovalTool<RunContext = unknown>(options: ApprovalToolOptions<RunContext>) {
  const setup = setupWrapper(options, pendingHint);
  return tool(
    async (input: ApprovalInput, runtime: ToolRuntime): Promise<[string, ApprovalToolArtifact]> => {
      const ctx = callContextOf<RunContext>(runtime);
      const toolCallId = runtime?.toolCall?.id ?? runtime?.toolCallId;
      const progress = createProgress(runtime?.writer, input.tool, toolCallId);
      try {
        const identity = await resolveIdentity(setup.identity, ctx);
        const key = idempotencyKeyOf(toolCallId, ctx);
        const result = await setup.engine.request(input, {
          identity,
          onPoll: progress.onPoll,
          ...(setup.holdMs !== undefined ? { holdMs: setup.holdMs } : {}),
          ...(runtime?.signal ? { signal: runtime.signal } : {}),
          ...(key !== undefined ? { idempotencyKey: key } : {}),
        });
        progress.finish(result.outcome);
        return [result.message, toApprovalOutput(result)];
      } catch (error) {
        progress.finish();
        if (!NoxyError.isInstance(error) || error.code === 'ABORTED' || runtime?.signal?.aborted) throw error;
        const message = unavailableMessage(input.tool, error);
        return [message, { outcome: 'error', code: error.code, message }];
      }
    },
    {
      name: APPROVAL_TOOL_NAME,
      description: APPROVAL_TOOL_DESCRIPTION,
      schema: approvalInputSchema,
      responseFormat: 'content_and_artifact',
    },
  );
}
