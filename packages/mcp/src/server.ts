/**
 * `createApprovalServer` — an MCP server with `request_human_approval` and
 * `check_human_approval` (docs/approvals.md).
 *
 * MCP hosts cut tool calls at about 60 s; humans are slower. So the request tool holds for a
 * bounded window (default 45 s), sending progress notifications every ≤ 15 s only when the
 * call carries a progressToken, then answers `pending` with a decision handle; the check tool
 * resumes the wait — in this process, after a restart, or in another replica with the same
 * handle secret. A host timeout is therefore never reported as rejected or expired.
 * Cancellation (notifications/cancelled) aborts the wait and the in-flight RPC.
 * @module
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import {
  APPROVAL_TOOL_DESCRIPTION,
  APPROVAL_TOOL_NAME,
  approvalInputSchema,
  approvalOutputSchema,
  CHECK_APPROVAL_TOOL_DESCRIPTION,
  CHECK_APPROVAL_TOOL_NAME,
  checkApprovalInputSchema,
  checkIdentitySource,
  createApprovalEngine,
  NoxyError,
  resolveIdentity,
  toApprovalOutput,
  type AgentInfo,
  type ApprovalContext,
  type ApprovalInput,
  type ApprovalResult,
  type ApprovalStore,
  type CheckApprovalInput,
  type Clock,
  type IdentitySource,
  type NoxyClient,
} from '@noxy-approval/core';

/** The context of one MCP tool call, handed to identity and owner resolvers. */
export interface IdentityContext {
  /** MCP session id (Streamable HTTP), when there is one. */
  sessionId?: string | undefined;
  /** Authentication info the HTTP transport attached, when there is any. */
  authInfo?: { clientId: string } | undefined;
}

/** Options of {@link createApprovalServer}. */
export interface ApprovalServerOptions {
  /** A Noxy client (see `createNoxyClient` in @noxy-approval/core). */
  client: NoxyClient;
  /** Who to ask: fixed configuration or a function of the MCP call's context, never the model. */
  identity: IdentitySource<IdentityContext>;
  /**
   * Who owns a decision, so that only its creator can check it (default {@link defaultOwner}:
   * the authenticated principal, else the MCP session, else the identity alone — stdio).
   */
  owner?: (ctx: IdentityContext) => string;
  /**
   * Keys the decision handles that `check_human_approval` takes, so that a restarted server or a
   * second replica with the same secret resumes them (≥ 16 bytes; `noxy-mcp` passes
   * `NOXY_HANDLE_SECRET`, else its app token). Omitted → handles resume only in this process.
   */
  handleSecret?: string | Uint8Array;
  /** Longest hold before answering `pending`, ms (default 45,000: below the usual 60 s host timeout). */
  holdMs?: number;
  /** Progress notification interval when a progressToken is present, ms (default 10,000; max 15,000). */
  progressIntervalMs?: number;
  /** TTL of each approval in seconds (default 600). */
  ttlSeconds?: number;
  /** Shown to the human as the requester. */
  agent?: AgentInfo;
  store?: ApprovalStore;
  clock?: Clock;
  /** Called when a tool call fails (relay unreachable, no device, …), besides telling the model. */
  onError?: (tool: string, error: unknown) => void;
  /** Server name and version reported to the host. */
  name?: string;
  version?: string;
}

/**
 * The default owner of a decision: the authenticated principal when the transport attached one,
 * else the MCP session, else `''` (stdio: one host, the configured identity).
 */
export function defaultOwner(ctx: IdentityContext): string {
  if (ctx.authInfo) return `principal:${ctx.authInfo.clientId}`;
  if (ctx.sessionId) return `session:${ctx.sessionId}`;
  return '';
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** The package version, reported to hosts. */
export const SERVER_VERSION = '0.1.0';

function errorResult(err: unknown): CallToolResult {
  const code = NoxyError.isInstance(err) ? err.code : 'ERROR';
  const why = err instanceof Error ? err.message : String(err);
  return {
    isError: true,
    content: [
      {
        type: 'text',
        text: `Human approval failed (${code}): ${why}. Nothing was approved: do not perform the action.`,
      },
    ],
  };
}

function toolResult(result: ApprovalResult): CallToolResult {
  const output = toApprovalOutput(result);
  return {
    content: [{ type: 'text', text: `${output.outcome.toUpperCase()}: ${output.message}` }],
    structuredContent: { ...output },
  };
}

/**
 * Sends `notifications/progress` every `intervalMs` while `work` runs, only when the request
 * carried a progressToken (sending otherwise is a protocol error for some hosts).
 * @internal shared with the gate proxy
 */
export async function withProgress<T>(extra: Extra, intervalMs: number, work: () => Promise<T>): Promise<T> {
  const token = extra._meta?.progressToken;
  if (token === undefined) return work();
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    extra
      .sendNotification({
        method: 'notifications/progress',
        params: {
          progressToken: token,
          progress: ticks,
          message: `Waiting for the user's answer on their device (${Math.round((ticks * intervalMs) / 1000)} s)`,
        },
      })
      .catch(() => undefined); // a closed transport must not crash the wait
  }, intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}

/**
 * Creates the MCP server. Connect it to any transport (stdio, Streamable HTTP, in-memory).
 * @throws NoxyError `INVALID_ARGUMENT` for bad options
 * @example
 * const server = createApprovalServer({ client, identity: 'alice@example.com' });
 * await server.connect(new StdioServerTransport());
 */
export function createApprovalServer(options: ApprovalServerOptions): McpServer {
  const holdMs = options.holdMs ?? 45_000;
  const progressIntervalMs = Math.min(options.progressIntervalMs ?? 10_000, 15_000);
  if (!Number.isFinite(holdMs) || holdMs <= 0) {
    throw new NoxyError('INVALID_ARGUMENT', `"holdMs" expected a positive number of ms, got ${holdMs}`, {
      field: 'holdMs',
    });
  }
  if (!Number.isFinite(progressIntervalMs) || progressIntervalMs <= 0) {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      `"progressIntervalMs" expected a positive number of ms, got ${progressIntervalMs}`,
      { field: 'progressIntervalMs' },
    );
  }
  const identity = checkIdentitySource(options.identity);
  const ownerOf = options.owner ?? defaultOwner;
  const engine = createApprovalEngine({
    client: options.client,
    ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
    ...(options.agent ? { agent: options.agent } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.handleSecret !== undefined ? { handleSecret: options.handleSecret } : {}),
    pendingHint: (f) => `Call ${CHECK_APPROVAL_TOOL_NAME} with decision_id "${f.handle}" to keep waiting.`,
  });

  const server = new McpServer({ name: options.name ?? 'noxy-approval', version: options.version ?? SERVER_VERSION });

  // The SDK has already parsed the arguments with the shared zod schemas (the tool's edge); the
  // engine's typed API takes them from here.
  const run =
    <A>(tool: string, call: (args: A, ctx: ApprovalContext) => Promise<ApprovalResult>) =>
    async (args: A, extra: Extra): Promise<CallToolResult> => {
      try {
        const context: IdentityContext = { sessionId: extra.sessionId, authInfo: extra.authInfo };
        const ctx: ApprovalContext = {
          identity: await resolveIdentity(identity, context),
          owner: ownerOf(context),
          holdMs,
          signal: extra.signal,
        };
        return toolResult(await withProgress(extra, progressIntervalMs, () => call(args, ctx)));
      } catch (err) {
        options.onError?.(tool, err);
        return errorResult(err);
      }
    };

  server.registerTool(
    APPROVAL_TOOL_NAME,
    {
      title: 'Ask the user to approve an action',
      description: APPROVAL_TOOL_DESCRIPTION,
      inputSchema: approvalInputSchema,
      outputSchema: approvalOutputSchema,
      annotations: {
        title: 'Ask the user to approve an action',
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: true,
      },
    },
    run(APPROVAL_TOOL_NAME, (args: ApprovalInput, ctx) => engine.request(args, ctx)),
  );
  server.registerTool(
    CHECK_APPROVAL_TOOL_NAME,
    {
      title: 'Check a pending approval',
      description: CHECK_APPROVAL_TOOL_DESCRIPTION,
      inputSchema: checkApprovalInputSchema,
      outputSchema: approvalOutputSchema,
      annotations: {
        title: 'Check a pending approval',
        readOnlyHint: true,
        destructiveHint: false,
        idempotentHint: true,
        openWorldHint: true,
      },
    },
    run(CHECK_APPROVAL_TOOL_NAME, (args: CheckApprovalInput, ctx) => engine.resume(args.decision_id, ctx)),
  );
  return server;
}
