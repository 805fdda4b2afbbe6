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
import { InMemoryTaskStore, isTerminal } from '@modelcontextprotocol/sdk/experimental/tasks';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type CallToolRequest,
  type CallToolResult,
  type CreateTaskResult,
  type ListToolsResult,
  type ServerNotification,
  type ServerRequest,
  type Task,
} from '@modelcontextprotocol/sdk/types.js';
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
import { refuseProtoKeys } from './proto-key.js';
import { defaultOwner, withProgress } from './session.js';

export { defaultOwner, withProgress };

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
  /**
   * MCP Tasks for `request_human_approval` (default true): a host that sends `params.task` gets a
   * task that lives as long as the decision and completes when the phone answers; other hosts get
   * the bounded hold and `pending`, exactly as without tasks.
   */
  tasks?: boolean;
  /** The `pollInterval` suggested to task-aware hosts, ms (default 2,000). */
  taskPollIntervalMs?: number;
  /** Called when a tool call fails (relay unreachable, no device, …), besides telling the model. */
  onError?: (tool: string, error: unknown) => void;
  /** Server name and version reported to the host. */
  name?: string;
  version?: string;
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
 * The SDK's in-memory task store, told when a host cancels a task: the SDK marks the task
 * `cancelled` and tells nobody else, so the wait behind it would go on until the decision expires.
 */
class ApprovalTaskStore extends InMemoryTaskStore {
  readonly running = new Map<string, AbortController>();

  override async updateTaskStatus(
    taskId: string,
    status: Task['status'],
    statusMessage?: string,
    sessionId?: string,
  ): Promise<void> {
    await super.updateTaskStatus(taskId, status, statusMessage, sessionId);
    if (status === 'cancelled') this.running.get(taskId)?.abort(new Error('the task was cancelled'));
  }

  /** Aborts every wait and drops the stored tasks (and their cleanup timers). */
  close(): void {
    for (const abort of this.running.values()) abort.abort(new Error('the server closed'));
    this.running.clear();
    this.cleanup();
  }
}

/** After the decision's own TTL, time for its final answer to be stored (the store then keeps it a TTL). */
const TASK_GRACE_MS = 30_000;

type CallHandler = (request: CallToolRequest, extra: Extra) => Promise<unknown>;
type ListHandler = (request: unknown, extra: Extra) => Promise<ListToolsResult>;

/**
 * Registers the tools while catching the `tools/call` and `tools/list` handlers `McpServer`
 * installs, so that task-augmented calls of one tool can be routed to a task while every other
 * call keeps McpServer's own path. (Registering with `registerToolTask` would route task-unaware
 * calls through the SDK's automatic polling, which blocks them until the decision ends.)
 */
function captureToolHandlers(server: McpServer, register: () => void): { call: CallHandler; list: ListHandler } {
  const low = server.server;
  const original = low.setRequestHandler;
  const captured: { call?: CallHandler; list?: ListHandler } = {};
  low.setRequestHandler = ((schema: unknown, handler: unknown) => {
    if (schema === CallToolRequestSchema) captured.call = handler as CallHandler;
    else if (schema === ListToolsRequestSchema) captured.list = handler as ListHandler;
    else original.call(low, schema as typeof CallToolRequestSchema, handler as never);
  }) as typeof low.setRequestHandler;
  try {
    register();
  } finally {
    low.setRequestHandler = original;
  }
  if (!captured.call || !captured.list) throw new Error('McpServer did not install its tool handlers');
  return { call: captured.call, list: captured.list };
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

  const tasks = options.tasks ?? true;
  const pollInterval = options.taskPollIntervalMs ?? 2_000;
  if (!(Number.isFinite(pollInterval) && pollInterval > 0)) {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      `"taskPollIntervalMs" expected a positive number of ms, got ${pollInterval}`,
      {
        field: 'taskPollIntervalMs',
      },
    );
  }
  const ttlSeconds = options.ttlSeconds ?? options.client.ttlSeconds;
  const taskStore = tasks ? new ApprovalTaskStore() : undefined;
  const server = new McpServer(
    { name: options.name ?? 'noxy-approval', version: options.version ?? SERVER_VERSION },
    taskStore
      ? { capabilities: { tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } } }, taskStore }
      : {},
  );

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

  const contextOf = async (extra: Extra): Promise<ApprovalContext> => {
    const context: IdentityContext = { sessionId: extra.sessionId, authInfo: extra.authInfo };
    return { identity: await resolveIdentity(identity, context), owner: ownerOf(context) };
  };

  /**
   * A task-augmented `request_human_approval`: answered at once with a task that completes when
   * the phone answers (or the decision expires); a cancel of the task aborts the wait.
   */
  async function startTask(request: CallToolRequest, extra: Extra): Promise<CreateTaskResult> {
    const parsed = approvalInputSchema.safeParse(request.params.arguments ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new McpError(
        ErrorCode.InvalidParams,
        `Input validation error: "${issue?.path.join('.') ?? ''}" ${issue?.message ?? 'invalid'}`,
      );
    }
    const ctx = await contextOf(extra);
    const store = extra.taskStore!;
    const task = await store.createTask({ ttl: ttlSeconds * 1000 + TASK_GRACE_MS, pollInterval });
    const abort = new AbortController();
    taskStore!.running.set(task.taskId, abort);
    void (async () => {
      let result: CallToolResult;
      let status: 'completed' | 'failed' = 'completed';
      try {
        // No hold: a task waits as long as the decision lives.
        result = toolResult(await engine.request(parsed.data, { ...ctx, signal: abort.signal }));
      } catch (err) {
        if (abort.signal.aborted) return; // cancelled: the task is already terminal
        options.onError?.(APPROVAL_TOOL_NAME, err);
        result = errorResult(err);
        status = 'failed';
      } finally {
        taskStore!.running.delete(task.taskId);
      }
      // Storing into a cancelled (terminal) task throws, and unhandled that would end the
      // process: check first, and swallow the race where a cancel lands in between.
      try {
        if (isTerminal((await store.getTask(task.taskId)).status)) return;
        await store.storeTaskResult(task.taskId, status, result);
      } catch {
        // The task was cancelled or dropped meanwhile: nobody is waiting for this answer.
      }
    })();
    return { task };
  }

  const handlers = captureToolHandlers(server, () => {
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
  });
  server.server.setRequestHandler(ListToolsRequestSchema, async (request, extra) => {
    const listed = await handlers.list(request, extra);
    if (!tasks) return listed;
    return {
      ...listed,
      tools: listed.tools.map((t) =>
        t.name === APPROVAL_TOOL_NAME ? { ...t, execution: { taskSupport: 'optional' as const } } : t,
      ),
    };
  });
  server.server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    if (tasks && request.params.task && request.params.name === APPROVAL_TOOL_NAME) return startTask(request, extra);
    return (await handlers.call(request, extra)) as CallToolResult;
  });
  // A `__proto__` key in tool arguments would vanish in the SDK's parsing: refused before it (proto-key.ts).
  const connect = server.connect.bind(server);
  server.connect = async (transport) => {
    await connect(transport);
    refuseProtoKeys(transport);
  };
  if (taskStore) {
    const previous = server.server.onclose;
    server.server.onclose = () => {
      previous?.();
      taskStore.close();
    };
  }
  return server;
}
