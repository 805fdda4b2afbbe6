import { status } from '@grpc/grpc-js';
import { createNoxyClient, loadKemBackend, nodeAead, openEnvelope, type NoxyClient } from '@noxy-approval/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentTestServer, type TestDevice } from '@noxy-approval/testing';

const ALICE = 'alice@example.com';

let server: AgentTestServer;
let client: NoxyClient;
let devices: TestDevice[];

beforeEach(async () => {
  server = await AgentTestServer.start();
  devices = await server.addDevices(ALICE, 5);
  client = createNoxyClient({ endpoint: server.endpoint, authToken: 'tok_fanout', kem: 'mlkem' });
});

afterEach(async () => {
  client.close();
  await server.close();
});

const routes = () => server.callsTo('RouteDecision');

async function zeroSeedKey(): Promise<Buffer> {
  const kem = await loadKemBackend('mlkem');
  return Buffer.from(kem.generateKeyPair(new Uint8Array(64)).publicKey);
}

function modulusFailing(key: Buffer): Buffer {
  const bad = Buffer.from(key);
  bad[0] = 0xff; // the first 12-bit coefficient becomes 0xfff = 4095 ≥ q = 3329
  bad[1] = bad[1]! | 0x0f;
  return bad;
}

const BAD_KEYS: [string, (good: Buffer) => Promise<Buffer> | Buffer, string][] = [
  ['the all-zero-seed key', () => zeroSeedKey(), 'zero-seed'],
  ['a key failing the modulus check', (good) => modulusFailing(good), 'modulus'],
  ['an empty key', () => Buffer.alloc(0), 'length'],
  ['a 1-byte key', () => Buffer.alloc(1), 'length'],
  ['a 1183-byte key', (good) => good.subarray(0, 1183), 'length'],
  ['a 1185-byte key', (good) => Buffer.concat([good, Buffer.from([0])]), 'length'],
  ['a 2400-byte key (a secret key)', () => Buffer.alloc(2400, 1), 'length'],
];

describe('fan-out', () => {
  it.each(BAD_KEYS)(
    '5 devices, one with %s: 4 RouteDecisions, the 5th reported as refused_key',
    async (_name, make, why) => {
      const bad = devices[2]!;
      bad.pqPublicKey = await make(devices[3]!.pqPublicKey);
      const sent = await client.sendDecision(ALICE, { title: 'Rotate keys?' });
      expect(routes()).toHaveLength(4);
      expect(routes().some((c) => c.request.targetDeviceId === bad.deviceId)).toBe(false);
      expect(sent.delivered).toBe(4);
      expect(sent.deliveries.map((d) => d.status)).toEqual([
        'delivered',
        'delivered',
        'refused_key',
        'delivered',
        'delivered',
      ]);
      expect(sent.deliveries[2]!.error).toMatchObject({
        name: 'NoxyError',
        code: 'CRYPTO',
        message: expect.stringContaining(bad.deviceId),
      });
      expect(sent.deliveries[2]!.error!.message).toContain(why);
    },
  );

  it('the same key on two devices: the second is refused, the first still gets it', async () => {
    devices[4]!.pqPublicKey = devices[1]!.pqPublicKey;
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(sent.deliveries.map((d) => d.status)).toEqual([
      'delivered',
      'delivered',
      'delivered',
      'delivered',
      'refused_key',
    ]);
    expect(sent.deliveries[4]!.error?.message).toMatch(/duplicate/);
    expect(routes().map((c) => c.request.targetDeviceId)).not.toContain(devices[4]!.deviceId);
    expect(routes()).toHaveLength(4);
  });

  it('one device whose RouteDecision fails (non-retryable) does not stop the others', async () => {
    const victim = devices[1]!.deviceId;
    server.failNext(
      'RouteDecision',
      { code: status.INVALID_ARGUMENT, details: 'device revoked', where: (r) => r.targetDeviceId === victim },
      10,
    );
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(routes()).toHaveLength(5);
    expect(sent.delivered).toBe(4);
    expect(sent.deliveries[1]).toMatchObject({
      deviceId: victim,
      status: 'failed',
      error: { code: 'INVALID_ARGUMENT', grpcCode: status.INVALID_ARGUMENT },
    });
    // The others can still open their envelope.
    const kem = await loadKemBackend('mlkem');
    for (const call of routes().filter((c) => c.request.targetDeviceId !== victim)) {
      const device = devices.find((d) => d.deviceId === call.request.targetDeviceId)!;
      const r = call.request as { kyberCt: Buffer; nonce: Buffer; ciphertext: Buffer };
      const plain = await openEnvelope(
        { kyberCt: r.kyberCt, nonce: r.nonce, ciphertext: r.ciphertext },
        device.secretKey!,
        kem,
        nodeAead,
      );
      expect(new TextDecoder().decode(plain)).toBe('{"title":"t"}');
    }
  });

  it('a device that keeps failing with a retryable status is retried alone; the others get one call each', async () => {
    const victim = devices[0]!.deviceId;
    server.failNext('RouteDecision', { code: status.UNAVAILABLE, where: (r) => r.targetDeviceId === victim }, 2);
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(sent.delivered).toBe(5);
    const perDevice = new Map<unknown, number>();
    for (const c of routes())
      perDevice.set(c.request.targetDeviceId, (perDevice.get(c.request.targetDeviceId) ?? 0) + 1);
    expect(perDevice.get(victim)).toBe(3);
    expect([...perDevice.values()].filter((n) => n === 1)).toHaveLength(4);
  });

  it('all keys refused: nothing is sent, and the send-and-wait call says NO_DEVICES', async () => {
    for (const d of devices) d.pqPublicKey = Buffer.alloc(10);
    const sent = await client.sendDecision(ALICE, { title: 't' });
    expect(sent.delivered).toBe(0);
    expect(sent.deliveries.every((d) => d.status === 'refused_key')).toBe(true);
    await expect(client.sendDecisionAndWaitForOutcome(ALICE, { title: 't' })).rejects.toMatchObject({
      code: 'NO_DEVICES',
    });
    expect(routes()).toHaveLength(0);
    expect(server.callsTo('GetDecisionOutcome')).toHaveLength(0);
  });

  it('fanOutConcurrency bounds the parallel RouteDecisions', async () => {
    server.delay('RouteDecision', 100);
    const c = createNoxyClient({
      endpoint: server.endpoint,
      authToken: 'tok_fanout',
      kem: 'mlkem',
      fanOutConcurrency: 2,
    });
    try {
      const start = performance.now();
      const sent = await c.sendDecision(ALICE, { title: 't' });
      expect(sent.delivered).toBe(5);
      // 5 devices, 2 lanes, 100 ms each → at least 3 rounds.
      expect(performance.now() - start).toBeGreaterThanOrEqual(290);
    } finally {
      c.close();
    }
  });
});
