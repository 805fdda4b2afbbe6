/**
 * A malicious relay (issue 12): the AgentTestServer plays a relay that answers APPROVED with no
 * signature, a signature by another device, over another decision id or over another action
 * hash, or presents another key for a pinned device. With `requireDeviceSignature` the gate never
 * runs and each case has its own reason; without it the result says `verified: false`. A genuine
 * device signature verifies, and is pinned on first sight.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  createApprovalEngine,
  createMemoryDeviceKeyStore,
  createNoxyClient,
  loadKemBackend,
  nodeAead,
  openEnvelope,
  runGated,
  type ApprovalEngine,
  type KemBackend,
  type NoxyClient,
  type VerificationFailure,
} from '@noxy-approval/core';
import { outcomeMessage, rotationMessage } from '@noxy-approval/core/portable';
import { agent } from '@noxy-approval/proto';
import { AgentTestServer, type TestDevice } from '@noxy-approval/testing';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const ALICE = 'alice@example.com';
const MALLORY = 'mallory@example.com';
const APPROVED = agent.DecisionOutcome.DECISION_OUTCOME_APPROVED;

let kem: KemBackend;
beforeAll(async () => {
  kem = await loadKemBackend('mlkem');
});

const open: { close(): unknown }[] = [];
afterEach(async () => {
  for (const o of open.splice(0).reverse()) await o.close();
});

interface SigningDevice {
  entry: TestDevice;
  secretKey: Uint8Array;
}

/** Gives a test-server device a real Ed25519 key pair. */
function withSigningKey(entry: TestDevice): SigningDevice {
  const { secretKey, publicKey } = ed25519.keygen();
  entry.publicKey = Buffer.from(publicKey);
  return { entry, secretKey };
}

/** What the routed payload asked, decrypted as a device would. */
async function routedPayload(server: AgentTestServer, dev: TestDevice, decisionId: string) {
  const req = [...server.stored.values()].find(
    (r) => r.decisionId === decisionId && r.targetDeviceId === dev.deviceId,
  )!;
  const plain = await openEnvelope(
    { kyberCt: req.kyberCt as Uint8Array, nonce: req.nonce as Uint8Array, ciphertext: req.ciphertext as Uint8Array },
    dev.secretKey!,
    kem,
    nodeAead,
  );
  return JSON.parse(new TextDecoder().decode(plain)) as { action_hash: string; decision_id: string };
}

function sign(
  secretKey: Uint8Array,
  f: { decisionId: string; actionHash: string; identityId?: string; outcome?: 'APPROVE' | 'REJECT' },
) {
  const decidedAt = Date.now();
  const fields = {
    appId: 'app-1',
    identityId: f.identityId ?? ALICE,
    decisionId: f.decisionId,
    outcome: f.outcome ?? ('APPROVE' as const),
    actionHash: f.actionHash,
    decidedAt,
  };
  return {
    deviceSignature: Buffer.from(ed25519.sign(outcomeMessage(fields), secretKey)),
    decidedAt: BigInt(decidedAt),
    signedDecisionId: f.decisionId,
    actionHash: f.actionHash,
    appId: 'app-1',
  };
}

type Script = (decisionId: string) => Promise<Partial<agent.GetDecisionOutcomeResponse>>;

async function setup(o: { require: boolean; pins?: Parameters<typeof createMemoryDeviceKeyStore>[0] }) {
  const server = await AgentTestServer.start();
  open.push(server);
  const [a] = await server.addDevices(ALICE, 1);
  const [m] = await server.addDevices(MALLORY, 1);
  const alice = withSigningKey(a!);
  const mallory = withSigningKey(m!);
  // The test server numbers devices per identity; a real relay's device ids are unique.
  mallory.entry.deviceId = 'dev-of-mallory';
  // Every routed decision gets the outcome the test scripts for it (the relay's word).
  let script: Script = async () => ({});
  server.routeStatus = (req) => {
    const decisionId = String(req.decisionId);
    if (req.targetDeviceId === alice.entry.deviceId) {
      void script(decisionId).then((signed) => server.setOutcome(decisionId, [{ outcome: APPROVED, signed }]));
    }
    return agent.DeliveryStatus.DELIVERED;
  };
  const deviceKeys = createMemoryDeviceKeyStore(o.pins ?? []);
  const client: NoxyClient = createNoxyClient({
    endpoint: server.endpoint,
    authToken: 'test-token',
    kem,
    requireDeviceSignature: o.require,
    deviceKeys,
  });
  open.push(client);
  const engine: ApprovalEngine = createApprovalEngine({ client, agent: { name: 'bot' } });
  const runs: unknown[] = [];
  const gated = () =>
    runGated(
      engine,
      { tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 to Bob' },
      (args) => {
        runs.push(args);
        return 'sent';
      },
      { identity: ALICE },
    );
  return {
    server,
    alice,
    mallory,
    deviceKeys,
    runs,
    gated,
    setScript: (s: Script) => (script = s),
  };
}

// The relay's forgeries, each with the reason the agent must give.
const FORGERIES: [string, VerificationFailure, (t: Awaited<ReturnType<typeof setup>>) => Script][] = [
  ['no signature at all', 'unsigned', () => async () => ({})],
  [
    'a signature by a device of another identity, named as that device',
    'unknown_device',
    (t) => async (id) => ({
      ...sign(t.mallory.secretKey, {
        decisionId: id,
        actionHash: (await routedPayload(t.server, t.alice.entry, id)).action_hash,
      }),
      deviceId: t.mallory.entry.deviceId,
    }),
  ],
  [
    "another device's signature presented as this identity's device",
    'bad_signature',
    (t) => async (id) => ({
      ...sign(t.mallory.secretKey, {
        decisionId: id,
        actionHash: (await routedPayload(t.server, t.alice.entry, id)).action_hash,
      }),
      deviceId: t.alice.entry.deviceId,
    }),
  ],
  [
    "the device's real signature of a REJECT, reported as APPROVED",
    'bad_signature',
    (t) => async (id) => ({
      ...sign(t.alice.secretKey, {
        decisionId: id,
        actionHash: (await routedPayload(t.server, t.alice.entry, id)).action_hash,
        outcome: 'REJECT',
      }),
      deviceId: t.alice.entry.deviceId,
    }),
  ],
  [
    "the device's signature of another decision (replayed)",
    'wrong_decision',
    (t) => async (id) => ({
      ...sign(t.alice.secretKey, {
        decisionId: 'an-earlier-decision',
        actionHash: (await routedPayload(t.server, t.alice.entry, id)).action_hash,
      }),
      deviceId: t.alice.entry.deviceId,
    }),
  ],
  [
    "the device's signature over another action hash",
    'wrong_action',
    (t) => async (id) => ({
      ...sign(t.alice.secretKey, { decisionId: id, actionHash: `sha256:${'0'.repeat(64)}` }),
      deviceId: t.alice.entry.deviceId,
    }),
  ],
];

describe('a malicious relay cannot forge an approval (requireDeviceSignature)', () => {
  for (const [name, reason, forge] of FORGERIES) {
    it(`${name}: the gate never runs, reason ${reason}`, async () => {
      const t = await setup({ require: true });
      t.setScript(forge(t));
      const r = await t.gated();
      expect(t.runs).toEqual([]);
      expect(r).toMatchObject({ status: 'not_executed', reason: 'unverified_approval', verificationFailure: reason });
      expect(r.approval.outcome).toBe('rejected');
      expect(r.approval.verification).toMatchObject({ verified: false, reason });
      expect(r.message).toContain(`reason: ${reason}`);
      expect(r.message).toContain('NOT approved');
    });
  }

  it('a key the relay swapped in for a pinned device (no rotation by the pinned key): wrong_device', async () => {
    const pinned = ed25519.keygen();
    const t = await setup({ require: true, pins: [] });
    await t.deviceKeys.set({ identityId: ALICE, deviceId: t.alice.entry.deviceId, publicKey: pinned.publicKey });
    t.setScript(async (id) => ({
      ...sign(t.alice.secretKey, {
        decisionId: id,
        actionHash: (await routedPayload(t.server, t.alice.entry, id)).action_hash,
      }),
      deviceId: t.alice.entry.deviceId,
    }));
    const r = await t.gated();
    expect(t.runs).toEqual([]);
    expect(r).toMatchObject({ status: 'not_executed', verificationFailure: 'wrong_device' });
  });

  it("the device's genuine signature verifies: pinned on first sight, the gate runs once", async () => {
    const t = await setup({ require: true });
    t.setScript(async (id) => ({
      ...sign(t.alice.secretKey, {
        decisionId: id,
        actionHash: (await routedPayload(t.server, t.alice.entry, id)).action_hash,
      }),
      deviceId: t.alice.entry.deviceId,
    }));
    const r = await t.gated();
    expect(r).toMatchObject({ status: 'executed', result: 'sent' });
    expect(r.approval.verification).toEqual({ verified: true, deviceId: t.alice.entry.deviceId });
    expect(t.runs).toHaveLength(1);
    const pin = await t.deviceKeys.get(ALICE, t.alice.entry.deviceId);
    expect(Buffer.from(pin!).equals(t.alice.entry.publicKey)).toBe(true);
  });

  it('a rotated key is accepted only when the pinned key announced it', async () => {
    const t = await setup({ require: true });
    const old = { secretKey: t.alice.secretKey, publicKey: new Uint8Array(t.alice.entry.publicKey) };
    await t.deviceKeys.set({ identityId: ALICE, deviceId: t.alice.entry.deviceId, publicKey: old.publicKey });
    const next = ed25519.keygen();
    const rotatedAt = Date.now();
    const fields = {
      deviceId: t.alice.entry.deviceId,
      identityId: ALICE,
      oldPublicKey: old.publicKey,
      newPublicKey: next.publicKey,
      newPqPublicKey: t.alice.entry.pqPublicKey,
      rotatedAt,
    };
    t.alice.entry.publicKey = Buffer.from(next.publicKey);
    t.alice.entry.keyRotations = [
      {
        oldPublicKey: Buffer.from(old.publicKey),
        newPublicKey: Buffer.from(next.publicKey),
        newPqPublicKey: Buffer.from(t.alice.entry.pqPublicKey),
        rotatedAt: BigInt(rotatedAt),
        signature: Buffer.from(ed25519.sign(rotationMessage(fields), old.secretKey)),
      },
    ];
    t.setScript(async (id) => ({
      ...sign(next.secretKey, {
        decisionId: id,
        actionHash: (await routedPayload(t.server, t.alice.entry, id)).action_hash,
      }),
      deviceId: t.alice.entry.deviceId,
    }));
    expect(await t.gated()).toMatchObject({ status: 'executed' });
    expect(Buffer.from((await t.deviceKeys.get(ALICE, t.alice.entry.deviceId))!).equals(next.publicKey)).toBe(true);

    // The same rotation "announced" by a key that is not the pinned one is refused.
    const t2 = await setup({ require: true });
    await t2.deviceKeys.set({ identityId: ALICE, deviceId: t2.alice.entry.deviceId, publicKey: old.publicKey });
    const forged = ed25519.keygen();
    t2.alice.entry.keyRotations = [
      {
        oldPublicKey: Buffer.from(old.publicKey),
        newPublicKey: Buffer.from(t2.alice.entry.publicKey),
        newPqPublicKey: Buffer.from(t2.alice.entry.pqPublicKey),
        rotatedAt: BigInt(rotatedAt),
        signature: Buffer.from(
          ed25519.sign(rotationMessage({ ...fields, newPublicKey: t2.alice.entry.publicKey }), forged.secretKey),
        ),
      },
    ];
    t2.setScript(async (id) => ({
      ...sign(t2.alice.secretKey, {
        decisionId: id,
        actionHash: (await routedPayload(t2.server, t2.alice.entry, id)).action_hash,
      }),
      deviceId: t2.alice.entry.deviceId,
    }));
    expect(await t2.gated()).toMatchObject({ status: 'not_executed', verificationFailure: 'wrong_device' });
    expect(t2.runs).toEqual([]);
  });

  it('only configured keys count without trust on first use', async () => {
    const server = await AgentTestServer.start();
    open.push(server);
    const [a] = await server.addDevices(ALICE, 1);
    const alice = withSigningKey(a!);
    const client = createNoxyClient({
      endpoint: server.endpoint,
      authToken: 't',
      kem,
      requireDeviceSignature: true,
      trustOnFirstUse: false,
    });
    open.push(client);
    server.setOutcome('d-1', [
      {
        outcome: APPROVED,
        signed: { ...sign(alice.secretKey, { decisionId: 'd-1', actionHash: '' }), deviceId: a!.deviceId },
      },
    ]);
    const snap = await client.getDecisionOutcome({ decisionId: 'd-1', identity: ALICE });
    expect(snap).toMatchObject({
      outcome: 'rejected',
      refusedApproval: true,
      verification: { reason: 'unknown_device' },
    });
  });
});

describe('without requireDeviceSignature (official relays and devices)', () => {
  for (const [name, reason, forge] of FORGERIES.slice(0, 3)) {
    it(`${name}: approved as the relay says, verified: false (${reason})`, async () => {
      const t = await setup({ require: false });
      t.setScript(forge(t));
      const r = await t.gated();
      expect(r.approval.outcome).toBe('approved');
      expect(r.approval.verification).toMatchObject({ verified: false, reason });
      expect(r.status).toBe('executed');
    });
  }

  it('rejects bad options, naming the field', () => {
    expect(() =>
      createNoxyClient({ endpoint: 'http://127.0.0.1:1', authToken: 't', requireDeviceSignature: 'yes' as never }),
    ).toThrow(/"requireDeviceSignature" expected true or false/);
    expect(() =>
      createNoxyClient({
        endpoint: 'http://127.0.0.1:1',
        authToken: 't',
        deviceKeys: [{ identityId: ALICE, deviceId: 'd', publicKey: new Uint8Array(31) }],
      }),
    ).toThrow(/"deviceKeys\[0\]\.publicKey" expected 32 bytes/);
  });
});
