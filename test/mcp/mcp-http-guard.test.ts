import { request } from 'node:http';
import { createApprovalServer, serveHttp, type HttpEndpoint } from '@noxy-approval/mcp';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';

let stack: LocalStack | undefined;
let http: HttpEndpoint | undefined;
afterEach(async () => {
  await http?.close();
  await stack?.close();
  http = undefined;
  stack = undefined;
});

const initialize = JSON.stringify({
  jsonrpc: '2.0',
  id: 1,
  method: 'initialize',
  params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } },
});

/** POSTs an MCP initialize with the given headers; resolves with the status code. */
function post(url: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      },
      (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    req.end(initialize);
  });
}

describe('Streamable HTTP guards', () => {
  it('refuses a rebound Host or a foreign Origin (DNS rebinding), accepts loopback', async () => {
    stack = await startLocalStack();
    const s = stack;
    http = await serveHttp({ createServer: () => createApprovalServer({ client: s.client, identity: s.identity }) });
    const port = new URL(http.url).port;
    expect(await post(http.url, { host: `attacker.example:${port}` })).toBe(403);
    expect(await post(http.url, { origin: 'http://attacker.example' })).toBe(403);
    expect(await post(http.url, { origin: `http://localhost:${port}` })).toBe(200);
    expect(await post(http.url, {})).toBe(200);
  });

  it('requires the bearer token when one is configured', async () => {
    stack = await startLocalStack();
    const s = stack;
    http = await serveHttp({
      createServer: () => createApprovalServer({ client: s.client, identity: s.identity }),
      bearerToken: 'let-me-in',
    });
    expect(await post(http.url, {})).toBe(401);
    expect(await post(http.url, { authorization: 'Bearer wrong-token' })).toBe(401);
    expect(await post(http.url, { authorization: 'Bearer let-me-in' })).toBe(200);
  });
});
