import { request } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { createApprovalServer, serveHttp, type HttpEndpoint, type HttpOptions } from '@noxy-approval/mcp';
import { afterEach, describe, expect, it } from 'vitest';

// noxy-mcp --http under slow and greedy clients (issue 13 item 5): slowloris sockets are closed,
// a full server refuses new sessions instead of evicting live ones, one client cannot take every
// session. Nothing here needs a relay: listing tools never reaches it.
let http: HttpEndpoint | undefined;
let noxy: NoxyClient | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await http?.close();
  noxy?.close();
  http = undefined;
  noxy = undefined;
});

async function serve(options: Partial<HttpOptions>): Promise<URL> {
  const client = createNoxyClient({ endpoint: 'http://127.0.0.1:9', authToken: 'tok_http_limits' });
  noxy = client;
  http = await serveHttp({
    createServer: () => createApprovalServer({ client, identity: 'alice@example.com' }),
    ...options,
  });
  return new URL(http.url);
}

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});
const listTools = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list', params: {} });

interface Reply {
  status: number;
  body: string;
  sessionId: string | undefined;
  retryAfter: string | undefined;
}

/** One POST to the endpoint (from `localAddress`, a loopback source address, when given). */
function post(url: URL, body: string, headers: Record<string, string> = {}, localAddress?: string): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        ...(localAddress ? { localAddress } : {}),
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
          // An SSE answer stays open until its request is done: one event is the whole reply.
          if (text.includes('\n\n')) res.destroy();
        });
        const done = () =>
          resolve({
            status: res.statusCode ?? 0,
            body: text,
            sessionId: res.headers['mcp-session-id'] as string | undefined,
            retryAfter: res.headers['retry-after'] as string | undefined,
          });
        res.on('end', done);
        res.on('close', done);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function openSession(url: URL, localAddress?: string): Promise<Reply> {
  return post(url, initialize, {}, localAddress);
}

/** Resolves with how long the server took to close a raw socket, or rejects after `withinMs`. */
function closedWithin(socket: Socket, withinMs: number): Promise<number> {
  const begin = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socket still open after ${withinMs} ms`)), withinMs);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - begin);
    });
  });
}

function rawSocket(url: URL): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
    socket.on('error', reject);
    socket.resume();
    sockets.push(socket);
  });
}

describe('noxy-mcp --http: timeouts', () => {
  it('closes sockets that never finish their headers (slowloris) and keeps serving others', async () => {
    const url = await serve({ headersTimeoutMs: 300 });
    const slow = await Promise.all(Array.from({ length: 20 }, () => rawSocket(url)));
    for (const s of slow) s.write(`POST /mcp HTTP/1.1\r\nHost: ${url.host}\r\nX-Slow: 1`);
    const closing = slow.map((s) => closedWithin(s, 5_000));
    // A well-behaved client is served meanwhile.
    expect((await openSession(url)).status).toBe(200);
    const times = await Promise.all(closing);
    expect(Math.max(...times)).toBeGreaterThanOrEqual(250);
  });

  it('closes a socket whose request body never completes', async () => {
    const url = await serve({ headersTimeoutMs: 200, requestTimeoutMs: 400 });
    const socket = await rawSocket(url);
    socket.write(
      `POST /mcp HTTP/1.1\r\nHost: ${url.host}\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"json`,
    );
    expect(await closedWithin(socket, 5_000)).toBeGreaterThanOrEqual(300);
  });

  it('closes a socket that goes quiet after connecting', async () => {
    const url = await serve({ headersTimeoutMs: 5_000, socketIdleMs: 300 });
    const socket = await rawSocket(url);
    expect(await closedWithin(socket, 5_000)).toBeGreaterThanOrEqual(250);
  });

  it('refuses timeouts and bounds that are not positive', async () => {
    await expect(serve({ headersTimeoutMs: 0 })).rejects.toThrow(/"headersTimeoutMs" expected a positive number/);
    await expect(serve({ maxSessions: 1.5 })).rejects.toThrow(/"maxSessions" expected a positive whole number/);
  });
});

describe('noxy-mcp --http: session bounds', () => {
  it('past the cap a new session is refused (503, Retry-After) and every live session keeps working', async () => {
    const url = await serve({ maxSessions: 3, maxSessionsPerClient: 10 });
    const live = [await openSession(url), await openSession(url), await openSession(url)];
    for (const s of live) expect(s.status).toBe(200);
    const refused = await openSession(url);
    expect(refused.status).toBe(503);
    expect(refused.retryAfter).toMatch(/^\d+$/);
    expect(JSON.parse(refused.body).error.message).toMatch(/too many MCP sessions \(3\)/);
    for (const s of live) {
      const listed = await post(url, listTools, {
        'mcp-session-id': s.sessionId!,
        'mcp-protocol-version': '2025-06-18',
      });
      expect(listed.status).toBe(200);
      expect(listed.body).toContain('request_human_approval');
    }
    // Closing one makes room for exactly one.
    const closed = await new Promise<number>((resolve, reject) => {
      const req = request(url, { method: 'DELETE', headers: { 'mcp-session-id': live[0]!.sessionId! } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end();
    });
    expect(closed).toBe(200);
    expect((await openSession(url)).status).toBe(200);
    expect((await openSession(url)).status).toBe(503);
  });

  it('one client (remote address) gets at most maxSessionsPerClient; another still gets a session', async () => {
    const url = await serve({ maxSessions: 10, maxSessionsPerClient: 2 });
    expect((await openSession(url, '127.0.0.1')).status).toBe(200);
    expect((await openSession(url, '127.0.0.1')).status).toBe(200);
    const refused = await openSession(url, '127.0.0.1');
    expect(refused.status).toBe(503);
    expect(JSON.parse(refused.body).error.message).toMatch(/from this client \(2\)/);
    // 127.0.0.2 is loopback too (127.0.0.0/8), and a different client.
    expect((await openSession(url, '127.0.0.2')).status).toBe(200);
  });

  it('requests that open no session (no initialize) do not use up the bound', async () => {
    const url = await serve({ maxSessions: 1 });
    for (let i = 0; i < 10; i++) expect((await post(url, listTools)).status).toBe(400);
    expect((await openSession(url)).status).toBe(200);
  });
});
