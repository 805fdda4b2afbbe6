// HKDF-SHA256 and AES-256-GCM known answers (docs/protocol.md §2.1).
// RFC 5869 appendix A.3 (inline); Wycheproof hkdf_sha256_test and aes_gcm_test (C2SP/wycheproof
// dac1dd47, Apache-2.0; AES-GCM trimmed to 256-bit key / 96-bit IV / 128-bit tag).
import { createDecipheriv, hkdfSync } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { deriveEnvelopeKey, NoxyError, webCryptoAead, type Aead } from '@noxy-approval/core/portable';
import { nodeAead } from '../../packages/core/src/node-aead.js';
import { hex, loadJson, testsOf, toHex, type Group, type WycheproofTest } from './vectors.js';

interface HkdfTest extends WycheproofTest {
  ikm: string;
  salt: string;
  info: string;
  size: number;
  okm: string;
}
interface AeadTest extends WycheproofTest {
  key: string;
  iv: string;
  aad: string;
  msg: string;
  ct: string;
  tag: string;
}
type Doc<T> = { testGroups: (Group<T> & { keySize?: number; ivSize?: number; tagSize?: number })[] };

const HKDF = 'wycheproof/hkdf_sha256_test.json';
const GCM = 'wycheproof/aes_gcm_256_96_128_test.json';
const hkdfTests = testsOf(HKDF, loadJson<Doc<HkdfTest>>(HKDF)).map(({ test }) => test);
const gcm = testsOf(GCM, loadJson<Doc<AeadTest>>(GCM));

describe('HKDF-SHA256', () => {
  // RFC 5869 A.3: SHA-256, zero-length salt and info.
  const ikm = new Uint8Array(22).fill(0x0b);
  const okm = hex('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8');

  it('RFC 5869 test case 3: noble, node:crypto and deriveEnvelopeKey (L = 32 is a prefix of L = 42)', () => {
    expect(toHex(hkdf(sha256, ikm, new Uint8Array(0), new Uint8Array(0), 42))).toBe(toHex(okm));
    expect(toHex(new Uint8Array(hkdfSync('sha256', ikm, Buffer.alloc(0), Buffer.alloc(0), 42)))).toBe(toHex(okm));
    expect(toHex(deriveEnvelopeKey(ikm))).toBe(toHex(okm.subarray(0, 32)));
  });

  it('an empty salt equals 32 zero bytes (the Android/iOS fallback gives the same key)', () => {
    expect(toHex(hkdf(sha256, ikm, new Uint8Array(32), new Uint8Array(0), 32))).toBe(toHex(deriveEnvelopeKey(ikm)));
  });

  it('Wycheproof (86 = 83 valid + 3 invalid) against @noble/hashes hkdf and node:crypto hkdfSync', () => {
    expect(hkdfTests).toHaveLength(86);
    let passed = 0;
    for (const t of hkdfTests) {
      const args = [hex(t.ikm), hex(t.salt), hex(t.info)] as const;
      if (t.result === 'valid') {
        expect(toHex(hkdf(sha256, ...args, t.size)), `tcId ${t.tcId}`).toBe(toHex(hex(t.okm)));
        expect(toHex(new Uint8Array(hkdfSync('sha256', ...args, t.size))), `tcId ${t.tcId}`).toBe(toHex(hex(t.okm)));
      } else {
        expect(() => hkdf(sha256, ...args, t.size), `tcId ${t.tcId}`).toThrow();
        expect(() => hkdfSync('sha256', ...args, t.size), `tcId ${t.tcId}`).toThrow();
      }
      passed++;
    }
    expect(passed).toBe(86);
    expect(hkdfTests.filter((t) => t.result === 'invalid')).toHaveLength(3);
  });

  it('Wycheproof cases with empty salt and info and L ≥ 32 (7) against deriveEnvelopeKey', () => {
    const applicable = hkdfTests.filter((t) => t.result === 'valid' && t.salt === '' && t.info === '' && t.size >= 32);
    expect(applicable).toHaveLength(7);
    for (const t of applicable)
      expect(toHex(deriveEnvelopeKey(hex(t.ikm))), `tcId ${t.tcId}`).toBe(toHex(hex(t.okm).subarray(0, 32)));
  });
});

const AEADS: [string, Aead][] = [
  ['webCryptoAead', webCryptoAead],
  ['nodeAead', nodeAead],
];

async function decryptRefused(aead: Aead, key: Uint8Array, iv: Uint8Array, sealed: Uint8Array): Promise<boolean> {
  try {
    await aead.decrypt(key, iv, sealed);
    return false;
  } catch (e) {
    return NoxyError.isInstance(e) && e.code === 'CRYPTO';
  }
}

describe('AES-256-GCM, Wycheproof 256/96/128 subset (66)', () => {
  const tests = gcm.map(({ test }) => test);
  const noAad = tests.filter((t) => t.aad === '');
  const withAad = tests.filter((t) => t.aad !== '');

  it('has the expected cases', () => {
    expect(gcm.every(({ group }) => group.keySize === 256 && group.ivSize === 96 && group.tagSize === 128)).toBe(true);
    expect(tests).toHaveLength(66);
    expect(tests.filter((t) => t.result === 'valid')).toHaveLength(39);
    expect(noAad.filter((t) => t.result === 'valid')).toHaveLength(21);
    expect(noAad.filter((t) => t.result === 'invalid')).toHaveLength(27);
    expect(withAad.every((t) => t.result === 'valid')).toBe(true);
    expect(withAad).toHaveLength(18);
  });

  for (const [name, aead] of AEADS) {
    it(`${name}: 21 valid without AAD decrypt to msg and encrypt to ct || tag`, async () => {
      let passed = 0;
      for (const t of noAad.filter((x) => x.result === 'valid')) {
        const sealed = new Uint8Array([...hex(t.ct), ...hex(t.tag)]);
        expect(toHex(await aead.decrypt(hex(t.key), hex(t.iv), sealed)), `tcId ${t.tcId}`).toBe(toHex(hex(t.msg)));
        expect(toHex(await aead.encrypt(hex(t.key), hex(t.iv), hex(t.msg))), `tcId ${t.tcId}`).toBe(toHex(sealed));
        passed++;
      }
      expect(passed).toBe(21);
    });

    it(`${name}: 27 invalid (modified tag) end in NoxyError CRYPTO`, async () => {
      let refused = 0;
      for (const t of noAad.filter((x) => x.result === 'invalid')) {
        const sealed = new Uint8Array([...hex(t.ct), ...hex(t.tag)]);
        if (await decryptRefused(aead, hex(t.key), hex(t.iv), sealed)) refused++;
      }
      expect(refused).toBe(27);
    });

    // The envelope uses no AAD, so the Aead interface takes none: a ciphertext sealed with AAD
    // must fail authentication rather than open.
    it(`${name}: 18 valid with AAD are refused (their tag covers an AAD the envelope never uses)`, async () => {
      let refused = 0;
      for (const t of withAad) {
        if (await decryptRefused(aead, hex(t.key), hex(t.iv), new Uint8Array([...hex(t.ct), ...hex(t.tag)]))) refused++;
      }
      expect(refused).toBe(18);
    });
  }

  it('the 18 with AAD open with the AAD through node:crypto and WebCrypto directly', async () => {
    for (const t of withAad) {
      const d = createDecipheriv('aes-256-gcm', hex(t.key), hex(t.iv), { authTagLength: 16 });
      d.setAAD(hex(t.aad));
      d.setAuthTag(hex(t.tag));
      expect(toHex(new Uint8Array(Buffer.concat([d.update(hex(t.ct)), d.final()]))), `tcId ${t.tcId}`).toBe(
        toHex(hex(t.msg)),
      );
      const k = await crypto.subtle.importKey('raw', hex(t.key) as Uint8Array<ArrayBuffer>, 'AES-GCM', false, [
        'decrypt',
      ]);
      const sealed = new Uint8Array([...hex(t.ct), ...hex(t.tag)]);
      const pt = await crypto.subtle.decrypt(
        {
          name: 'AES-GCM',
          iv: hex(t.iv) as Uint8Array<ArrayBuffer>,
          additionalData: hex(t.aad) as Uint8Array<ArrayBuffer>,
        },
        k,
        sealed,
      );
      expect(toHex(new Uint8Array(pt)), `tcId ${t.tcId}`).toBe(toHex(hex(t.msg)));
    }
  });
});
