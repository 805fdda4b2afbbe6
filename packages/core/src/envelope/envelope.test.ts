// Envelope behaviour (docs/protocol.md §2.1, §2.6): round trips, a deterministic known answer checked
// against an independent composition, tampering, malformed fields and refused device keys.
import { createCipheriv, hkdfSync } from 'node:crypto';
import { gcm } from '@noble/ciphers/aes.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { nodeAead } from '../node-aead.js';
import {
  loadKemBackend,
  NoxyError,
  openEnvelope,
  sealEnvelope,
  webCryptoAead,
  type Aead,
  type Envelope,
  type KemBackend,
  type KemKeyPair,
} from '../portable.js';

const hexOf = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const utf8 = (s: string) => new TextEncoder().encode(s);
const PLAINTEXT = utf8(
  JSON.stringify({ title: 'Deploy to production?', args: { service: 'api', replicas: 3 }, note: 'héllo ✓' }),
);

let mlkem: KemBackend;
let liboqs: KemBackend;
let keys: KemKeyPair;
beforeAll(async () => {
  mlkem = await loadKemBackend('mlkem');
  liboqs = await loadKemBackend('liboqs');
  keys = mlkem.generateKeyPair();
});

const backends = () => [mlkem, liboqs];
const AEADS: [string, Aead][] = [
  ['webCrypto', webCryptoAead],
  ['node', nodeAead],
];

/** Resolves to the NoxyError a promise rejects with (fails the test if it resolves). */
async function cryptoError(p: Promise<unknown>): Promise<NoxyError> {
  let value: unknown;
  try {
    value = await p;
  } catch (e) {
    if (NoxyError.isInstance(e) && e.code === 'CRYPTO') return e;
    throw new Error(`expected NoxyError CRYPTO, got ${String(e)}`);
  }
  const got = value instanceof Uint8Array ? `${value.length} bytes` : typeof value;
  throw new Error(`expected a CRYPTO rejection, got a value of ${got}`);
}

/** Wraps a backend and counts calls. */
function spy(inner: KemBackend) {
  const calls = { encapsulate: 0, decapsulate: 0 };
  const kem: KemBackend = {
    name: 'spy',
    deterministic: inner.deterministic,
    generateKeyPair: (seed) => inner.generateKeyPair(seed),
    encapsulate: (pk, coins) => {
      calls.encapsulate++;
      return inner.encapsulate(pk, coins);
    },
    decapsulate: (ct, sk) => {
      calls.decapsulate++;
      return inner.decapsulate(ct, sk);
    },
  };
  return { kem, calls };
}

/** randomBytes that hands out the given chunks in order and checks the requested lengths. */
function scripted(...chunks: Uint8Array[]) {
  const asked: number[] = [];
  const fn = (n: number) => {
    asked.push(n);
    const next = chunks.shift();
    if (!next || next.length !== n) throw new Error(`randomBytes(${n}) not scripted`);
    return next.slice();
  };
  return { fn, asked };
}

describe('round trip', () => {
  it('every backend and AEAD pair opens what any other sealed (keys from mlkem and liboqs)', async () => {
    const pairs = [keys, liboqs.generateKeyPair()];
    for (const pair of pairs) {
      for (const sealKem of backends()) {
        for (const [, sealAead] of AEADS) {
          const env = await sealEnvelope(PLAINTEXT, pair.publicKey, { kem: sealKem, aead: sealAead });
          expect(env.kyberCt.length).toBe(1088);
          expect(env.nonce.length).toBe(12);
          expect(env.ciphertext.length).toBe(PLAINTEXT.length + 16);
          for (const openKem of backends()) {
            for (const [, openAead] of AEADS) {
              expect(hexOf(await openEnvelope(env, pair.secretKey, openKem, openAead))).toBe(hexOf(PLAINTEXT));
            }
          }
        }
      }
    }
  });

  it('empty and 64 KiB plaintexts, and fields that are views into a larger buffer', async () => {
    const big = new Uint8Array(65536).map((_, i) => (i * 31 + 7) & 255);
    for (const pt of [new Uint8Array(0), big]) {
      for (const kem of backends()) {
        for (const [, aead] of AEADS) {
          const env = await sealEnvelope(pt, keys.publicKey, { kem, aead });
          const wire = new Uint8Array(7 + 1088 + 12 + env.ciphertext.length + 5);
          wire.set(env.kyberCt, 7);
          wire.set(env.nonce, 7 + 1088);
          wire.set(env.ciphertext, 7 + 1088 + 12);
          const views: Envelope = {
            kyberCt: wire.subarray(7, 7 + 1088),
            nonce: wire.subarray(7 + 1088, 7 + 1100),
            ciphertext: wire.subarray(7 + 1100, 7 + 1100 + env.ciphertext.length),
          };
          const skView = new Uint8Array(3 + 2400);
          skView.set(keys.secretKey, 3);
          expect(hexOf(await openEnvelope(views, skView.subarray(3), kem, aead))).toBe(hexOf(pt));
        }
      }
    }
  });

  it('a fresh encapsulation and nonce for every seal (500 seals to one key)', async () => {
    const nonces = new Set<string>();
    const cts = new Set<string>();
    for (let i = 0; i < 500; i++) {
      const env = await sealEnvelope(PLAINTEXT, keys.publicKey, { kem: i % 2 ? liboqs : mlkem, aead: nodeAead });
      nonces.add(hexOf(env.nonce));
      cts.add(hexOf(env.kyberCt));
    }
    expect(nonces.size).toBe(500);
    expect(cts.size).toBe(500);
  });
});

describe('deterministic envelope (injected randomness, mlkem)', () => {
  // Independent composition: @noble/post-quantum ML-KEM, node:crypto HKDF and AES-GCM.
  const seed = new Uint8Array(64).map((_, i) => i);
  const m = new Uint8Array(32).map((_, i) => 0xa0 + i);
  const nonce = new Uint8Array(12).map((_, i) => 0x50 + i);

  function expected(pk: Uint8Array): Envelope {
    const { cipherText, sharedSecret } = ml_kem768.encapsulate(pk, m);
    const key = Buffer.from(hkdfSync('sha256', sharedSecret, Buffer.alloc(0), Buffer.alloc(0), 32));
    const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: 16 });
    const ciphertext = Buffer.concat([c.update(PLAINTEXT), c.final(), c.getAuthTag()]);
    return { kyberCt: cipherText, nonce, ciphertext: new Uint8Array(ciphertext) };
  }

  it('sealEnvelope draws 32 coins then a 12-byte nonce and matches the independent composition', async () => {
    const { publicKey } = ml_kem768.keygen(seed);
    expect(hexOf(mlkem.generateKeyPair(seed).publicKey)).toBe(hexOf(publicKey));
    const want = expected(publicKey);
    for (const [name, aead] of AEADS) {
      const rnd = scripted(m, nonce);
      const env = await sealEnvelope(PLAINTEXT, publicKey, { kem: mlkem, aead, randomBytes: rnd.fn });
      expect(rnd.asked, name).toEqual([32, 12]);
      expect(hexOf(env.kyberCt), name).toBe(hexOf(want.kyberCt));
      expect(hexOf(env.nonce), name).toBe(hexOf(want.nonce));
      expect(hexOf(env.ciphertext), name).toBe(hexOf(want.ciphertext));
    }
  });

  it('a third AES-GCM (@noble/ciphers) opens it', async () => {
    const { publicKey, secretKey } = ml_kem768.keygen(seed);
    const env = await sealEnvelope(PLAINTEXT, publicKey, { kem: mlkem, randomBytes: scripted(m, nonce).fn });
    const key = Buffer.from(
      hkdfSync('sha256', ml_kem768.decapsulate(env.kyberCt, secretKey), Buffer.alloc(0), Buffer.alloc(0), 32),
    );
    expect(hexOf(gcm(new Uint8Array(key), env.nonce).decrypt(env.ciphertext))).toBe(hexOf(PLAINTEXT));
  });

  it('liboqs takes no coins: only the nonce is drawn, and the result still opens', async () => {
    const rnd = scripted(nonce);
    const env = await sealEnvelope(PLAINTEXT, keys.publicKey, { kem: liboqs, aead: nodeAead, randomBytes: rnd.fn });
    expect(rnd.asked).toEqual([12]);
    expect(hexOf(env.nonce)).toBe(hexOf(nonce));
    expect(hexOf(await openEnvelope(env, keys.secretKey, mlkem, nodeAead))).toBe(hexOf(PLAINTEXT));
  });

  it('a randomBytes that returns the wrong nonce length is refused', async () => {
    const short = (n: number) => new Uint8Array(n === 12 ? 11 : n);
    await cryptoError(sealEnvelope(PLAINTEXT, keys.publicKey, { kem: mlkem, randomBytes: short }));
  });
});

describe('tampering (B4): every altered byte ends in CRYPTO, never plaintext', () => {
  const positions = (len: number) => [0, len >> 1, len - 1];

  it('flipping the first, middle and last byte of kyber_ct, nonce, ciphertext body and tag', async () => {
    for (const kem of backends()) {
      for (const [name, aead] of AEADS) {
        const env = await sealEnvelope(PLAINTEXT, keys.publicKey, { kem, aead });
        const bodyLen = env.ciphertext.length - 16;
        const cases: [string, keyof Envelope, number][] = [
          ...positions(1088).map((i): [string, keyof Envelope, number] => [`kyber_ct[${i}]`, 'kyberCt', i]),
          ...positions(12).map((i): [string, keyof Envelope, number] => [`nonce[${i}]`, 'nonce', i]),
          ...positions(bodyLen).map((i): [string, keyof Envelope, number] => [`body[${i}]`, 'ciphertext', i]),
          ...positions(16).map((i): [string, keyof Envelope, number] => [`tag[${i}]`, 'ciphertext', bodyLen + i]),
        ];
        const messages = new Set<string>();
        for (const [label, field, index] of cases) {
          for (const mask of [0x01, 0x80]) {
            const bad = { ...env, [field]: env[field].slice() };
            bad[field][index]! ^= mask;
            const err = await cryptoError(openEnvelope(bad, keys.secretKey, kem, aead)).catch((e: Error) => {
              throw new Error(`${kem.name}/${name} ${label} ^${mask}: ${e.message}`);
            });
            messages.add(err.message);
          }
        }
        expect(messages.size, `${kem.name}/${name}: one message whatever byte was altered`).toBe(1);
        expect(hexOf(await openEnvelope(env, keys.secretKey, kem, aead))).toBe(hexOf(PLAINTEXT));
      }
    }
  });

  it('a wrong device key, and swapped envelopes between two devices', async () => {
    const other = liboqs.generateKeyPair();
    for (const kem of backends()) {
      for (const [, aead] of AEADS) {
        const a = await sealEnvelope(PLAINTEXT, keys.publicKey, { kem, aead });
        const b = await sealEnvelope(PLAINTEXT, other.publicKey, { kem, aead });
        await cryptoError(openEnvelope(a, other.secretKey, kem, aead));
        await cryptoError(openEnvelope(b, keys.secretKey, kem, aead));
        await cryptoError(openEnvelope({ ...a, kyberCt: b.kyberCt }, keys.secretKey, kem, aead));
        await cryptoError(openEnvelope({ ...a, nonce: b.nonce }, keys.secretKey, kem, aead));
      }
    }
  });
});

describe('malformed fields are refused before decapsulation', () => {
  const resize = (b: Uint8Array, n: number) => {
    const out = new Uint8Array(n);
    out.set(b.subarray(0, Math.min(n, b.length)));
    return out;
  };

  it('truncated or extended kyber_ct and nonce, a ciphertext shorter than the tag, non-byte fields', async () => {
    const env = await sealEnvelope(PLAINTEXT, keys.publicKey, { kem: mlkem });
    const { kem, calls } = spy(mlkem);
    const bad: Envelope[] = [
      { ...env, kyberCt: resize(env.kyberCt, 1087) },
      { ...env, kyberCt: resize(env.kyberCt, 1089) },
      { ...env, kyberCt: new Uint8Array(0) },
      { ...env, nonce: resize(env.nonce, 11) },
      { ...env, nonce: resize(env.nonce, 13) },
      { ...env, nonce: new Uint8Array(0) },
      { ...env, ciphertext: new Uint8Array(0) },
      { ...env, ciphertext: env.ciphertext.slice(0, 15) },
      { ...env, kyberCt: Array.from(env.kyberCt) as unknown as Uint8Array },
      { ...env, nonce: hexOf(env.nonce) as unknown as Uint8Array },
      { ...env, ciphertext: undefined as unknown as Uint8Array },
    ];
    for (const [i, e] of bad.entries()) {
      for (const [, aead] of AEADS)
        await cryptoError(openEnvelope(e, keys.secretKey, kem, aead)).catch((x: Error) => {
          throw new Error(`case ${i}: ${x.message}`);
        });
    }
    expect(calls.decapsulate).toBe(0);
  });

  it('a secret key of the wrong length or with a bad hash check', async () => {
    const env = await sealEnvelope(PLAINTEXT, keys.publicKey, { kem: mlkem });
    const { kem, calls } = spy(mlkem);
    const badHash = keys.secretKey.slice();
    badHash[1152 + 1184]! ^= 1;
    for (const sk of [
      new Uint8Array(0),
      keys.secretKey.slice(0, 2399),
      resize(keys.secretKey, 2401),
      keys.publicKey,
      badHash,
    ]) {
      await cryptoError(openEnvelope(env, sk, kem));
    }
    expect(calls.decapsulate).toBe(0);
  });

  it('a ciphertext cut or extended by one byte (still ≥ 16) fails authentication', async () => {
    const env = await sealEnvelope(PLAINTEXT, keys.publicKey, { kem: mlkem });
    for (const [, aead] of AEADS) {
      await cryptoError(openEnvelope({ ...env, ciphertext: env.ciphertext.slice(0, -1) }, keys.secretKey, mlkem, aead));
      await cryptoError(
        openEnvelope(
          { ...env, ciphertext: resize(env.ciphertext, env.ciphertext.length + 1) },
          keys.secretKey,
          mlkem,
          aead,
        ),
      );
      await cryptoError(openEnvelope({ ...env, ciphertext: env.ciphertext.slice(1) }, keys.secretKey, mlkem, aead));
    }
  });
});

describe('refused device keys (B1): CRYPTO before any encapsulation', () => {
  it('lengths 0, 1, 1183, 1185, 2400 and non-byte values never reach the backend', async () => {
    const { kem, calls } = spy(mlkem);
    const candidates: Uint8Array[] = [
      new Uint8Array(0),
      new Uint8Array(1),
      keys.publicKey.slice(0, 1183),
      new Uint8Array([...keys.publicKey, 0]),
      keys.secretKey,
      Array.from(keys.publicKey) as unknown as Uint8Array,
      hexOf(keys.publicKey) as unknown as Uint8Array,
      null as unknown as Uint8Array,
    ];
    for (const pk of candidates) await cryptoError(sealEnvelope(PLAINTEXT, pk, { kem }));
    expect(calls.encapsulate).toBe(0);
  });

  it('the spy does see the call for a good key (the check above is not vacuous)', async () => {
    const { kem, calls } = spy(mlkem);
    await sealEnvelope(PLAINTEXT, keys.publicKey, { kem });
    expect(calls.encapsulate).toBe(1);
  });
});
