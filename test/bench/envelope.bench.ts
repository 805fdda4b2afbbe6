/**
 * Envelope encryptions per second on one core, per KEM backend, against a bare loop of the
 * same primitives (encaps + HKDF-SHA256 + AES-256-GCM of 1 KiB): our wrapping (key checks,
 * zeroing, option handling) must cost ≤ 10 %. The two loops are interleaved in rounds so
 * machine noise hits both alike.
 * @module
 */
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { loadKemBackend, nodeAead, sealEnvelope } from '@noxy-approval/core';
import { median, opsPerSecond, report } from './report.js';

const EMPTY = new Uint8Array(0);

/** Runs the envelope benchmark for both backends. */
export async function benchEnvelope(): Promise<void> {
  const plaintext = new TextEncoder().encode(JSON.stringify({ title: 'x'.repeat(1000) }));
  for (const name of ['mlkem', 'liboqs'] as const) {
    const kem = await loadKemBackend(name);
    const { publicKey } = kem.generateKeyPair();
    const bare = async () => {
      const { cipherText, sharedSecret } = kem.encapsulate(publicKey);
      const key = hkdf(sha256, sharedSecret, EMPTY, EMPTY, 32);
      const nonce = crypto.getRandomValues(new Uint8Array(12));
      return [cipherText, await nodeAead.encrypt(key, nonce, plaintext)];
    };
    const ours = () => sealEnvelope(plaintext, publicKey, { kem, aead: nodeAead });
    const oursRuns: number[] = [];
    const bareRuns: number[] = [];
    for (let round = 0; round < 5; round++) {
      bareRuns.push(await opsPerSecond(bare, 500));
      oursRuns.push(await opsPerSecond(ours, 500));
    }
    const value = median(oursRuns);
    const baseline = median(bareRuns);
    report({
      name: `envelope encryptions/s (${name})`,
      value,
      unit: 'env/s',
      baseline: { label: 'bare encaps+HKDF+AES-GCM', value: baseline },
      target: name === 'liboqs' ? '≥ 0.9× baseline and ≥ 10,000/s' : '≥ 0.9× baseline',
      ok: value >= 0.9 * baseline && (name !== 'liboqs' || value >= 10_000),
    });
  }
}
