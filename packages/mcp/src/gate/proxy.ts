/**
 * `createGateProxy` — an MCP server whose tools are another server's, passed through unchanged
 * (names, JSON Schemas, `outputSchema`, annotations, `_meta`; resources, prompts and
 * list-changed notifications too), where every call that needs approval (rules.ts) goes through
 * core's gate: the user approves that exact call on their phone, and only then is it forwarded
 * to the upstream — once, with exactly the approved arguments (design.md §5, "mcp gate").
 *
 * The low-level SDK `Server` is used, not `McpServer`, so the upstream's JSON Schemas are never
 * rebuilt. Hosts cut calls at about 60 s: a gated call holds for `holdMs`, then answers
 * `pending`; the same tool with the same arguments resumes that decision (an idempotency key
 * over the tool and the canonical arguments, per owner), changed arguments make a new one.
 * @module
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { McpError, ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  CompleteResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  RootsListChangedNotificationSchema,
  type ClientCapabilities,
  EmptyResultSchema,
  GetPromptRequestSchema,
  GetPromptResultSchema,
  ListPromptsRequestSchema,
  ListPromptsResultSchema,
  ListResourcesRequestSchema,
  ListResourcesResultSchema,
  ListResourceTemplatesRequestSchema,
  ListResourceTemplatesResultSchema,
  ListToolsRequestSchema,
  ListToolsResultSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ReadResourceRequestSchema,
  ReadResourceResultSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  ToolListChangedNotificationSchema,
  UnsubscribeRequestSchema,
  type CallToolRequest,
  type CallToolResult,
  type Progress,
  type ServerCapabilities,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import {
  canonicalJson,
  defaultTitle,
  NoxyError,
  resolveIdentity,
  runGated,
  setupWrapper,
  type ApprovalWrapperOptions,
  type GateResult,
} from '@noxy-approval/core';
import type { IdentityContext } from '../server.js';
import { defaultOwner, withProgress } from '../session.js';
import { refuseProtoKeys } from '../proto-key.js';
import { FastLane } from './fast-lane.js';
import { needsApproval, type GateRules, type GateVerdict } from './rules.js';
import { Upstream, type UpstreamSpec } from './upstream.js';

/** Options of {@link createGateProxy}. */
export interface GateProxyOptions extends ApprovalWrapperOptions<IdentityContext> {
  /** The MCP server to proxy: a command (stdio), a Streamable HTTP URL, or an {@link Upstream} already started. */
  upstream: UpstreamSpec | Upstream;
  /** Which calls need approval (default: every tool not annotated `readOnlyHint: true`). */
  rules?: GateRules;
  /** Longest hold of a gated call before it answers `pending`, ms (default 45,000). */
  holdMs?: number;
  /** Progress notification interval while a gated call waits (when a progressToken is present), ms. */
  progressIntervalMs?: number;
  /** An upstream call that answers nothing (no result, no progress) for this long is cut, ms (default 120,000). */
  upstreamTimeoutMs?: number;
  /** Who owns a decision (default: as `noxy-mcp`, see `defaultOwner`). */
  owner?: (ctx: IdentityContext) => string;
  /** Operator log lines (stderr in the CLI). Never gets arguments or secrets. */
  log?: (line: string) => void;
  /** Server name reported to the host (default: the upstream's name). */
  name?: string;
}

/** A running gate proxy. */
export interface GateProxy {
  /** The host-facing server (connect it to any transport). */
  server: Server;
  /** Connects the host-facing side. */
  connect(transport: Transport): Promise<void>;
  /** Whether a call would be gated (for logs and tests; the same function the proxy uses). */
  verdict(name: string, args: Record<string, unknown>): Promise<GateVerdict>;
  /** The upstream child's pid while connected over stdio. */
  upstreamPid(): Promise<number | undefined>;
  /** Closes the host side, the upstream and the Noxy client the proxy created. */
  close(): Promise<void>;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const GATE_META = 'noxy-approval/gate';

/**
 * The upstream's tools/call result is checked once, on its way out, by the SDK `Server` (it
 * validates every tools/call result against `CallToolResultSchema`); checking it here as well
 * doubled the cost of the largest message on the proxy's path. Here it only has to be an object.
 */
const UPSTREAM_RESULT = z.custom<CallToolResult>((value) => typeof value === 'object' && value !== null);

/** The host's answers to the upstream's requests: checked by the upstream's own client schemas. */
const PASS_THROUGH_RESULT = z.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null);

/** What the upstream is told the client supports: the host's own, for what the proxy forwards. */
function forwardedCapabilities(host: ClientCapabilities | undefined): ClientCapabilities {
  return {
    ...(host?.roots ? { roots: host.roots } : {}),
    ...(host?.sampling ? { sampling: host.sampling } : {}),
    ...(host?.elicitation ? { elicitation: host.elicitation } : {}),
  };
}

const errorText = (text: string): CallToolResult => ({ isError: true, content: [{ type: 'text', text }] });

function refusal(r: Extract<GateResult<unknown>, { status: 'not_executed' }>): CallToolResult {
  return {
    ...errorText(`${r.reason === 'pending' ? 'PENDING' : 'NOT EXECUTED'}: ${r.message}`),
    _meta: { [GATE_META]: { reason: r.reason, decision_id: r.approval.decisionId, expires_at: r.approval.expiresAt } },
  };
}

/**
 * Starts the upstream, mirrors its capabilities and returns the proxy (connect it to the host).
 * @throws NoxyError `INVALID_ARGUMENT` for bad options; the upstream's connect error when it
 *   cannot be started
 * @example
 * const proxy = await createGateProxy({
 *   upstream: { command: 'mcp-server-filesystem', args: ['/tmp/work'] },
 *   endpoint: 'http://127.0.0.1:7070', authToken, identity: 'alice@example.com',
 * });
 * await proxy.connect(new StdioServerTransport());
 */
export async function createGateProxy(options: GateProxyOptions): Promise<GateProxy> {
  const log = options.log ?? (() => undefined);
  const holdMs = options.holdMs ?? 45_000;
  const upstreamTimeoutMs = options.upstreamTimeoutMs ?? 120_000;
  if (!(Number.isFinite(upstreamTimeoutMs) && upstreamTimeoutMs > 0)) {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      `"upstreamTimeoutMs" expected a positive number, got ${upstreamTimeoutMs}`,
      {
        field: 'upstreamTimeoutMs',
      },
    );
  }
  const progressIntervalMs = Math.min(options.progressIntervalMs ?? 10_000, 15_000);
  const rules = options.rules ?? {};
  const ownerOf = options.owner ?? defaultOwner;
  const setup = setupWrapper(
    { ...options, holdMs, agent: options.agent ?? { name: 'noxy-mcp gate' } },
    (f) =>
      `Nothing was executed yet. To keep waiting for the user's answer, call ${f.tool} again with exactly the ` +
      `same arguments before ${f.expiresAt}; changed arguments make a new approval request.`,
  );
  const { engine, identity } = setup;

  let server: Server | undefined;
  const tools = new Map<string, Tool>();
  /** Per owner + call: bumped once a decision was used up, so the next identical call asks anew. */
  const generations = new Map<string, number>();

  const upstream = options.upstream instanceof Upstream ? options.upstream : new Upstream(options.upstream, log);
  if (options.upstream instanceof Upstream && options.log) upstream.log = log;
  upstream.setOnConnect((client: Client) => {
    // Notifications from the upstream reach the host as they are.
    const relay = (send: () => Promise<void> | undefined) => {
      send()?.catch(() => undefined);
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      tools.clear();
      relay(() => server?.sendToolListChanged());
    });
    client.setNotificationHandler(ResourceListChangedNotificationSchema, () =>
      relay(() => server?.sendResourceListChanged()),
    );
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) =>
      relay(() => server?.sendResourceUpdated(n.params)),
    );
    client.setNotificationHandler(PromptListChangedNotificationSchema, () =>
      relay(() => server?.sendPromptListChanged()),
    );
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) =>
      relay(() => server?.sendLoggingMessage(n.params)),
    );
    // The upstream's requests to the host (roots, sampling, elicitation) go to the host as they
    // are, when the host offered them; the host's answer, or its error, goes back.
    const toHost = async (request: { method: string; params?: unknown }, extra: { signal: AbortSignal }) => {
      if (!server) throw new McpError(ErrorCode.InternalError, 'the gate proxy is not connected to a host yet');
      return server.request(
        { method: request.method, params: request.params as Record<string, unknown> },
        PASS_THROUGH_RESULT,
        { signal: extra.signal },
      ) as never;
    };
    const caps = upstream.capabilities;
    if (caps.roots) client.setRequestHandler(ListRootsRequestSchema, toHost);
    if (caps.sampling) client.setRequestHandler(CreateMessageRequestSchema, toHost);
    if (caps.elicitation) client.setRequestHandler(ElicitRequestSchema, toHost);
  });

  const first = await upstream.connection();
  const caps: ServerCapabilities = first.client.getServerCapabilities() ?? {};
  const info = first.client.getServerVersion();
  const instructions = first.client.getInstructions();
  server = new Server(
    { name: options.name ?? info?.name ?? 'noxy-mcp-gate', version: info?.version ?? '0.0.0' },
    {
      capabilities: {
        tools: { listChanged: true },
        ...(caps.resources ? { resources: caps.resources } : {}),
        ...(caps.prompts ? { prompts: caps.prompts } : {}),
        ...(caps.logging ? { logging: caps.logging } : {}),
        ...(caps.completions ? { completions: caps.completions } : {}),
      },
      ...(instructions ? { instructions } : {}),
    },
  );

  const clientOf = async () => (await upstream.connection()).client;

  // The upstream was started before any host connected, so it was told of no roots, sampling or
  // elicitation support. A host that offers them gets an upstream that sees them, as if connected
  // directly: the upstream reconnects once, right after the host's initialize, with the host's.
  server.oninitialized = () => {
    const wanted = forwardedCapabilities(server?.getClientCapabilities());
    if (JSON.stringify(wanted) === JSON.stringify(upstream.capabilities)) return;
    upstream.capabilities = wanted;
    void upstream.restart('the host offers roots, sampling or elicitation: reconnecting so the upstream sees them');
  };
  server.setNotificationHandler(RootsListChangedNotificationSchema, async () => {
    if (upstream.capabilities.roots?.listChanged) await (await clientOf()).sendRootsListChanged();
  });

  async function listAllTools(): Promise<void> {
    const client = await clientOf();
    let cursor: string | undefined;
    do {
      const page = await client.request(
        { method: 'tools/list', params: cursor ? { cursor } : {} },
        ListToolsResultSchema,
      );
      for (const tool of page.tools) tools.set(tool.name, tool);
      cursor = page.nextCursor;
    } while (cursor);
  }

  async function toolDefinition(name: string): Promise<Tool | undefined> {
    if (!tools.has(name)) await listAllTools();
    return tools.get(name);
  }

  /** Forwards one tools/call with the host's signal, progress and `_meta` (minus its progressToken). */
  async function forwardCall(params: CallToolRequest['params'], extra: Extra): Promise<CallToolResult> {
    const client = await clientOf();
    const hostToken = extra._meta?.progressToken;
    const { progressToken: _drop, ...meta } = params._meta ?? {};
    const forwarded = { ...params, ...(Object.keys(meta).length > 0 ? { _meta: meta } : { _meta: undefined }) };
    if (forwarded._meta === undefined) delete forwarded._meta;
    // A progress token goes upstream only when the host sent one (then progress also resets the timeout).
    const progress =
      hostToken === undefined
        ? {}
        : {
            resetTimeoutOnProgress: true,
            onprogress: (p: Progress) => {
              extra
                .sendNotification({ method: 'notifications/progress', params: { ...p, progressToken: hostToken } })
                .catch(() => undefined);
            },
          };
    return (await client.request({ method: 'tools/call', params: forwarded }, UPSTREAM_RESULT, {
      signal: extra.signal,
      timeout: upstreamTimeoutMs,
      ...progress,
    })) as CallToolResult;
  }

  const timeoutResult = (tool: string) =>
    errorText(
      `The upstream MCP server did not answer ${tool} within ${Math.round(upstreamTimeoutMs / 1000)} s and was ` +
        'restarted. The call may or may not have taken effect: check before trying again.',
    );
  const stoppedResult = (tool: string, why: string) =>
    errorText(
      `The upstream MCP server stopped during ${tool} (${why}). It is restarted for the next call; ` +
        'the call may or may not have taken effect: check before trying again.',
    );

  /** Upstream failures as tool errors; the host's own cancel and protocol errors pass through. */
  async function upstreamFailure(err: unknown, tool: string, extra: Extra): Promise<CallToolResult> {
    if (extra.signal.aborted) throw err;
    if (err instanceof McpError && err.code === ErrorCode.RequestTimeout) {
      await upstream.restart(`${tool} did not answer within ${upstreamTimeoutMs} ms`);
      return timeoutResult(tool);
    }
    if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed) {
      await upstream.restart(`the connection closed during ${tool}`);
      return stoppedResult(tool, err.message);
    }
    if (err instanceof McpError) throw err;
    if (NoxyError.isInstance(err)) {
      log(`${tool}: approval failed (${err.code}): ${err.message}`);
      return errorText(
        `Human approval failed (${err.code}): ${err.message}. Nothing was executed: do not perform the action.`,
      );
    }
    const why = err instanceof Error ? err.message : String(err);
    log(`${tool}: upstream failed: ${why}`);
    return errorText(`The upstream MCP server could not run ${tool}: ${why}`);
  }

  // Ungated calls of listed tools skip the SDK on both sides (fast-lane.ts); the rest is below.
  const lane = new FastLane({
    ungated: (name, args) => {
      const tool = tools.get(name);
      return tool !== undefined && !needsApproval(rules, name, tool, args).gated;
    },
    upstream: () => upstream.readyStdioTransport(),
    timeoutMs: upstreamTimeoutMs,
    onTimeout: (tool) => upstream.restart(`${tool} did not answer within ${upstreamTimeoutMs} ms`),
    timeoutResult,
    stoppedResult,
  });

  async function gatedCall(params: CallToolRequest['params'], extra: Extra): Promise<CallToolResult> {
    const name = params.name;
    const args = params.arguments ?? {};
    const context: IdentityContext = { sessionId: extra.sessionId, authInfo: extra.authInfo };
    const owner = ownerOf(context);
    const call = createHash('sha256')
      .update(JSON.stringify([owner, name, canonicalJson(args)]))
      .digest('hex');
    const generation = generations.get(call) ?? 0;
    const r = await withProgress(extra, progressIntervalMs, async () =>
      runGated(
        engine,
        { tool: name, args, title: defaultTitle(name, args) },
        (approved) => forwardCall({ ...params, arguments: approved }, extra),
        {
          identity: await resolveIdentity(identity, context),
          owner,
          holdMs,
          signal: extra.signal,
          idempotencyKey: `gate:${call}:${generation}`,
        },
      ),
    );
    // Pending keeps the key (the retry resumes it); any other end uses the decision up.
    if (r.status === 'executed' || r.reason !== 'pending') {
      if (generations.size >= 10_000) generations.delete(generations.keys().next().value!);
      generations.set(call, generation + 1);
    }
    if (r.status === 'executed') return r.result;
    log(`${name}: not executed (${r.reason}), decision ${r.approval.decisionId}`);
    return refusal(r);
  }

  server.setRequestHandler(ListToolsRequestSchema, async (req, extra) => {
    const client = await clientOf();
    const page = await client.request({ method: 'tools/list', params: req.params ?? {} }, ListToolsResultSchema, {
      signal: extra.signal,
    });
    for (const tool of page.tools) tools.set(tool.name, tool);
    return page;
  });

  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const { name } = req.params;
    try {
      const args = req.params.arguments ?? {};
      const { gated } = needsApproval(rules, name, await toolDefinition(name), args);
      return gated ? await gatedCall(req.params, extra) : await forwardCall(req.params, extra);
    } catch (err) {
      return upstreamFailure(err, name, extra);
    }
  });

  // Everything else passes through as it is.
  const pass = async <R>(method: string, params: unknown, schema: Parameters<Client['request']>[1], extra: Extra) =>
    (await clientOf()).request({ method, params: params as Record<string, unknown> }, schema, {
      signal: extra.signal,
    }) as Promise<R>;
  if (caps.resources) {
    server.setRequestHandler(ListResourcesRequestSchema, (r, e) =>
      pass(r.method, r.params, ListResourcesResultSchema, e),
    );
    server.setRequestHandler(ListResourceTemplatesRequestSchema, (r, e) =>
      pass(r.method, r.params, ListResourceTemplatesResultSchema, e),
    );
    server.setRequestHandler(ReadResourceRequestSchema, (r, e) =>
      pass(r.method, r.params, ReadResourceResultSchema, e),
    );
    if (caps.resources.subscribe) {
      server.setRequestHandler(SubscribeRequestSchema, (r, e) => pass(r.method, r.params, EmptyResultSchema, e));
      server.setRequestHandler(UnsubscribeRequestSchema, (r, e) => pass(r.method, r.params, EmptyResultSchema, e));
    }
  }
  if (caps.prompts) {
    server.setRequestHandler(ListPromptsRequestSchema, (r, e) => pass(r.method, r.params, ListPromptsResultSchema, e));
    server.setRequestHandler(GetPromptRequestSchema, (r, e) => pass(r.method, r.params, GetPromptResultSchema, e));
  }
  if (caps.completions) {
    server.setRequestHandler(CompleteRequestSchema, (r, e) => pass(r.method, r.params, CompleteResultSchema, e));
  }
  if (caps.logging) {
    server.setRequestHandler(SetLevelRequestSchema, (r, e) => pass(r.method, r.params, EmptyResultSchema, e));
  }

  const host = server;
  return {
    server: host,
    async connect(transport) {
      await host.connect(transport);
      lane.attachHost(transport);
      // Outermost, so that it runs first: the fast lane never relays a call that holds `__proto__`.
      refuseProtoKeys(transport);
    },
    verdict: async (name, args) => needsApproval(rules, name, await toolDefinition(name), args),
    upstreamPid: () => upstream.pid(),
    async close() {
      lane.close();
      await host.close().catch(() => undefined);
      await upstream.close();
      setup.close();
    },
  };
}
