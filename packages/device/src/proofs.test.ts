import { randomBytes } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { verifyEd25519 } from '@noxy-approval/core';
import { authenticateProofMessage, outcomeMessage, rotationMessage } from '@noxy-approval/core/portable';
import { describe, expect, it } from 'vitest';
import type { DeviceKeys } from './keys.js';
import { nodeEd25519Sign } from './node-sign.js';
import { nobleEd25519Sign, requestProver, signOutcome } from './proofs.js';
import type { WireRequest } from './wire.js';

const keysOf = (): DeviceKeys => {
  const ed = ed25519.keygen();
  return { ed25519: ed, mlkem: { secretKey: new Uint8Array(0), publicKey: new Uint8Array(1184).fill(3) } };
};
const frame = (payload: WireRequest['payload']): WireRequest => ({
  requestId: 'r-1',
  appId: 'app-1',
  timestamp: 1_700_000_000_000,
  nonce: new Uint8Array(12).fill(9),
  payload,
});

describe('device proofs and outcome signatures', () => {
  it('node:crypto and @noble/curves make the same (deterministic) Ed25519 signatures', () => {
    for (let i = 0; i < 8; i++) {
      const { secretKey } = ed25519.keygen();
      const message = randomBytes(i * 37);
      expect(Buffer.from(nodeEd25519Sign(message, secretKey))).toEqual(
        Buffer.from(nobleEd25519Sign(message, secretKey)),
      );
    }
  });

  it('proves an authenticate over its own frame: a proof does not verify for another request id', () => {
    const keys = keysOf();
    const wire = { publicKey: keys.ed25519.publicKey, pqPublicKey: keys.mlkem.publicKey };
    const request = frame({ kind: 'authenticate', keys: wire });
    const proof = requestProver({ keys: () => keys, deviceId: () => undefined, identityId: 'i' })(request)!;
    const f = { ...request, ...wire };
    expect(verifyEd25519(wire.publicKey, authenticateProofMessage(f), proof)).toBe(true);
    expect(verifyEd25519(wire.publicKey, authenticateProofMessage({ ...f, requestId: 'r-2' }), proof)).toBe(false);
  });

  it('signs a rotation with the OLD key, naming the device; nothing before the device id is known', () => {
    const old = keysOf();
    const next = keysOf();
    const newKeys = { publicKey: next.ed25519.publicKey, pqPublicKey: next.mlkem.publicKey };
    const payload = {
      kind: 'rotateDeviceKeys',
      newKeys,
      signature: new Uint8Array(64),
      identityType: 'email',
      identityId: 'a@b.c',
    } as const;
    const unknown = requestProver({ keys: () => old, deviceId: () => undefined, identityId: 'a@b.c' });
    expect(unknown(frame(payload))).toBeUndefined();
    const prove = requestProver({ keys: () => old, deviceId: () => 'dev-1', identityId: 'a@b.c' }, nodeEd25519Sign);
    const proof = prove(frame(payload))!;
    const message = rotationMessage({
      deviceId: 'dev-1',
      identityId: 'a@b.c',
      oldPublicKey: old.ed25519.publicKey,
      newPublicKey: newKeys.publicKey,
      newPqPublicKey: newKeys.pqPublicKey,
      rotatedAt: 1_700_000_000_000,
    });
    expect(verifyEd25519(old.ed25519.publicKey, message, proof)).toBe(true);
    expect(verifyEd25519(next.ed25519.publicKey, message, proof)).toBe(false);
    // Other requests carry no proof.
    expect(prove(frame({ kind: 'subscribeDecisions', subscribe: true }))).toBeUndefined();
  });

  it('signs an outcome over exactly its fields', () => {
    const keys = keysOf();
    const f = {
      appId: 'a',
      identityId: 'i',
      decisionId: 'd',
      outcome: 'APPROVE',
      actionHash: 'h',
      decidedAt: 5,
    } as const;
    const sig = signOutcome(keys, f);
    expect(verifyEd25519(keys.ed25519.publicKey, outcomeMessage(f), sig)).toBe(true);
    expect(verifyEd25519(keys.ed25519.publicKey, outcomeMessage({ ...f, outcome: 'REJECT' }), sig)).toBe(false);
  });
});
