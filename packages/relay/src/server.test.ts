import { randomUUID } from 'node:crypto';
import { startTestRelay, RawAgent } from '@noxy-approval/testing';
import { describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from './logger.js';
import { startRelay } from './server.js';

describe('relay lifecycle', () => {
  it('binds loopback on free ports and reports its URLs', async () => {
    const relay = await startRelay({ dataDir: ':memory:', logger: silentLogger });
    try {
      expect(relay.grpcUrl).toBe(`http://127.0.0.1:${relay.grpcPort}`);
      expect(relay.httpUrl).toBe(`http://127.0.0.1:${relay.httpPort}`);
      expect(relay.wsUrl).toBe(`ws://127.0.0.1:${relay.httpPort}/`);
      expect(relay.grpcPort).toBeGreaterThan(0);
    } finally {
      await relay.close();
    }
  });

  it('close() ends device streams and sockets, finishes promptly, and is idempotent', async () => {
    const t = await startTestRelay();
    const { dev, deviceId } = await t.addDevice({ identityType: 'user_id', identityId: 'bye' });
    const ws = new WebSocket(t.relay.wsUrl);
    await new Promise((resolve) => ws.once('open', resolve));
    const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const decisionId = randomUUID();
    await t.agent.route({ targetDeviceId: deviceId, decisionId });
    const started = Date.now();
    await Promise.all([t.relay.close(), t.relay.close()]);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(await wsClosed).toBe(1001);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(dev.ended).toBe(true);
    expect(t.relay.store.closed).toBe(true);
    const late = new RawAgent(t.relay.grpcUrl, t.app.appToken);
    await expect(late.quota()).rejects.toMatchObject({ code: 14 /* UNAVAILABLE */ });
    late.close();
    await t.close();
  });
});
