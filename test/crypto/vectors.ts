/**
 * Loads the trimmed public test vectors in test/vectors/ (sources, commits and licences in
 * test/vectors/README.md). Every file is pinned by the SHA-256 of its committed bytes, and a
 * file that yields no group or no test throws (the guard of noble-post-quantum's `loadWP`), so
 * a changed, truncated or empty file can never give a green run.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const VECTOR_DIR = fileURLToPath(new URL('../vectors/', import.meta.url));

/** SHA-256 of every committed file under test/vectors/ (also listed in its README). */
export const VECTOR_SHA256: Readonly<Record<string, string>> = {
  'wycheproof/mlkem_768_encaps_test.json.gz': '2e47988054e608bc5bd1dddbc118e0ddad8cd2b7408c67294fbc0983feef8ca4',
  'wycheproof/mlkem_768_test.json.gz': 'a81b9a13e3e37782b0b73e18bbb836378d2348350b1ad523cb0f319693779176',
  'wycheproof/mlkem_768_keygen_seed_test.json.gz': '023fac490058390726f4a3f758de5137ed91bf44df0baa487cd7e5dac2b2878f',
  'wycheproof/mlkem_768_semi_expanded_decaps_test.json.gz':
    '25a41ea5ca91f0952a6697ac2eff40673e5e0b73edf9fc53677c00e958875dcc',
  'wycheproof/aes_gcm_256_96_128_test.json': 'e44516228172e1273f6988a010d60a2fbc4c6e8e806f02ebabaa3dcbb2c5cb49',
  'wycheproof/hkdf_sha256_test.json': 'f025a5de8e3715041c561378e8c9e5cd372b059c3e31b290b004347b37a8f76a',
  'wycheproof/LICENSE': '58d1e17ffe5109a7ae296caafcadfdbe6a7d176f0bc4ab01e12a689b0499d8bd',
  'acvp/ML-KEM-keyGen-FIPS203-768.json.gz': '4754da5988a0cbb9e0392839c830a35847483c888ad6ffbd2f57b096edeb4757',
  'acvp/ML-KEM-encapDecap-FIPS203-768.json.gz': '91eb44407c6ea984837dbf881edd763224bc02cc0e57f13904b4499140a17b9d',
  'acvp/ML-KEM-encapDecap-FIPS203-keyCheck-768.json':
    'b4b0c3ddd7b804d83934b8149d3345f1a14a97e2f976654b71483dc2f05a48e5',
  'cctv/modulus-ML-KEM-768.json.gz': 'deb4495735d183edefe84651d1c58ea3e75c51a0d720c141c743a31378959333',
  'cctv/strcmp-ML-KEM-768.json': '72bd6204581d4d1ab03fdd188837631ac1a17a2ccecadcc4507344ab04044068',
  'cctv/unluckysample-ML-KEM-768.json': '3d903efba54d9e6b1bd3bf349e8a572a5f47041fe2937070487ce5f621bafb8b',
};

export const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** Reads a committed file after checking its pin. */
export function readPinned(rel: string): Buffer {
  const want = VECTOR_SHA256[rel];
  if (!want) throw new Error(`test/vectors/${rel} is not pinned in VECTOR_SHA256`);
  const bytes = readFileSync(VECTOR_DIR + rel);
  const got = sha256Hex(bytes);
  if (got !== want) throw new Error(`test/vectors/${rel}: SHA-256 ${got}, pinned ${want}`);
  return bytes;
}

/** Parses a pinned JSON file (gunzipped when it ends in .gz). */
export function loadJson<T>(rel: string): T {
  const bytes = readPinned(rel);
  return JSON.parse((rel.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8')) as T;
}

/** Strict hex decoding into a fresh Uint8Array: odd length or a non-hex digit throws. */
export function hex(value: string): Uint8Array {
  if (typeof value !== 'string' || value.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(value)) {
    throw new Error(`bad hex in vector: ${String(value).slice(0, 20)}…`);
  }
  return Uint8Array.from(Buffer.from(value, 'hex'));
}

/** Lower-case hex of bytes, for byte-for-byte comparisons with readable failures. */
export const toHex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');

export interface Group<T> {
  tests: T[];
  [key: string]: unknown;
}

/** The test groups of a Wycheproof/ACVP-style file; zero groups or an empty group throws. */
export function groupsOf<T>(rel: string, doc: { testGroups?: Group<T>[] }): Group<T>[] {
  const groups = doc.testGroups;
  if (!Array.isArray(groups) || groups.length === 0) throw new Error(`${rel}: no test groups`);
  for (const g of groups) {
    if (!Array.isArray(g.tests) || g.tests.length === 0) throw new Error(`${rel}: an empty test group`);
  }
  return groups;
}

/** Every test of a file, with its group. */
export function testsOf<T>(rel: string, doc: { testGroups?: Group<T>[] }): { group: Group<T>; test: T }[] {
  return groupsOf(rel, doc).flatMap((group) => group.tests.map((test) => ({ group, test })));
}

export interface WycheproofTest {
  tcId: number;
  comment?: string;
  flags?: string[];
  result: 'valid' | 'invalid' | 'acceptable';
}
