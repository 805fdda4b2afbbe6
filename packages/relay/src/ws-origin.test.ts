/**
 * The WebSocket `Origin` check (issue 13 item 4), the cases the web-page test does not cover:
 * another origin is refused with 403 before the upgrade (no 101, no device session, the
 * socket closed), look-alikes of the relay's own origin (other port, other name for the same
 * address, other scheme) are refused, and the page's own origin and configured ones upgrade
 * and serve device requests.
 */
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from './logger.js';
import { MISDIRECTED_BODY } from './http-server.js';
import { ownHostNames } from './own-origins.js';
import { startRelay, type Relay } from './server.js';

let relay: Relay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/**
 * A raw upgrade request: the status line the relay answers, and whether it switched protocols.
 * `host` replaces the Host header (what a DNS-rebinding page's request names).
 */
function rawUpgrade(httpUrl: string, origin: string, host?: string): Promise<{ status: number; upgraded: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(`${httpUrl}/`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        Origin: origin,
        ...(host !== undefined ? { Host: host } : {}),
      },
    });
    req.on('upgrade', (res, socket) => {
      socket.destroy();
      resolve({ status: res.statusCode ?? 0, upgraded: true });
    });
    req.on('response', (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, upgraded: false });
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('no answer to the upgrade within 5 s')));
    req.end();
  });
}

/** Opens a socket with `origin` and sends one authenticate frame; resolves with its answer. */
function askOver(wsUrl: string, origin: string, appId: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl, { origin });
    const timer = setTimeout(() => reject(new Error('no answer within 5 s')), 5_000);
    ws.on('open', () =>
      ws.send(
        JSON.stringify({
          requestId: 'r1',
          appId,
          timestamp: Date.now(),
          nonce: randomBytes(12).toString('base64'),
          payload: { devicePubkeys: { publicKey: randomBytes(32).toString('base64'), pqPublicKey: '' } },
        }),
      ),
    );
    ws.on('message', (data) => {
      clearTimeout(timer);
      ws.close();
      resolve(JSON.parse(String(data)) as Record<string, unknown>);
    });
    ws.on('unexpected-response', (_req, res) => {
      clearTimeout(timer);
      reject(new Error(`refused with ${res.statusCode}`));
    });
    ws.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

describe('WebSocket Origin', () => {
  it('refuses another origin with 403 before the upgrade, and look-alikes of its own', async () => {
    relay = await startRelay({
      dataDir: ':memory:',
      logger: silentLogger,
      allowedOrigins: ['https://approve.example'],
    });
    const own = new URL(relay.httpUrl);
    const otherPort = `http://${own.hostname}:${Number(own.port) === 1 ? 2 : 1}`;
    for (const origin of [
      'https://evil.example',
      otherPort,
      `http://localhost:${own.port}`, // the same address under another name is another origin
      `https://${own.host}`, // the page is served over http
      'https://approve.example.evil', // a suffix of a configured origin
      'http://approve.example', // a configured origin's other scheme
      'null',
    ]) {
      expect(await rawUpgrade(relay.httpUrl, origin), origin).toEqual({ status: 403, upgraded: false });
    }
  });

  it("accepts the page's own origin and a configured one; both sessions serve requests", async () => {
    relay = await startRelay({
      dataDir: ':memory:',
      logger: silentLogger,
      allowedOrigins: ['https://approve.example/'],
    });
    const app = relay.createApp({ name: 'origins' });
    const own = new URL(relay.httpUrl).origin;
    for (const origin of [own, 'https://approve.example']) {
      expect(await rawUpgrade(relay.httpUrl, origin), origin).toEqual({ status: 101, upgraded: true });
      const answer = await askOver(relay.wsUrl, origin, app.appId);
      expect(answer.requestId, origin).toBe('r1');
    }
  });
});

/** A GET with the given Host header: status and body. */
function get(httpUrl: string, path: string, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${httpUrl}${path}`, { headers: { Host: host } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.setTimeout(5_000, () => req.destroy(new Error('no answer within 5 s')));
    req.end();
  });
}

/** Bytes a raw HTTP/1.0 request without any Host header gets back (status line first). */
function noHostRequest(port: number, lines: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${lines}\r\n\r\n`));
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('end', () => resolve(Buffer.concat(chunks).toString()));
    socket.on('error', reject);
    socket.setTimeout(5_000, () => socket.destroy(new Error('no answer within 5 s')));
  });
}

describe('Host: DNS rebinding', () => {
  it('a foreign Host with its own matching Origin is refused with 421 before the upgrade', async () => {
    relay = await startRelay({
      dataDir: ':memory:',
      logger: silentLogger,
      allowedOrigins: ['https://approve.example'],
    });
    const { port } = new URL(relay.httpUrl);
    for (const name of [`evil.example:${port}`, `evil.example`, `127.0.0.1.evil.example:${port}`, `localhost:1`]) {
      // The rebinding page's origin is its own name: Origin and Host agree, as for the real page.
      const origin = `http://${name}`;
      expect(await rawUpgrade(relay.httpUrl, origin, name), name).toEqual({ status: 421, upgraded: false });
    }
    // A malformed Host is not one of the relay's names either.
    expect(await rawUpgrade(relay.httpUrl, `http://127.0.0.1:${port}`, `127.0.0.1:${port}@evil`)).toEqual({
      status: 421,
      upgraded: false,
    });
    expect(await noHostRequest(Number(port), 'GET / HTTP/1.0')).toMatch(/^HTTP\/1\.1 421 /);
    expect(
      await noHostRequest(
        Number(port),
        `GET / HTTP/1.0\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n` +
          `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`,
      ),
    ).toMatch(/^HTTP\/1\.1 421 /);
  });

  it('the page is refused (421) under a foreign Host; /healthz answers whatever the name', async () => {
    relay = await startRelay({ dataDir: ':memory:', logger: silentLogger });
    const { port } = new URL(relay.httpUrl);
    const own = await get(relay.httpUrl, '/', `127.0.0.1:${port}`);
    expect(own.status).toBe(200);
    expect(own.body).toMatch(/<html/i);
    for (const path of ['/', '/index.html', '/nope']) {
      const foreign = await get(relay.httpUrl, path, `evil.example:${port}`);
      expect(foreign, path).toEqual({ status: 421, body: MISDIRECTED_BODY });
    }
    expect((await get(relay.httpUrl, '/healthz', `evil.example:${port}`)).status).toBe(200);
  });

  it('a loopback bind answers to localhost, 127.0.0.1, [::1] on its port, a proxy to a configured origin', async () => {
    relay = await startRelay({
      dataDir: ':memory:',
      logger: silentLogger,
      allowedOrigins: ['https://approve.example'],
    });
    const { port } = new URL(relay.httpUrl);
    for (const name of [`localhost:${port}`, `LOCALHOST:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`]) {
      const origin = `http://${name.toLowerCase()}`;
      expect(await rawUpgrade(relay.httpUrl, origin, name), name).toEqual({ status: 101, upgraded: true });
      expect((await get(relay.httpUrl, '/', name)).status, name).toBe(200);
    }
    // Behind a reverse proxy that passes Host on: the configured origin's page.
    expect(await rawUpgrade(relay.httpUrl, 'https://approve.example', 'approve.example')).toEqual({
      status: 101,
      upgraded: true,
    });
    // An own name is still no licence for a foreign Origin.
    expect(await rawUpgrade(relay.httpUrl, 'https://evil.example', `localhost:${port}`)).toEqual({
      status: 403,
      upgraded: false,
    });
  });

  it('own names follow the bind: loopback, a LAN address (no loopback names), a wildcard (every address)', () => {
    expect(ownHostNames('127.0.0.1', '127.0.0.1').sort()).toEqual(['127.0.0.1', '[::1]', 'localhost']);
    expect(ownHostNames('::1', 'localhost')).toEqual(expect.arrayContaining(['[::1]', 'localhost', '127.0.0.1']));
    const lan = ownHostNames('192.168.1.20', '192.168.1.20');
    expect(lan).toContain('192.168.1.20');
    expect(lan).not.toContain('localhost');
    expect(lan).not.toContain('127.0.0.1');
    const any = ownHostNames('0.0.0.0', '0.0.0.0');
    expect(any).toEqual(expect.arrayContaining(['localhost', '127.0.0.1', '[::1]']));
    expect(any).not.toContain('0.0.0.0');
    expect(ownHostNames('::', '::')).not.toContain('[::]');
  });
});
