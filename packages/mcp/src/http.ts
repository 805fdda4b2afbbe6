/**
 * Serving the approval server over Streamable HTTP (stateful sessions) on `node:http`.
 *
 * One MCP server instance per session, as the SDK requires. Loopback by default, and hardened
 * the way the MCP spec asks of local servers: the Host and Origin headers must name an allowed
 * host (DNS-rebinding protection — otherwise any web page the user visits could make their
 * phone show requests the page wrote), an optional bearer token guards non-loopback use, and
 * sessions are bounded in number and idle time.
 *
 * Slow or greedy clients are bounded too: a socket that has not sent its headers within
 * `headersTimeoutMs`, or its whole request within `requestTimeoutMs`, is closed (slowloris), as
 * is a socket idle for `socketIdleMs`; past `maxSessions` (or `maxSessionsPerClient` for one
 * client: the bearer principal at one remote address) a new session is refused with HTTP 503
 * and `Retry-After`, and live sessions are never evicted to make room.
 * @module
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { NoxyError } from '@noxy-approval/core';

/** Options of {@link serveHttp}. */
export interface HttpOptions {
  /** Makes the MCP server of a new session. */
  createServer: () => McpServer;
  host?: string;
  /** 0 = any free port. */
  port?: number;
  /** URL path of the endpoint (default `/mcp`). */
  path?: string;
  /** Extra host names accepted in Host/Origin besides loopback and the bound host. */
  allowedHosts?: string[];
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  bearerToken?: string;
  /** Most concurrent sessions (default 100); past it a new session is refused (503), none is evicted. */
  maxSessions?: number;
  /** Most concurrent sessions of one client, keyed by bearer principal and remote address (default 16). */
  maxSessionsPerClient?: number;
  /** A socket that has not sent complete request headers by then is closed, ms (default 10,000). */
  headersTimeoutMs?: number;
  /** A socket that has not sent its complete request (headers and body) by then is closed, ms (default 30,000). */
  requestTimeoutMs?: number;
  /**
   * A socket with no traffic either way for this long is closed, ms (default 5 min). Keep it above the
   * longest tool call without progress (the hold): the CLI passes hold + 60 s when that is longer.
   */
  socketIdleMs?: number;
  /** A session unused for this long is closed (default 30 min). */
  sessionIdleMs?: number;
}

/** A running HTTP endpoint. */
export interface HttpEndpoint {
  url: string;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  lastUsed: number;
  /** Who opened it (see clientKey), for the per-client bound. */
  client: string;
}

function positiveMs(value: number | undefined, fallback: number, field: string): number {
  const ms = value ?? fallback;
  if (!(Number.isFinite(ms) && ms > 0)) {
    throw new NoxyError('INVALID_ARGUMENT', `"${field}" expected a positive number, got ${value}`, { field });
  }
  return ms;
}

function positiveInt(value: number | undefined, fallback: number, field: string): number {
  const n = value ?? fallback;
  if (!(Number.isInteger(n) && n > 0)) {
    throw new NoxyError('INVALID_ARGUMENT', `"${field}" expected a positive whole number, got ${value}`, { field });
  }
  return n;
}

function hostnameOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

function reject(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}): void {
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify({ jsonrpc: '2.0', error: { code: -32000, message }, id: null }));
}

/** Starts the Streamable HTTP endpoint. */
export async function serveHttp(options: HttpOptions): Promise<HttpEndpoint> {
  const path = options.path ?? '/mcp';
  const bindHost = options.host ?? '127.0.0.1';
  const allowed = new Set([
    '127.0.0.1',
    'localhost',
    '::1',
    bindHost.replace(/^\[|\]$/g, '').toLowerCase(),
    ...(options.allowedHosts ?? []).map((h) => h.toLowerCase()),
  ]);
  const token = options.bearerToken ? Buffer.from(`Bearer ${options.bearerToken}`) : undefined;
  const maxSessions = positiveInt(options.maxSessions, 100, 'maxSessions');
  const perClient = positiveInt(options.maxSessionsPerClient, 16, 'maxSessionsPerClient');
  const idleMs = positiveMs(options.sessionIdleMs, 30 * 60_000, 'sessionIdleMs');
  const headersTimeout = positiveMs(options.headersTimeoutMs, 10_000, 'headersTimeoutMs');
  const requestTimeout = Math.max(headersTimeout, positiveMs(options.requestTimeoutMs, 30_000, 'requestTimeoutMs'));
  const socketIdleMs = positiveMs(options.socketIdleMs, 5 * 60_000, 'socketIdleMs');
  const sessions = new Map<string, Session>();
  /** Sessions being initialized (not in `sessions` yet), per client: they count against the bounds. */
  const opening = new Map<string, number>();
  const countOf = (client: string) =>
    (opening.get(client) ?? 0) + [...sessions.values()].filter((s) => s.client === client).length;
  const total = () => sessions.size + [...opening.values()].reduce((a, b) => a + b, 0);
  const retryAfter = String(Math.max(1, Math.ceil(Math.min(idleMs, 60_000) / 1000)));

  const authorized = (req: IncomingMessage): boolean => {
    if (!token) return true;
    const given = Buffer.from(req.headers.authorization ?? '');
    return given.length === token.length && timingSafeEqual(given, token);
  };

  const sweep = setInterval(
    () => {
      const now = Date.now();
      for (const s of sessions.values()) if (now - s.lastUsed > idleMs) void s.transport.close();
    },
    Math.min(idleMs, 60_000),
  );
  sweep.unref();

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (new URL(req.url ?? '/', 'http://x').pathname !== path) return void res.writeHead(404).end();
    const host = hostnameOf(req.headers.host);
    const origin = req.headers.origin;
    if (!host || !allowed.has(host) || (origin !== undefined && !allowed.has(hostnameOf(origin) ?? ''))) {
      return reject(res, 403, 'forbidden host or origin');
    }
    if (!authorized(req)) return reject(res, 401, 'missing or wrong bearer token');
    // Whoever holds the one configured token is one principal: its decisions are shared by all
    // of its sessions (a reconnecting host keeps them). The token itself is not passed on.
    if (token) (req as IncomingMessage & { auth?: AuthInfo }).auth = { token: '', clientId: 'bearer', scopes: [] };
    const id = req.headers['mcp-session-id'];
    const session = typeof id === 'string' ? sessions.get(id) : undefined;
    if (session) {
      session.lastUsed = Date.now();
      return session.transport.handleRequest(req, res);
    }
    if (typeof id === 'string') return reject(res, 404, 'unknown MCP session');
    // A new session. Live ones are never evicted to make room: a flood of new sessions would
    // otherwise cut every host's pending approvals. Refused instead, with a hint to retry.
    const client = clientKey(req);
    if (total() >= maxSessions) {
      return reject(
        res,
        503,
        `too many MCP sessions (${maxSessions}): close an unused session or retry after idle ones expire`,
        { 'retry-after': retryAfter },
      );
    }
    if (countOf(client) >= perClient) {
      return reject(
        res,
        503,
        `too many MCP sessions from this client (${perClient}): close an unused session or retry later`,
        { 'retry-after': retryAfter },
      );
    }
    opening.set(client, (opening.get(client) ?? 0) + 1);
    let opened = false;
    const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (sid) => {
        opened = true;
        sessions.set(sid, { transport: created, lastUsed: Date.now(), client });
      },
    });
    created.onclose = () => {
      if (created.sessionId) sessions.delete(created.sessionId);
    };
    try {
      await options.createServer().connect(created);
      await created.handleRequest(req, res);
    } finally {
      const left = (opening.get(client) ?? 1) - 1;
      if (left > 0) opening.set(client, left);
      else opening.delete(client);
      // Anything but an initialize opens no session: its server is not kept around.
      if (!opened) await created.close().catch(() => undefined);
    }
  }

  /** One client: the bearer principal (when a token is configured) at one remote address. */
  const clientKey = (req: IncomingMessage) =>
    `${token ? 'bearer' : 'anonymous'}@${(req.socket.remoteAddress ?? '?').replace(/^::ffff:/, '')}`;

  const http: Server = createServer(
    {
      headersTimeout: headersTimeout,
      requestTimeout,
      // Node enforces the two timeouts above on this period (30 s by default): a fraction of the
      // headers timeout, so a slowloris socket goes within about 1.25× of it.
      connectionsCheckingInterval: Math.max(25, Math.min(1_000, Math.floor(headersTimeout / 4))),
    },
    (req, res) => {
      handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500).end();
        process.stderr.write(`noxy-mcp: HTTP request failed: ${err instanceof Error ? err.message : String(err)}\n`);
      });
    },
  );
  // No traffic either way for this long: the socket is closed (a quiet SSE stream reconnects).
  http.setTimeout(socketIdleMs, (socket) => socket.destroy());
  await new Promise<void>((resolve, rejectListen) => {
    http.once('error', rejectListen);
    http.listen(options.port ?? 0, bindHost, () => resolve());
  });
  const { address, port } = http.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}${path}`,
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.values()].map((s) => s.transport.close()));
      sessions.clear();
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}
