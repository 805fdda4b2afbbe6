/**
 * Device proofs and signed outcomes (issue 12):
 *
 * - the Ed25519 cost per decision: the device's sign (node:crypto in the Node device,
 *   `@noble/curves` in the browser) + the agent's verify (node:crypto), printed against one
 *   ML-KEM-768 envelope seal measured in the same run;
 * - full cycles per second over real loopback gRPC — RouteDecision → live decision_event →
 *   decision_ack → decision_outcome → GetDecisionOutcome — with a relay under
 *   `requireDeviceProof`, a device that registers with a proof and signs every outcome and an
 *   agent that verifies it, against the same with an official-SDK-shaped device (no proof, no
 *   signature, no verification). Target: on ≥ 0.9× off. The two modes alternate, five times each,
 *   and the median round of each counts (the machines are shared).
 * @module
 */
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ed25519 } from '@noble/curves/ed25519.js';
import {
  createMemoryDeviceKeyStore,
  createOutcomeVerifier,
  loadKemBackend,
  nodeAead,
  sealEnvelope,
  verifyEd25519,
} from '@noxy-approval/core';
import { outcomeMessage } from '@noxy-approval/core/portable';
import { nodeEd25519Sign, requestProver, signOutcome, type DeviceKeys } from '@noxy-approval/device';
import { agent, device as proto } from '@noxy-approval/proto';
import { RawAgent, RawGrpcDevice, registrationMac, syntheticDeviceKeys } from '@noxy-approval/testing';
import { median, opsPerSecond, report } from './report.js';

const IDENTITY = 'bench@example.com';

async function signVerifyCost(sign: typeof nodeEd25519Sign, label: string): Promise<void> {
  const { secretKey, publicKey } = ed25519.keygen();
  const fields = {
    appId: 'app',
    identityId: IDENTITY,
    decisionId: randomUUID(),
    outcome: 'APPROVE' as const,
    actionHash: `sha256:${'a'.repeat(64)}`,
    decidedAt: Date.now(),
  };
  const signVerify = () => {
    const message = outcomeMessage(fields);
    if (!verifyEd25519(publicKey, message, sign(message, secretKey))) throw new Error('bench: bad signature');
  };
  const kem = await loadKemBackend('mlkem');
  const pq = kem.generateKeyPair();
  const plaintext = new TextEncoder().encode(JSON.stringify({ title: 'x'.repeat(300), action_hash: 'y' }));
  const seal = () => sealEnvelope(plaintext, pq.publicKey, { kem, aead: nodeAead });
  const perSecond = await opsPerSecond(signVerify);
  const sealsPerSecond = await opsPerSecond(seal);
  report({
    name: `Ed25519 sign (${label}) + verify (node:crypto) per decision`,
    value: 1e6 / perSecond,
    unit: 'µs',
    baseline: { label: 'one ML-KEM-768 envelope seal', value: 1e6 / sealsPerSecond },
    target: 'printed',
    ok: true,
  });
}

interface CycleDevice {
  dev: RawGrpcDevice;
  keys?: DeviceKeys;
}

/** A device as our library would register it (proof) or as an official SDK does (none). */
async function connect(grpcUrl: string, appId: string, secret: string, proof: boolean): Promise<CycleDevice> {
  const dev = new RawGrpcDevice(grpcUrl, appId, Date.now, { history: false });
  const ed = ed25519.keygen();
  const wire = proof
    ? { publicKey: Buffer.from(ed.publicKey), pqPublicKey: syntheticDeviceKeys().pqPublicKey }
    : syntheticDeviceKeys();
  const keys: DeviceKeys = { ed25519: ed, mlkem: { secretKey: new Uint8Array(0), publicKey: wire.pqPublicKey } };
  const f = { identityType: 'email' as const, identityId: IDENTITY, deviceType: 'desktop', ...wire };
  const signature = registrationMac(secret, { ...f, appId });
  const env = { requestId: randomUUID(), appId, timestamp: Date.now(), nonce: randomBytes(12) };
  const deviceProof = proof
    ? requestProver(
        { keys: () => keys, deviceId: () => undefined, identityId: IDENTITY },
        nodeEd25519Sign,
      )({
        ...env,
        payload: {
          kind: 'registerDevice',
          keys: wire,
          signature,
          deviceType: 'desktop',
          identityType: 'email',
          identityId: IDENTITY,
        },
      })
    : undefined;
  const reg = await dev.request(
    {
      $case: 'registerDevice',
      value: {
        devicePubkeys: wire,
        identityId: IDENTITY,
        identityType: proto.IdentityType.IDENTITY_TYPE_EMAIL,
        signature,
        type: 'desktop',
        ...(deviceProof ? { deviceProof: Buffer.from(deviceProof) } : {}),
      },
    },
    { ...env, timestamp: BigInt(env.timestamp) },
  );
  if (reg.payload?.$case !== 'registerDevice')
    throw new Error(`bench registration failed: ${JSON.stringify(reg.payload)}`);
  dev.deviceId = reg.payload.value.deviceId;
  dev.sessionId = reg.payload.value.sessionId;
  await dev.subscribe();
  return proof ? { dev, keys } : { dev };
}

/** Full cycles per second, `concurrency` in flight, with proofs and signatures on or off. */
async function cyclesPerSecond(on: boolean, cycles: number, concurrency = 8): Promise<number> {
  // The relay runs in its own process, as beside real agents and devices.
  const child = fork(fileURLToPath(new URL('./fixtures/proof-relay-child.ts', import.meta.url)), [on ? 'on' : 'off'], {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  const app = await new Promise<{ grpcUrl: string; appId: string; appToken: string; signingSecret: string }>(
    (resolve, reject) => {
      child.once('message', (m) => resolve(m as never));
      child.once('exit', (code) => reject(new Error(`bench relay child exited with ${code}`)));
    },
  );
  const raw = new RawAgent(app.grpcUrl, app.appToken);
  const { dev, keys } = await connect(app.grpcUrl, app.appId, app.signingSecret, on);
  const verifier = createOutcomeVerifier({
    keys: createMemoryDeviceKeyStore(),
    trustOnFirstUse: true,
    listDevices: async (id) => (await raw.devices(id)).devices,
  });
  try {
    const one = async () => {
      const decisionId = randomUUID();
      const event = dev.nextEvent(decisionId, 10_000);
      const routed = await raw.route({ targetDeviceId: dev.deviceId!, decisionId });
      if (routed.status !== agent.DeliveryStatus.DELIVERED) throw new Error(`bench route status ${routed.status}`);
      await event;
      await dev.ack(decisionId);
      const decidedAt = Date.now();
      const signed = keys
        ? {
            outcomeSignature: Buffer.from(
              signOutcome(
                keys,
                { appId: app.appId, identityId: IDENTITY, decisionId, outcome: 'APPROVE', actionHash: '', decidedAt },
                nodeEd25519Sign,
              ),
            ),
            decidedAt: BigInt(decidedAt),
            actionHash: '',
          }
        : {};
      const answer = await dev.request({
        $case: 'decisionOutcome',
        value: { decisionId, outcome: proto.DecisionOutcomeValue.APPROVE, receivedAt: BigInt(decidedAt), ...signed },
      });
      if (answer.payload?.$case !== 'decisionOutcome')
        throw new Error(`bench outcome refused: ${JSON.stringify(answer.payload)}`);
      const res = await raw.outcome(decisionId, IDENTITY);
      if (res.outcome !== agent.DecisionOutcome.DECISION_OUTCOME_APPROVED) throw new Error('bench: not approved');
      if (on) {
        const v = await verifier.verify({ identityId: IDENTITY, decisionId, outcome: 'approved', actionHash: '' }, res);
        if (!v.verified) throw new Error(`bench: outcome not verified (${v.reason})`);
      }
    };
    const run = async (n: number) => {
      let next = 0;
      const worker = async () => {
        while (next < n) {
          next++;
          await one();
        }
      };
      await Promise.all(Array.from({ length: concurrency }, worker));
    };
    await run(Math.max(20, cycles / 20));
    const start = performance.now();
    await run(cycles);
    return cycles / ((performance.now() - start) / 1000);
  } finally {
    dev.close();
    raw.close();
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.send('stop');
    await exited;
  }
}

/** Runs the device-proof benchmarks. */
export async function benchDeviceProof(): Promise<void> {
  await signVerifyCost(nodeEd25519Sign, 'node:crypto, the Node device');
  await signVerifyCost((m, k) => ed25519.sign(m, k), '@noble/curves, the browser');
  const off: number[] = [];
  const on: number[] = [];
  // Five short alternating rounds: the shared machines swing by ±25% within a minute, so each
  // mode's median round is compared (one outlier round either way does not decide it).
  for (let i = 0; i < 5; i++) {
    off.push(await cyclesPerSecond(false, 1_000));
    on.push(await cyclesPerSecond(true, 1_000));
  }
  console.log(
    `      rounds off ${off.map((x) => x.toFixed(0)).join(' ')}; on ${on.map((x) => x.toFixed(0)).join(' ')}`,
  );
  report({
    name: 'full cycles/s with device proofs + signed outcomes + agent verification',
    value: median(on),
    unit: 'cycles/s',
    baseline: { label: 'official-SDK-shaped device, nothing signed', value: median(off) },
    target: '≥ 0.9× off',
    ok: median(on) >= 0.9 * median(off),
  });
}
