// C2SP/CCTV ML-KEM-768 vectors (1e3d2860, CC0) and the all-zero-seed key
// (docs/protocol.md §2.6). CCTV targets the FIPS 203 draft: only encaps with the given ek, m and
// decaps with the given dk, c are final-standard answers (Trap 1), so keygen is not checked.
import { shake128 } from '@noble/hashes/sha3.js';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  encapsulationKeyProblem,
  loadKemBackend,
  NoxyError,
  sealEnvelope,
  ZERO_SEED_PUBLIC_KEY_SHA256,
  type KemBackend,
} from '@noxy-approval/core/portable';
import { hex, loadJson, sha256Hex, testsOf, toHex, type Group, type WycheproofTest } from './vectors.js';

const MODULUS = 'cctv/modulus-ML-KEM-768.json.gz';
const STRCMP = 'cctv/strcmp-ML-KEM-768.json';
const UNLUCKY = 'cctv/unluckysample-ML-KEM-768.json';
const SEMI = 'wycheproof/mlkem_768_semi_expanded_decaps_test.json.gz';

const modulus = loadJson<{ encapsulationKeys: string[] }>(MODULUS).encapsulationKeys;
const strcmp = loadJson<{ vectors: Record<string, string>[] }>(STRCMP).vectors;
const unlucky = loadJson<{ vectors: Record<string, string>[] }>(UNLUCKY).vectors;

let mlkem: KemBackend;
let liboqs: KemBackend;
beforeAll(async () => {
  mlkem = await loadKemBackend('mlkem');
  liboqs = await loadKemBackend('liboqs');
});

function spy() {
  const calls: string[] = [];
  const refuse = (what: string) => () => {
    calls.push(what);
    throw new Error(`spy: ${what}`);
  };
  const kem: KemBackend = {
    name: 'spy',
    deterministic: true,
    generateKeyPair: refuse('generateKeyPair'),
    encapsulate: refuse('encapsulate'),
    decapsulate: refuse('decapsulate'),
  };
  return { kem, calls };
}

async function sealRefused(pk: Uint8Array, kem: KemBackend): Promise<boolean> {
  try {
    await sealEnvelope(new Uint8Array([1]), pk, { kem });
    return false;
  } catch (e) {
    return NoxyError.isInstance(e) && e.code === 'CRYPTO';
  }
}

describe('CCTV modulus (780 invalid encapsulation keys)', () => {
  it('every key is refused by the modulus check and by sealEnvelope before encapsulation', async () => {
    expect(modulus).toHaveLength(780);
    const { kem, calls } = spy();
    let refused = 0;
    for (const line of modulus) {
      const ek = hex(line);
      expect(ek.length).toBe(1184);
      expect(encapsulationKeyProblem(ek)).toBe('modulus');
      if (await sealRefused(ek, kem)) refused++;
    }
    expect(refused).toBe(780);
    expect(calls).toEqual([]);
  });
});

describe('CCTV strcmp (1)', () => {
  it('decapsulate(c, dk) gives K on both backends', () => {
    expect(strcmp).toHaveLength(1);
    const v = strcmp[0]!;
    for (const kem of [mlkem, liboqs])
      expect(toHex(kem.decapsulate(hex(v.c!), hex(v.dk!))), kem.name).toBe(toHex(hex(v.K!)));
  });
});

describe('CCTV unluckysample (1)', () => {
  it('mlkem encapsulate(ek, m) gives c and K; decapsulate(c, dk) gives K on both backends', () => {
    expect(unlucky).toHaveLength(1);
    const v = unlucky[0]!;
    expect(encapsulationKeyProblem(hex(v.ek!))).toBeUndefined();
    const { cipherText, sharedSecret } = mlkem.encapsulate(hex(v.ek!), hex(v.m!));
    expect(toHex(cipherText)).toBe(toHex(hex(v.c!)));
    expect(toHex(sharedSecret)).toBe(toHex(hex(v.K!)));
    for (const kem of [mlkem, liboqs])
      expect(toHex(kem.decapsulate(hex(v.c!), hex(v.dk!))), kem.name).toBe(toHex(hex(v.K!)));
  });

  it('its d, z are draft-era: final keygen gives another ek (Trap 1, why keygen is skipped)', () => {
    const v = unlucky[0]!;
    const { publicKey } = mlkem.generateKeyPair(new Uint8Array([...hex(v.d!), ...hex(v.z!)]));
    expect(toHex(publicKey)).not.toBe(toHex(hex(v.ek!)));
  });
});

describe('the all-zero-seed key (docs/protocol.md §2.6)', () => {
  it(
    're-derived with mlkem generateKeyPair(64 zero bytes): ' + 'prefix, pinned hash, refused before encapsulation',
    async () => {
      const { publicKey } = mlkem.generateKeyPair(new Uint8Array(64));
      expect(toHex(publicKey.subarray(0, 8))).toBe('254a797885c63b14');
      expect(sha256Hex(publicKey)).toBe(ZERO_SEED_PUBLIC_KEY_SHA256);
      expect(encapsulationKeyProblem(publicKey)).toBe('zero-seed');
      const { kem, calls } = spy();
      expect(await sealRefused(publicKey, kem)).toBe(true);
      expect(calls).toEqual([]);
    },
  );

  it('equals the key of Wycheproof semi-expanded decaps tcId 1, an independent copy', () => {
    const semi = testsOf(SEMI, loadJson<{ testGroups: Group<WycheproofTest & { ek: string; dk: string }>[] }>(SEMI));
    const tc1 = semi.find(({ test }) => test.tcId === 1)!.test;
    const { publicKey, secretKey } = mlkem.generateKeyPair(new Uint8Array(64));
    expect(toHex(publicKey)).toBe(toHex(hex(tc1.ek)));
    expect(toHex(secretKey)).toBe(toHex(hex(tc1.dk)));
  });

  it('one changed byte is no longer the zero-seed key', () => {
    const { publicKey } = mlkem.generateKeyPair(new Uint8Array(64));
    const other = publicKey.slice();
    other[1183]! ^= 1; // inside rho: still passes the modulus check
    expect(encapsulationKeyProblem(other)).toBeUndefined();
  });
});

describe('accumulated final-FIPS-203 vectors (CCTV procedure)', () => {
  // Expected value from dajiaji/crystals-kyber-js test/mlkem.test.ts (final standard);
  // CCTV's own README hashes are for the draft.
  it('100 runs on mlkem hash to 8d65b902…', () => {
    expect(toHex(shake128.create({}).xof(16))).toBe('7f9c2ba4e88f827d616045507605853e');
    const rng = shake128.create({});
    const out = shake128.create({ dkLen: 32 });
    for (let i = 0; i < 100; i++) {
      const d = rng.xof(32);
      const z = rng.xof(32);
      const m = rng.xof(32);
      const badCt = rng.xof(1088);
      const { publicKey: ek, secretKey: dk } = mlkem.generateKeyPair(new Uint8Array([...d, ...z]));
      const { cipherText: ct, sharedSecret: k } = mlkem.encapsulate(ek, m);
      expect(toHex(mlkem.decapsulate(ct, dk))).toBe(toHex(k));
      const kBad = mlkem.decapsulate(badCt, dk);
      out.update(ek).update(dk).update(ct).update(k).update(kBad);
    }
    expect(toHex(out.digest())).toBe('8d65b902f28edc683cebee2872962fd165a4d197c9e24ec74caa4470270df0b7');
  });
});
