/**
 * ML-KEM-768 behind a small backend interface, so the envelope can run on either
 *
 * - `mlkem` — pure TypeScript (crystals-kyber-js), the default: runs in Node and every browser,
 *   and supports deterministic encapsulation for known-answer tests;
 * - `liboqs` — `@oqs/liboqs-js`, liboqs compiled to WebAssembly with SIMD, several times faster
 *   (docs/protocol.md §2.3); an optional peer dependency, used automatically when installed.
 *
 * Both implement FIPS 203 (final) byte formats: pk 1184 B, sk 2400 B, ct 1088 B, ss 32 B.
 * This module imports no Node built-ins: it is part of the browser-safe envelope.
 * @module
 */
import { NoxyError } from '../errors.js';

/** Sizes of ML-KEM-768 (FIPS 203, k = 3). */
export const ML_KEM_768 = {
  publicKey: 1184,
  secretKey: 2400,
  cipherText: 1088,
  sharedSecret: 32,
  /** d || z for deterministic key generation */
  keygenSeed: 64,
  /** the message m for deterministic encapsulation */
  encapsCoins: 32,
} as const;

/** A key pair as produced by {@link KemBackend.generateKeyPair}. */
export interface KemKeyPair {
  publicKey: Uint8Array;
  secretKey: Uint8Array;
}

/** The result of an encapsulation. */
export interface KemEncapsulation {
  cipherText: Uint8Array;
  sharedSecret: Uint8Array;
}

/** What the envelope needs from an ML-KEM-768 implementation. */
export interface KemBackend {
  /** `mlkem`, `liboqs`, or the name of a custom backend. */
  readonly name: string;
  /** True when `generateKeyPair(seed)` and `encapsulate(pk, coins)` accept injected randomness. */
  readonly deterministic: boolean;
  /** New key pair; `seed` (64 bytes, d || z) only on deterministic backends. */
  generateKeyPair(seed?: Uint8Array): KemKeyPair;
  /** Encapsulates to `publicKey`; `coins` (32 bytes) only on deterministic backends. */
  encapsulate(publicKey: Uint8Array, coins?: Uint8Array): KemEncapsulation;
  /** Recovers the shared secret (implicit rejection: a wrong ct gives a wrong key, no error). */
  decapsulate(cipherText: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

/** How to choose a backend: a name, `auto` (liboqs when installed, else mlkem) or an instance. */
export type KemChoice = 'auto' | 'mlkem' | 'liboqs' | KemBackend;

function notDeterministic(name: string, what: string): never {
  throw new NoxyError('CRYPTO', `the ${name} ML-KEM backend cannot take injected ${what}; use the mlkem backend`);
}

/** Creates the pure-TypeScript backend (package `mlkem`). */
export async function createMlkemBackend(): Promise<KemBackend> {
  const { createMlKem768 } = await import('mlkem');
  const kem = await createMlKem768();
  return {
    name: 'mlkem',
    deterministic: true,
    generateKeyPair(seed) {
      const [publicKey, secretKey] = seed ? kem.deriveKeyPair(seed) : kem.generateKeyPair();
      return { publicKey, secretKey };
    },
    encapsulate(publicKey, coins) {
      const [cipherText, sharedSecret] = kem.encap(publicKey, coins);
      return { cipherText, sharedSecret };
    },
    decapsulate: (cipherText, secretKey) => kem.decap(cipherText, secretKey),
  };
}

/** The slice of `@oqs/liboqs-js` used here (an optional peer dependency, so typed locally). */
interface LiboqsKem {
  generateKeyPair(): { publicKey: Uint8Array; secretKey: Uint8Array };
  encapsulate(publicKey: Uint8Array): { ciphertext: Uint8Array; sharedSecret: Uint8Array };
  decapsulate(ciphertext: Uint8Array, secretKey: Uint8Array): Uint8Array;
}

const LIBOQS = '@oqs/liboqs-js';

/** liboqs-js validates inputs as exact `Uint8Array`s: Node Buffers (a subclass) are refused. */
const plain = (bytes: Uint8Array): Uint8Array =>
  bytes.constructor === Uint8Array ? bytes : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/**
 * Creates the liboqs WebAssembly backend. Throws `CRYPTO` when `@oqs/liboqs-js` is not installed.
 */
export async function createLiboqsBackend(): Promise<KemBackend> {
  let mod: { createMLKEM768(): Promise<LiboqsKem> };
  try {
    // A variable specifier keeps bundlers and tsc from requiring the optional peer.
    mod = (await import(/* @vite-ignore */ LIBOQS)) as typeof mod;
  } catch (cause) {
    throw new NoxyError('CRYPTO', `the liboqs ML-KEM backend needs the optional package ${LIBOQS}`, { cause });
  }
  const kem = await mod.createMLKEM768();
  return {
    name: 'liboqs',
    deterministic: false,
    generateKeyPair(seed) {
      if (seed) notDeterministic('liboqs', 'key generation seeds');
      return kem.generateKeyPair();
    },
    encapsulate(publicKey, coins) {
      if (coins) notDeterministic('liboqs', 'encapsulation coins');
      const { ciphertext, sharedSecret } = kem.encapsulate(plain(publicKey));
      return { cipherText: ciphertext, sharedSecret };
    },
    decapsulate: (cipherText, secretKey) => kem.decapsulate(plain(cipherText), plain(secretKey)),
  };
}

const cache = new Map<string, Promise<KemBackend>>();

/**
 * Resolves a {@link KemChoice} to a ready backend. Named backends are created once per process
 * (the WebAssembly module and the mlkem tables are reused across clients).
 * @throws NoxyError `CRYPTO` when `liboqs` is asked for and not installed
 */
export function loadKemBackend(choice: KemChoice = 'auto'): Promise<KemBackend> {
  if (typeof choice === 'object') return Promise.resolve(choice);
  let pending = cache.get(choice);
  if (!pending) {
    pending =
      choice === 'mlkem'
        ? createMlkemBackend()
        : choice === 'liboqs'
          ? createLiboqsBackend()
          : createLiboqsBackend().catch(() => createMlkemBackend());
    // A failed load is not cached, so installing the package later and retrying works.
    pending.catch(() => cache.delete(choice));
    cache.set(choice, pending);
  }
  return pending;
}
