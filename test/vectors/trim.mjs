#!/usr/bin/env node
// Rebuilds the trimmed vector files in test/vectors/ from the full copies in ../shared/vectors
// (see README.md here for sources, commits and licences).
//   node test/vectors/trim.mjs [sharedVectorsDir]
// Every output is compact JSON; the large ones are gzipped. Gzip bytes depend on the zlib
// version, so the tests pin the committed files, and README.md also lists each file's JSON hash.
// acvp/ML-KEM-encapDecap-keyCheck-768.json is not produced here (its source is not in
// ../shared/vectors); see README.md.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync, constants } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');
const src = resolve(process.argv[2] ?? join(repo, '..', 'shared', 'vectors'));
if (!existsSync(join(src, 'README.md'))) throw new Error(`no vector source at ${src}`);

const read = (p) => readFileSync(join(src, p));
const json = (p) => JSON.parse(read(p).toString('utf8'));
const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// Pins of the inputs, from ../shared/vectors/README.md: a different input is refused.
const INPUT_SHA256 = {
  'wycheproof/mlkem_768_test.json': 'c2bc0264a150c3a4399da72701d154672e9f708420cff8f01340ef0b1f17f4f7',
  'wycheproof/mlkem_768_encaps_test.json': '9d4381f94c40853bba430245b94968b7390d9175aacd9f1ae4e250a71c78b713',
  'wycheproof/mlkem_768_keygen_seed_test.json': 'fde5abe284396f4cb3c4610b90d680f0b57782e94c3365c97aee59e24881ebe4',
  'wycheproof/mlkem_768_semi_expanded_decaps_test.json': 'e4438ab7d4dd7b6ace7165e45aeed4403082f981f86300c8369f69d3d071060a',
  'wycheproof/aes_gcm_test.json': '985e5ecc172e181eaf49e89508b9470dcf478002eb7e8559c707eb42dc97dfe7',
  'wycheproof/hkdf_sha256_test.json': 'bb2b462a38b251cb52a2aede706d6d4b62b26864f4e80c95497507ddb07c5f1e',
  'wycheproof/LICENSE': '58d1e17ffe5109a7ae296caafcadfdbe6a7d176f0bc4ab01e12a689b0499d8bd',
  'acvp/ML-KEM-keyGen-FIPS203-internalProjection-768.json': '85732e22d02de1c8b3dbdf31549453c65310dc2d5520d4ec68c8b23c2f7c8aa4',
  'acvp/ML-KEM-encapDecap-FIPS203-internalProjection-768.json': 'bdc6f69594727340907456d4c5e0046eee11df9232f3cdbc97fc44026c83ac59',
  'cctv/modulus-ML-KEM-768.txt.gz': '22308df988866e2731c9b79bfa0ce754ea962a77b198436d56bde6481a526af7',
  'cctv/strcmp-ML-KEM-768.txt': '2b09aa46d8b1c7b9a549a25f009cbd3937b98df177e868d3eb6395930079e4fa',
  'cctv/unluckysample-ML-KEM-768.txt': 'fede6f787581dc708e5c3337d7e49de33333d23023470668cd0588b65ad0ba90',
};
for (const [p, want] of Object.entries(INPUT_SHA256)) {
  const got = sha256(read(p));
  if (got !== want) throw new Error(`${p}: SHA-256 ${got}, expected ${want}`);
}

const outputs = [];
function write(rel, value, { gzip }) {
  const text = Buffer.from(JSON.stringify(value), 'utf8');
  const bytes = gzip ? gzipSync(text, { level: constants.Z_BEST_COMPRESSION }) : text;
  const path = join(here, rel);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, bytes);
  outputs.push({ rel, bytes: bytes.length, sha256: sha256(bytes), jsonSha256: sha256(text) });
}
const copy = (from, to) => {
  const bytes = read(from);
  writeFileSync(join(here, to), bytes);
  outputs.push({ rel: to, bytes: bytes.length, sha256: sha256(bytes) });
};

// Wycheproof ML-KEM-768: whole files, compacted.
for (const name of ['mlkem_768_encaps_test', 'mlkem_768_test', 'mlkem_768_keygen_seed_test', 'mlkem_768_semi_expanded_decaps_test']) {
  write(`wycheproof/${name}.json.gz`, json(`wycheproof/${name}.json`), { gzip: true });
}

// Wycheproof AES-GCM: only the groups with a 256-bit key, 96-bit IV and 128-bit tag.
{
  const full = json('wycheproof/aes_gcm_test.json');
  const testGroups = full.testGroups.filter((g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128);
  const numberOfTests = testGroups.reduce((n, g) => n + g.tests.length, 0);
  write('wycheproof/aes_gcm_256_96_128_test.json', { ...full, numberOfTests, testGroups }, { gzip: false });
}

// Wycheproof HKDF-SHA256: whole file, compacted.
write('wycheproof/hkdf_sha256_test.json', json('wycheproof/hkdf_sha256_test.json'), { gzip: false });
copy('wycheproof/LICENSE', 'wycheproof/LICENSE');

// ACVP (already ML-KEM-768 only in ../shared/vectors): compacted and gzipped.
write('acvp/ML-KEM-keyGen-FIPS203-768.json.gz', json('acvp/ML-KEM-keyGen-FIPS203-internalProjection-768.json'), { gzip: true });
write('acvp/ML-KEM-encapDecap-FIPS203-768.json.gz', json('acvp/ML-KEM-encapDecap-FIPS203-internalProjection-768.json'), { gzip: true });

// CCTV: the text formats turned into JSON, values unchanged.
const kv = (text) => {
  const out = {};
  for (const line of text.split('\n')) {
    const m = /^(\w+) = ([0-9a-f]+)$/.exec(line.trim());
    if (m) out[m[1]] = m[2];
  }
  return out;
};
{
  const lines = gunzipSync(read('cctv/modulus-ML-KEM-768.txt.gz')).toString('utf8').split('\n').filter(Boolean);
  write('cctv/modulus-ML-KEM-768.json.gz', { source: 'C2SP/CCTV ML-KEM/modulus/ML-KEM-768.txt.gz', encapsulationKeys: lines }, { gzip: true });
}
write('cctv/strcmp-ML-KEM-768.json', { source: 'C2SP/CCTV ML-KEM/strcmp/ML-KEM-768.txt', vectors: [kv(read('cctv/strcmp-ML-KEM-768.txt').toString('utf8'))] }, { gzip: false });
write('cctv/unluckysample-ML-KEM-768.json', { source: 'C2SP/CCTV ML-KEM/unluckysample/ML-KEM-768.txt', vectors: [kv(read('cctv/unluckysample-ML-KEM-768.txt').toString('utf8'))] }, { gzip: false });

for (const o of outputs) console.log(`${o.rel}\t${o.bytes}\t${o.sha256}${o.jsonSha256 ? `\tjson ${o.jsonSha256}` : ''}`);
