// NIST ACVP ML-KEM-768 known answers (FIPS 203 final).
// Sources: test/vectors/README.md — keyGen and encapDecap from usnistgov/ACVP-Server 65370b8
// (internalProjection, via RustCrypto/KEMs); the key-check groups from ACVP-Server v1.1.0.40
// (via pq-code-package/mlkem-native test/acvp_data). ACVP hex is upper case: compare bytes.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  assertDecapsulationKey,
  assertEncapsulationKey,
  encapsulationKeyProblem,
  loadKemBackend,
  NoxyError,
  publicKeyOfSecretKey,
  type KemBackend,
} from '@noxy-approval/core/portable';
import { groupsOf, hex, loadJson, toHex, type Group } from './vectors.js';

interface KeyGenTest {
  tcId: number;
  d: string;
  z: string;
  ek: string;
  dk: string;
}
interface EncapTest {
  tcId: number;
  ek: string;
  dk: string;
  m: string;
  c: string;
  k: string;
  reason: string;
}
interface DecapTest {
  tcId: number;
  c: string;
  k: string;
  reason: string;
}
interface KeyCheckTest {
  tcId: number;
  ek?: string;
  dk?: string;
  testPassed: boolean;
}
type AcvpDoc<T> = { testGroups: (Group<T> & { function?: string; parameterSet: string; ek?: string; dk?: string })[] };

const KEYGEN = 'acvp/ML-KEM-keyGen-FIPS203-768.json.gz';
const ENCAP_DECAP = 'acvp/ML-KEM-encapDecap-FIPS203-768.json.gz';
const KEY_CHECK = 'acvp/ML-KEM-encapDecap-FIPS203-keyCheck-768.json';

const keyGen = loadJson<AcvpDoc<KeyGenTest>>(KEYGEN);
const encapDecap = loadJson<AcvpDoc<EncapTest | DecapTest>>(ENCAP_DECAP);
const keyCheck = loadJson<AcvpDoc<KeyCheckTest>>(KEY_CHECK);

function group<T>(rel: string, doc: AcvpDoc<T>, fn?: string) {
  const groups = groupsOf(rel, doc).filter(
    (g) => g.parameterSet === 'ML-KEM-768' && (fn === undefined || g.function === fn),
  );
  expect(groups, `${rel} ${fn ?? ''}`).toHaveLength(1);
  return groups[0]!;
}

const keyGenTests = group(KEYGEN, keyGen).tests;
const encapGroup = group(ENCAP_DECAP, encapDecap, 'encapsulation');
const decapGroup = group(ENCAP_DECAP, encapDecap, 'decapsulation');
const ekCheck = group(KEY_CHECK, keyCheck, 'encapsulationKeyCheck').tests;
const dkCheck = group(KEY_CHECK, keyCheck, 'decapsulationKeyCheck').tests;

let mlkem: KemBackend;
let liboqs: KemBackend;
beforeAll(async () => {
  mlkem = await loadKemBackend('mlkem');
  liboqs = await loadKemBackend('liboqs');
});

const isCrypto = (fn: () => unknown): boolean => {
  try {
    fn();
    return false;
  } catch (e) {
    return NoxyError.isInstance(e) && e.code === 'CRYPTO';
  }
};

describe('ACVP ML-KEM-768 keyGen (25 AFT)', () => {
  it('mlkem: generateKeyPair(d || z) gives ek and dk', () => {
    expect(keyGenTests).toHaveLength(25);
    let passed = 0;
    for (const t of keyGenTests) {
      const seed = new Uint8Array([...hex(t.d), ...hex(t.z)]);
      const { publicKey, secretKey } = mlkem.generateKeyPair(seed);
      expect(toHex(publicKey), `tcId ${t.tcId} ek`).toBe(toHex(hex(t.ek)));
      expect(toHex(secretKey), `tcId ${t.tcId} dk`).toBe(toHex(hex(t.dk)));
      passed++;
    }
    expect(passed).toBe(25);
  });

  // liboqs-js has no seeded key generation; instead its decapsulation must accept the ACVP dk,
  // and both backends must agree on encapsulations to the ACVP ek.
  it('liboqs: refuses a seed, accepts the ACVP dk and recovers the key of an mlkem encapsulation', () => {
    expect(isCrypto(() => liboqs.generateKeyPair(new Uint8Array(64)))).toBe(true);
    let passed = 0;
    for (const t of keyGenTests) {
      const ek = hex(t.ek);
      const dk = hex(t.dk);
      assertDecapsulationKey(dk);
      expect(toHex(publicKeyOfSecretKey(dk))).toBe(toHex(ek));
      expect(encapsulationKeyProblem(ek)).toBeUndefined();
      const m = hex(t.z); // any fixed 32 bytes
      const byMlkem = mlkem.encapsulate(ek, m);
      expect(toHex(liboqs.decapsulate(byMlkem.cipherText, dk)), `tcId ${t.tcId}`).toBe(toHex(byMlkem.sharedSecret));
      const byLiboqs = liboqs.encapsulate(ek);
      expect(toHex(mlkem.decapsulate(byLiboqs.cipherText, dk)), `tcId ${t.tcId}`).toBe(toHex(byLiboqs.sharedSecret));
      passed++;
    }
    expect(passed).toBe(25);
  });
});

describe('ACVP ML-KEM-768 encapsulation (25 AFT)', () => {
  const tests = encapGroup.tests as EncapTest[];

  // Only the mlkem backend takes the message m; liboqs-js encapsulate() draws its own
  // randomness, so for liboqs these vectors are run on the decapsulation side only.
  it('mlkem: encapsulate(ek, m) gives c and k; decapsulate(c, dk) gives k', () => {
    expect(tests).toHaveLength(25);
    let passed = 0;
    for (const t of tests) {
      const ek = hex(t.ek);
      expect(encapsulationKeyProblem(ek), `tcId ${t.tcId}`).toBeUndefined();
      const { cipherText, sharedSecret } = mlkem.encapsulate(ek, hex(t.m));
      expect(toHex(cipherText), `tcId ${t.tcId} c`).toBe(toHex(hex(t.c)));
      expect(toHex(sharedSecret), `tcId ${t.tcId} k`).toBe(toHex(hex(t.k)));
      expect(toHex(mlkem.decapsulate(hex(t.c), hex(t.dk))), `tcId ${t.tcId}`).toBe(toHex(hex(t.k)));
      passed++;
    }
    expect(passed).toBe(25);
  });

  it('liboqs: decapsulate(c, dk) gives k', () => {
    let passed = 0;
    for (const t of tests) {
      assertDecapsulationKey(hex(t.dk));
      expect(toHex(liboqs.decapsulate(hex(t.c), hex(t.dk))), `tcId ${t.tcId}`).toBe(toHex(hex(t.k)));
      passed++;
    }
    expect(passed).toBe(25);
  });
});

describe('ACVP ML-KEM-768 decapsulation (10 VAL: 5 unmodified, 5 modified ciphertext)', () => {
  const tests = decapGroup.tests as DecapTest[];
  const dk = () => hex(decapGroup.dk as string);

  it('the group key pair is well formed', () => {
    expect(tests).toHaveLength(10);
    expect(tests.filter((t) => t.reason === 'modify ciphertext')).toHaveLength(5);
    assertDecapsulationKey(dk());
    expect(toHex(publicKeyOfSecretKey(dk()))).toBe(toHex(hex(decapGroup.ek as string)));
  });

  for (const name of ['mlkem', 'liboqs'] as const) {
    it(`${name}: decapsulate(c, dk) gives k, including the implicit-rejection key`, () => {
      const kem = name === 'mlkem' ? mlkem : liboqs;
      let passed = 0;
      for (const t of tests) {
        expect(toHex(kem.decapsulate(hex(t.c), dk())), `tcId ${t.tcId} (${t.reason})`).toBe(toHex(hex(t.k)));
        passed++;
      }
      expect(passed).toBe(10);
    });
  }
});

describe('ACVP ML-KEM-768 key checks (FIPS 203 §7.2, §7.3)', () => {
  it(
    'encapsulationKeyCheck (10): encapsulationKeyProblem / assertEncapsulationKey ' +
      'accept the 5 valid and refuse the 5 invalid',
    () => {
      expect(ekCheck).toHaveLength(10);
      expect(ekCheck.filter((t) => t.testPassed)).toHaveLength(5);
      let passed = 0;
      for (const t of ekCheck) {
        const ek = hex(t.ek!);
        expect(encapsulationKeyProblem(ek) === undefined, `tcId ${t.tcId}`).toBe(t.testPassed);
        expect(
          isCrypto(() => assertEncapsulationKey(ek)),
          `tcId ${t.tcId}`,
        ).toBe(!t.testPassed);
        passed++;
      }
      expect(passed).toBe(10);
    },
  );

  it('decapsulationKeyCheck (10): assertDecapsulationKey accepts the 5 valid and refuses the 5 invalid', () => {
    expect(dkCheck).toHaveLength(10);
    expect(dkCheck.filter((t) => t.testPassed)).toHaveLength(5);
    let passed = 0;
    for (const t of dkCheck) {
      const dk = hex(t.dk!);
      expect(
        isCrypto(() => assertDecapsulationKey(dk)),
        `tcId ${t.tcId}`,
      ).toBe(!t.testPassed);
      passed++;
    }
    expect(passed).toBe(10);
  });

  it('the valid decapsulation keys work with their embedded encapsulation key on both backends', () => {
    for (const t of dkCheck.filter((x) => x.testPassed)) {
      const dk = hex(t.dk!);
      const ek = publicKeyOfSecretKey(dk);
      for (const [enc, dec] of [
        [mlkem, liboqs],
        [liboqs, mlkem],
      ] as const) {
        const { cipherText, sharedSecret } = enc.encapsulate(ek);
        expect(toHex(dec.decapsulate(cipherText, dk)), `tcId ${t.tcId}`).toBe(toHex(sharedSecret));
      }
    }
  });
});
