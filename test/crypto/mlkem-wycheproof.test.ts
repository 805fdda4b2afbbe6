// Wycheproof ML-KEM-768 (C2SP/wycheproof dac1dd47, testvectors_v1/, Apache-2.0). See
// test/vectors/README.md.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertDecapsulationKey,
  assertEncapsulationKey,
  encapsulationKeyProblem,
  loadKemBackend,
  NoxyError,
  openEnvelope,
  publicKeyOfSecretKey,
  sealEnvelope,
  type KemBackend,
} from '@noxy-approval/core/portable';
import { hex, loadJson, testsOf, toHex, type Group, type WycheproofTest } from './vectors.js';

interface EncapsTest extends WycheproofTest {
  m: string;
  ek: string;
  c: string;
  K: string;
}
interface MlkemTest extends WycheproofTest {
  seed: string;
  ek?: string;
  c: string;
  K: string;
}
interface KeygenTest extends WycheproofTest {
  seed: string;
  ek: string;
  dk: string;
}
interface SemiTest extends WycheproofTest {
  dk: string;
  c: string;
  ek: string;
  K?: string;
}
type Doc<T> = { testGroups: (Group<T> & { parameterSet?: string })[] };

const ENCAPS = 'wycheproof/mlkem_768_encaps_test.json.gz';
const DECAPS = 'wycheproof/mlkem_768_test.json.gz';
const KEYGEN = 'wycheproof/mlkem_768_keygen_seed_test.json.gz';
const SEMI = 'wycheproof/mlkem_768_semi_expanded_decaps_test.json.gz';

const only768 = <T>(rel: string, doc: Doc<T>) => {
  const all = testsOf(rel, doc);
  expect(
    all.every(({ group }) => group.parameterSet === 'ML-KEM-768'),
    rel,
  ).toBe(true);
  return all.map(({ test }) => test);
};
const encaps = only768(ENCAPS, loadJson<Doc<EncapsTest>>(ENCAPS));
const decaps = only768(DECAPS, loadJson<Doc<MlkemTest>>(DECAPS));
const keygen = only768(KEYGEN, loadJson<Doc<KeygenTest>>(KEYGEN));
const semi = only768(SEMI, loadJson<Doc<SemiTest>>(SEMI));

let mlkem: KemBackend;
let liboqs: KemBackend;
beforeAll(async () => {
  mlkem = await loadKemBackend('mlkem');
  liboqs = await loadKemBackend('liboqs');
});

/** A backend that records calls and must never be reached. */
function untouchable() {
  const calls: string[] = [];
  const kem: KemBackend = {
    name: 'spy',
    deterministic: true,
    generateKeyPair: () => {
      calls.push('generateKeyPair');
      throw new Error('spy: generateKeyPair');
    },
    encapsulate: () => {
      calls.push('encapsulate');
      throw new Error('spy: encapsulate');
    },
    decapsulate: () => {
      calls.push('decapsulate');
      throw new Error('spy: decapsulate');
    },
  };
  return { kem, calls };
}

async function rejectsWithCrypto(p: Promise<unknown>): Promise<boolean> {
  try {
    await p;
    return false;
  } catch (e) {
    return NoxyError.isInstance(e) && e.code === 'CRYPTO';
  }
}

describe('Wycheproof mlkem_768_encaps_test (265 = 133 valid + 132 invalid)', () => {
  const valid = encaps.filter((t) => t.result === 'valid');
  const invalid = encaps.filter((t) => t.result === 'invalid');

  it('has the expected cases', () => {
    expect(encaps).toHaveLength(265);
    expect(valid).toHaveLength(133);
    expect(invalid).toHaveLength(132);
  });

  it('valid: our key check accepts ek and mlkem encapsulate(ek, m) gives c and K', () => {
    let passed = 0;
    for (const t of valid) {
      const ek = hex(t.ek);
      expect(encapsulationKeyProblem(ek), `tcId ${t.tcId}`).toBeUndefined();
      const { cipherText, sharedSecret } = mlkem.encapsulate(ek, hex(t.m));
      expect(toHex(cipherText), `tcId ${t.tcId} c`).toBe(toHex(hex(t.c)));
      expect(toHex(sharedSecret), `tcId ${t.tcId} K`).toBe(toHex(hex(t.K)));
      passed++;
    }
    expect(passed).toBe(133);
  });

  it('invalid: all 132 refused by encapsulationKeyProblem / assertEncapsulationKey', () => {
    let refused = 0;
    for (const t of invalid) {
      const ek = hex(t.ek);
      const problem = encapsulationKeyProblem(ek);
      expect(problem, `tcId ${t.tcId} ${t.comment ?? ''}`).toBe(ek.length === 1184 ? 'modulus' : 'length');
      expect(() => assertEncapsulationKey(ek), `tcId ${t.tcId}`).toThrow(NoxyError);
      refused++;
    }
    expect(refused).toBe(132);
  });

  it('invalid: sealEnvelope refuses all 132 with CRYPTO before any backend call', async () => {
    const { kem, calls } = untouchable();
    let refused = 0;
    for (const t of invalid) {
      if (await rejectsWithCrypto(sealEnvelope(new Uint8Array([123]), hex(t.ek), { kem }))) refused++;
    }
    expect(refused).toBe(132);
    expect(calls).toEqual([]);
  });
});

describe('Wycheproof mlkem_768_test (193 = 153 valid + 40 invalid)', () => {
  const valid = decaps.filter((t) => t.result === 'valid');
  const invalid = decaps.filter((t) => t.result === 'invalid');

  it('has the expected cases', () => {
    expect(decaps).toHaveLength(193);
    expect(valid).toHaveLength(153);
    expect(invalid).toHaveLength(40);
  });

  it('valid: mlkem keygen(seed) gives ek; decapsulate(c, dk) gives K on both backends', () => {
    let passed = 0;
    for (const t of valid) {
      const { publicKey, secretKey } = mlkem.generateKeyPair(hex(t.seed));
      expect(toHex(publicKey), `tcId ${t.tcId} ek`).toBe(toHex(hex(t.ek!)));
      assertDecapsulationKey(secretKey);
      for (const kem of [mlkem, liboqs]) {
        expect(toHex(kem.decapsulate(hex(t.c), secretKey)), `tcId ${t.tcId} ${kem.name}`).toBe(toHex(hex(t.K)));
      }
      passed++;
    }
    expect(passed).toBe(153);
  });

  it('invalid (20 wrong seed length): the mlkem backend refuses the seed', () => {
    const badSeeds = invalid.filter((t) => hex(t.seed).length !== 64);
    expect(badSeeds).toHaveLength(20);
    for (const t of badSeeds) expect(() => mlkem.generateKeyPair(hex(t.seed)), `tcId ${t.tcId}`).toThrow();
  });

  it('invalid (20 wrong ciphertext length): openEnvelope refuses with CRYPTO before decapsulating', async () => {
    const badCts = invalid.filter((t) => hex(t.seed).length === 64);
    expect(badCts).toHaveLength(20);
    const { kem, calls } = untouchable();
    let refused = 0;
    for (const t of badCts) {
      const { secretKey } = mlkem.generateKeyPair(hex(t.seed));
      const envelope = { kyberCt: hex(t.c), nonce: new Uint8Array(12), ciphertext: new Uint8Array(32) };
      expect(envelope.kyberCt.length).not.toBe(1088);
      if (await rejectsWithCrypto(openEnvelope(envelope, secretKey, kem))) refused++;
    }
    expect(refused).toBe(20);
    expect(calls).toEqual([]);
  });
});

describe('Wycheproof mlkem_768_keygen_seed_test (100)', () => {
  it('mlkem: keygen(seed) gives ek and dk; our checks accept both', () => {
    expect(keygen).toHaveLength(100);
    let passed = 0;
    for (const t of keygen) {
      const { publicKey, secretKey } = mlkem.generateKeyPair(hex(t.seed));
      expect(toHex(publicKey), `tcId ${t.tcId} ek`).toBe(toHex(hex(t.ek)));
      expect(toHex(secretKey), `tcId ${t.tcId} dk`).toBe(toHex(hex(t.dk)));
      expect(encapsulationKeyProblem(publicKey)).toBeUndefined();
      assertDecapsulationKey(secretKey);
      expect(toHex(publicKeyOfSecretKey(secretKey))).toBe(toHex(publicKey));
      passed++;
    }
    expect(passed).toBe(100);
  });

  it('liboqs: decapsulates its own encapsulation to each vector ek with the vector dk', () => {
    for (const t of keygen) {
      const { cipherText, sharedSecret } = liboqs.encapsulate(hex(t.ek));
      expect(toHex(liboqs.decapsulate(cipherText, hex(t.dk))), `tcId ${t.tcId}`).toBe(toHex(sharedSecret));
    }
  });
});

describe('Wycheproof mlkem_768_semi_expanded_decaps_test (9 = 3 valid + 6 invalid)', () => {
  const valid = semi.filter((t) => t.result === 'valid');
  const invalid = semi.filter((t) => t.result === 'invalid');

  it('valid: decapsulate(c, dk) gives K on both backends', () => {
    expect(semi).toHaveLength(9);
    expect(valid).toHaveLength(3);
    for (const t of valid) {
      const dk = hex(t.dk);
      assertDecapsulationKey(dk);
      expect(toHex(publicKeyOfSecretKey(dk))).toBe(toHex(hex(t.ek)));
      for (const kem of [mlkem, liboqs]) {
        expect(toHex(kem.decapsulate(hex(t.c), dk)), `tcId ${t.tcId} ${kem.name}`).toBe(toHex(hex(t.K!)));
      }
    }
  });

  it(
    'invalid: openEnvelope refuses all 6 (lengths, corrupted H(ek), corrupted ek) ' +
      'with CRYPTO before decapsulating',
    async () => {
      expect(invalid).toHaveLength(6);
      const { kem, calls } = untouchable();
      let refused = 0;
      for (const t of invalid) {
        const envelope = { kyberCt: hex(t.c), nonce: new Uint8Array(12), ciphertext: new Uint8Array(32) };
        if (await rejectsWithCrypto(openEnvelope(envelope, hex(t.dk), kem))) refused++;
      }
      expect(refused).toBe(6);
      expect(calls).toEqual([]);
    },
  );
});
