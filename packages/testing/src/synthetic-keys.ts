/**
 * Synthetic device keys for tests and benchmarks. The relay never encapsulates to a device
 * key, so a key only has to pass the relay's checks (1184 bytes, every 12-bit coefficient
 * < q = 3329, not the all-zero-seed key); building one directly is ~1000× cheaper than
 * ML-KEM key generation, which matters when a benchmark registers 1,000 devices.
 * @module
 */
import { randomBytes, randomInt } from 'node:crypto';

const Q = 3329;

/**
 * A random 1184-byte ML-KEM-768 encapsulation key with reduced coefficients (FIPS 203 §7.2
 * modulus check passes) and a random 32-byte seed ρ.
 */
export function syntheticPqPublicKey(): Buffer {
  const out = Buffer.alloc(1184);
  for (let i = 0; i < 1152; i += 3) {
    const a = randomInt(Q);
    const b = randomInt(Q);
    out[i] = a & 0xff;
    out[i + 1] = (a >> 8) | ((b & 0x0f) << 4);
    out[i + 2] = b >> 4;
  }
  randomBytes(32).copy(out, 1152);
  return out;
}

/** A random device key pair as the relay sees it: Ed25519-sized public key + ML-KEM key. */
export function syntheticDeviceKeys(): { publicKey: Buffer; pqPublicKey: Buffer } {
  return { publicKey: randomBytes(32), pqPublicKey: syntheticPqPublicKey() };
}
