/**
 * The WebSocket `Origin` check (issue 13 item 4), the cases the web-page test does not cover:
 * another origin is refused with 403 before the upgrade (no 101, no device session, the
 * socket closed), look-alikes of the relay's own origin (other port, other name for the same
 * address, other scheme) are refused, and the page's own origin and configured ones upgrade
 * and serve device requests.
 */
import { request } from 'node:http';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from './logger.js';
import { startRelay, type Relay } from './server.js';

let relay: Relay | undefined;
afterEach(async () => {
  await relay?.close();
  relay = undefined;
});

/** A raw upgrade request: the status line the relay answers, and whether it switched protocols. */
function rawUpgrade(httpUrl: string, origin: string): Promise<{ status: number; upgraded: boolean }> {
  return new Promise((resolve, reject) => {
    const req = request(`${httpUrl}/`, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        Origin: origin,
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
