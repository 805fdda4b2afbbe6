// The envelope against an independent composition of the same construction
// (docs/protocol.md §2.1), both directions, on generated payloads. The independent side is
// @noble/post-quantum ML-KEM-768 + node:crypto hkdfSync + node:crypto AES-256-GCM; our side is
// sealEnvelope/openEnvelope on the mlkem and liboqs backends (HKDF from @noble/hashes),
// alternating the WebCrypto and node:crypto AEADs.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  loadKemBackend,
  openEnvelope,
  sealEnvelope,
  webCryptoAead,
  type Envelope,
  type KemBackend,
  type KemKeyPair,
} from '@noxy-approval/core/portable';
import { nodeAead } from '../../packages/core/src/node-aead.js';

const PAYLOADS = 1000; // per direction and per backend
const SEED = 20261122;

const encoder = new TextEncoder();
const payloads: Uint8Array[] = fc.sample(
  fc.oneof(
    fc.jsonValue({ depthSize: 'medium' }).map((v) => encoder.encode(JSON.stringify(v) ?? 'null')),
    fc.uint8Array({ minLength: 0, maxLength: 4096, size: 'max' }),
    fc.constantFrom(new Uint8Array(0), new Uint8Array(1), new Uint8Array(15), new Uint8Array(16), new Uint8Array(17)),
  ),
  { numRuns: PAYLOADS, seed: SEED },
);

const same = (a: Uint8Array, b: Uint8Array) =>
  Buffer.compare(
    Buffer.from(a.buffer, a.byteOffset, a.byteLength),
    Buffer.from(b.buffer, b.byteOffset, b.byteLength),
  ) === 0;
const hkdf32 = (ss: Uint8Array) => Buffer.from(hkdfSync('sha256', ss, Buffer.alloc(0), Buffer.alloc(0), 32));

function independentOpen(env: Envelope, secretKey: Uint8Array): Uint8Array {
  const key = hkdf32(ml_kem768.decapsulate(env.kyberCt, secretKey));
  const body = env.ciphertext.subarray(0, env.ciphertext.length - 16);
  const d = createDecipheriv('aes-256-gcm', key, env.nonce, { authTagLength: 16 });
  d.setAuthTag(env.ciphertext.subarray(env.ciphertext.length - 16));
  return new Uint8Array(Buffer.concat([d.update(body), d.final()]));
}

function independentSeal(plaintext: Uint8Array, publicKey: Uint8Array): Envelope {
  const { cipherText, sharedSecret } = ml_kem768.encapsulate(publicKey);
  const nonce = new Uint8Array(randomBytes(12));
  const c = createCipheriv('aes-256-gcm', hkdf32(sharedSecret), nonce, { authTagLength: 16 });
  const ciphertext = new Uint8Array(Buffer.concat([c.update(plaintext), c.final(), c.getAuthTag()]));
  return { kyberCt: cipherText, nonce, ciphertext };
}

let backends: KemBackend[];
let devices: KemKeyPair[];
beforeAll(async () => {
  backends = [await loadKemBackend('mlkem'), await loadKemBackend('liboqs')];
  // Device keys from all three implementations, so key formats are cross-checked too.
  devices = [];
  for (let i = 0; i < 4; i++) {
    devices.push(ml_kem768.keygen());
    devices.push(backends[0]!.generateKeyPair());
    devices.push(backends[1]!.generateKeyPair());
  }
});

describe(`cross-check with an independent composition (${PAYLOADS} payloads per direction per backend)`, () => {
  it('generated the payloads', () => {
    expect(payloads).toHaveLength(PAYLOADS);
    expect(payloads.some((p) => p.length === 0)).toBe(true);
    expect(payloads.some((p) => p.length > 1000)).toBe(true);
  });

  for (const name of ['mlkem', 'liboqs']) {
    it(`${name}: sealEnvelope → independent open`, async () => {
      const kem = backends.find((b) => b.name === name)!;
      const mismatches: number[] = [];
      for (const [i, pt] of payloads.entries()) {
        const device = devices[i % devices.length]!;
        const env = await sealEnvelope(pt, device.publicKey, { kem, aead: i % 2 ? nodeAead : webCryptoAead });
        let opened: Uint8Array | undefined;
        try {
          opened = independentOpen(env, device.secretKey);
        } catch {
          opened = undefined;
        }
        if (!opened || !same(opened, pt)) mismatches.push(i);
      }
      expect(mismatches).toEqual([]);
    });

    it(`${name}: independent seal → openEnvelope`, async () => {
      const kem = backends.find((b) => b.name === name)!;
      const mismatches: number[] = [];
      for (const [i, pt] of payloads.entries()) {
        const device = devices[i % devices.length]!;
        const env = independentSeal(pt, device.publicKey);
        let opened: Uint8Array | undefined;
        try {
          opened = await openEnvelope(env, device.secretKey, kem, i % 2 ? webCryptoAead : nodeAead);
        } catch {
          opened = undefined;
        }
        if (!opened || !same(opened, pt)) mismatches.push(i);
      }
      expect(mismatches).toEqual([]);
    });
  }
});
