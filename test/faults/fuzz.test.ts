/**
 * Matrix row B2 (bad inputs tried): fuzzed protobuf responses to the agent client, and fuzzed
 * WebSocket frames to the relay, 2,000 cases each (fast-check, seeded). Pass: 0 APPROVED that
 * the bytes do not say, 0 APPROVED at all for a client that requires device signatures, every
 * failure a typed NoxyError, 0 uncaught exceptions; the relay still serves and the decision the
 * frames try to answer stays pending.
 */
import { createNoxyClient, NoxyError, type NoxyClient } from '@noxy-approval/core';
import { agent } from '@noxy-approval/proto';
import { startTestRelay } from '@noxy-approval/testing';
import { Server, ServerCredentials, type UntypedServiceImplementation, type ServiceDefinition } from '@grpc/grpc-js';
import fc from 'fast-check';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { figure } from './reconciler.js';

const IDENTITY = 'alice@example.com';
const CASES = 2_000;

// Uncaught errors anywhere in this worker during the fuzzing (vitest would also report them).
const uncaught: unknown[] = [];
const onUncaught = (e: unknown) => void uncaught.push(e);
beforeAll(() => {
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onUncaught);
});
afterAll(() => {
  process.off('uncaughtException', onUncaught);
  process.off('unhandledRejection', onUncaught);
});

/** The Agent API with each response written as the raw bytes in `next` (no encoding). */
async function fuzzRelay(next: { bytes: Buffer }) {
  const raw: Record<string, object> = {};
  for (const [name, method] of Object.entries(agent.AgentServiceService))
    raw[name] = { ...method, responseSerialize: (b: Buffer) => b };
  const impl: UntypedServiceImplementation = {};
  for (const name of Object.keys(raw))
    impl[name] = (_call: unknown, callback: (e: null, b: Buffer) => void) => callback(null, next.bytes);
  const server = new Server();
  server.addService(raw as ServiceDefinition, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
  );
  return { endpoint: `http://127.0.0.1:${port}`, close: () => new Promise<void>((r) => server.tryShutdown(() => r())) };
}

/** Encoded GetDecisionOutcomeResponse-like messages: any enum number, any flags, optional bit flips. */
const structured = fc
  .record({
    requestId: fc.string({ maxLength: 40 }),
    pending: fc.boolean(),
    outcome: fc.oneof(fc.constantFrom(0, 1, 2, 3), fc.integer({ min: -3, max: 1_000 })),
    deviceSignature: fc.option(fc.uint8Array({ maxLength: 80 }), { nil: undefined }),
    deviceId: fc.option(fc.string({ maxLength: 40 }), { nil: undefined }),
    flips: fc.array(fc.nat(), { maxLength: 3 }),
  })
  .map(({ flips, deviceSignature, ...m }) => {
    const bytes = Buffer.from(
      agent.GetDecisionOutcomeResponse.encode({
        ...m,
        outcome: m.outcome as agent.DecisionOutcome,
        ...(deviceSignature ? { deviceSignature: Buffer.from(deviceSignature) } : {}),
      }).finish(),
    );
    for (const f of flips) if (bytes.length > 0) bytes[f % bytes.length]! ^= 1 << (f % 8);
    return bytes;
  });
const responseBytes = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  structured,
);

/**
 * What the bytes legitimately say: approved only when they decode to APPROVED. `pending` is not
 * looked at: like the official SDKs (docs/protocol.md §4), a terminal outcome ends the wait
 * whatever `pending` says — `pending=true` with APPROVED is read as approved.
 */
function saysApproved(bytes: Buffer): boolean {
  try {
    const m = agent.GetDecisionOutcomeResponse.decode(bytes);
    return m.outcome === agent.DecisionOutcome.DECISION_OUTCOME_APPROVED;
  } catch {
    return false;
  }
}

describe('B2: fuzzed protobuf responses to the agent client', () => {
  let relay: Awaited<ReturnType<typeof fuzzRelay>>;
  const next = { bytes: Buffer.alloc(0) };
  let plain: NoxyClient;
  let strict: NoxyClient;
  beforeAll(async () => {
    relay = await fuzzRelay(next);
    const timeouts = { routeDecision: 2_000, getDecisionOutcome: 2_000, other: 2_000 };
    plain = createNoxyClient({ endpoint: relay.endpoint, authToken: 'tok_fuzz', timeouts });
    strict = createNoxyClient({
      endpoint: relay.endpoint,
      authToken: 'tok_fuzz',
      timeouts,
      requireDeviceSignature: true,
    });
  });
  afterAll(async () => {
    plain.close();
    strict.close();
    await relay.close();
  });

  it(`${CASES} cases: 0 unwarranted APPROVED, 0 APPROVED without a signature, only typed errors`, async () => {
    let approved = 0;
    let unwarranted = 0;
    let strictApproved = 0;
    const untyped: string[] = [];
    const poll = async (client: NoxyClient) => {
      try {
        return (await client.getDecisionOutcome({ decisionId: crypto.randomUUID(), identity: IDENTITY })).outcome;
      } catch (e) {
        if (!NoxyError.isInstance(e)) untyped.push(String(e));
        return 'error';
      }
    };
    await fc.assert(
      fc.asyncProperty(responseBytes, async (bytes) => {
        next.bytes = bytes;
        const [a, b] = [await poll(plain), await poll(strict)];
        if (a === 'approved') approved++;
        if (a === 'approved' && !saysApproved(bytes)) unwarranted++;
        if (b === 'approved') strictApproved++;
        return true;
      }),
      { numRuns: CASES, seed: 0xb2 },
    );
    // An oversize response (> 4 MiB, grpc-js's default receive limit) is a typed error too.
    next.bytes = Buffer.alloc(4 * 1024 * 1024 + 10, 0x0a);
    const big = await poll(plain);
    figure('B2', 'protobuf cases', CASES + 1);
    figure('B2', 'approved (the bytes said APPROVED)', approved);
    figure('B2', 'approved the bytes did not say', unwarranted, '0');
    figure('B2', 'approved with requireDeviceSignature (no valid signature)', strictApproved, '0');
    figure('B2', 'untyped errors / uncaught', `${untyped.length} / ${uncaught.length}`, '0 / 0');
    expect(big).toBe('error');
    expect(unwarranted).toBe(0);
    expect(strictApproved).toBe(0);
    expect(untyped).toEqual([]);
    expect(uncaught).toEqual([]);
  });
});

describe('B2: fuzzed WebSocket frames to the relay', () => {
  it(`${CASES} frames: the relay keeps serving, the pending decision stays pending, 0 uncaught`, async () => {
    const t = await startTestRelay();
    try {
      const { deviceId } = await t.addDevice({ identityType: 'email', identityId: IDENTITY });
      const decisionId = crypto.randomUUID();
      await t.agent.route({ decisionId, targetDeviceId: deviceId });
      const payloads = fc.oneof(
        fc.record({ decisionOutcome: fc.record({ decisionId: fc.constant(decisionId), outcome: fc.string() }) }),
        fc.record({ outcome: fc.constantFrom('APPROVE', 'approve', 1, true), decisionId: fc.constant(decisionId) }),
        fc.record({ decisionAck: fc.record({ decisionId: fc.oneof(fc.constant(decisionId), fc.string()) }) }),
        fc.record({ authenticate: fc.record({ devicePubkeys: fc.anything() }) }),
        fc.record({ registerDevice: fc.dictionary(fc.string({ maxLength: 12 }), fc.jsonValue()) }),
        fc.jsonValue(),
      );
      const frames = fc.oneof(
        fc
          .record({
            requestId: fc.oneof(fc.uuid(), fc.string({ maxLength: 30 })),
            appId: fc.oneof(fc.constant(t.app.appId), fc.string({ maxLength: 30 })),
            deviceId: fc.oneof(fc.constant(deviceId), fc.string({ maxLength: 30 })),
            sessionId: fc.option(fc.string({ maxLength: 30 }), { nil: undefined }),
            timestamp: fc.oneof(fc.constant(String(t.clock.now())), fc.jsonValue()),
            nonce: fc.oneof(fc.base64String({ maxLength: 40 }), fc.jsonValue()),
            payload: payloads,
          })
          .map((f) => JSON.stringify(f)),
        fc.jsonValue().map((v) => JSON.stringify(v)),
        fc.string({ maxLength: 200 }),
        fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)),
      );
      let socket: WebSocket | undefined;
      let reopened = 0;
      let replies = 0;
      const open = async () => {
        const ws = new WebSocket(t.relay.wsUrl);
        ws.on('error', () => undefined);
        ws.on('message', () => void replies++);
        await new Promise<void>((resolve, reject) => {
          ws.once('open', () => resolve());
          ws.once('error', reject);
        });
        return ws;
      };
      await fc.assert(
        fc.asyncProperty(frames, async (frame) => {
          // The relay closes a socket on bad frames or its rate limit: open another (bounded by CASES).
          if (!socket || socket.readyState !== WebSocket.OPEN) {
            socket?.terminate();
            socket = await open();
            reopened++;
          }
          await new Promise<void>((resolve) => socket!.send(frame, () => resolve()));
          // Frames are rate limited per connection (docs/protocol.md §4.4): move the clock on.
          t.clock.advance(100);
          return true;
        }),
        { numRuns: CASES, seed: 0xb2 },
      );
      // Let the relay work through what it has read (each frame gets a reply or closes the socket).
      const last = socket as WebSocket | undefined;
      for (let i = 0; i < 250 && last?.readyState === WebSocket.OPEN && replies < CASES - reopened; i++)
        await new Promise((r) => setTimeout(r, 20));
      socket?.terminate();
      const quota = await t.agent.quota();
      const outcome = await t.agent.outcome(decisionId, IDENTITY);
      figure('B2', 'WebSocket frames', `${CASES} over ${reopened} connections, ${replies} replies`);
      figure('B2', 'the attacked decision after the frames', agent.DecisionOutcome[outcome.outcome], 'PENDING');
      figure('B2', 'uncaught', uncaught.length, '0');
      expect(quota).toBeDefined();
      expect(outcome).toMatchObject({ pending: true, outcome: agent.DecisionOutcome.DECISION_OUTCOME_PENDING });
      expect(uncaught).toEqual([]);
    } finally {
      await t.close();
    }
  });
});
