/**
 * Serving the approval server over Streamable HTTP (stateful sessions) on `node:http`.
 *
 * One MCP server instance per session, as the SDK requires. Loopback by default, and hardened
 * the way the MCP spec asks of local servers: the Host and Origin headers must name an allowed
 * host (DNS-rebinding protection — otherwise any web page the user visits could make their
 * phone show requests the page wrote), an optional bearer token guards non-loopback use, and
 * sessions are bounded in number and idle time.
 * @module
 */
import { randomUUID, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

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
  /** Most concurrent sessions (default 100); the least recently used one is closed past it. */
  maxSessions?: number;
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
}

function hostnameOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    return new URL(value.includes('://') ? value : `http://${value}`).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return undefined;
  }
}

function reject(res: ServerResponse, status: number, message: string): void {
  res
    .writeHead(status, { 'content-type': 'application/json' })
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
  const maxSessions = options.maxSessions ?? 100;
  const idleMs = options.sessionIdleMs ?? 30 * 60_000;
  const sessions = new Map<string, Session>();

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
    let session = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!session) {
      if (typeof id === 'string') return reject(res, 404, 'unknown MCP session');
      if (sessions.size >= maxSessions) {
        const oldest = [...sessions.values()].sort((a, b) => a.lastUsed - b.lastUsed)[0];
        await oldest?.transport.close();
      }
      const created: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (sid) => void sessions.set(sid, { transport: created, lastUsed: Date.now() }),
      });
      created.onclose = () => {
        if (created.sessionId) sessions.delete(created.sessionId);
      };
      await options.createServer().connect(created);
      session = { transport: created, lastUsed: Date.now() };
    }
    session.lastUsed = Date.now();
    await session.transport.handleRequest(req, res);
  }

  const http: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) res.writeHead(500).end();
      process.stderr.write(`noxy-mcp: HTTP request failed: ${err instanceof Error ? err.message : String(err)}\n`);
    });
  });
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
