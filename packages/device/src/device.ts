/**
 * `NoxyDevice`: a user's device on the Noxy Client API (docs/protocol.md §5, docs/security.md §2).
 *
 * A supervisor loop keeps one session up: connect → authenticate → register when the relay
 * asks (`requires_registration`) → subscribe; the relay then drains what was queued while the
 * device was away. When the connection drops, it waits a jittered exponential delay (capped at
 * ~30 s, see backoff.ts) and starts over. Each decision event is decrypted, acknowledged and
 * emitted; `decide()` sends the human's answer and resolves with the relay's recorded outcome.
 *
 * Browser-safe: keys, transport and AEAD are injected (see `createNoxyDevice` in the Node entry
 * and `createBrowserNoxyDevice` in the browser entry).
 * @module
 */
import type { Identity } from '@noxy-approval/core';
import { NoxyError, payloadActionHash, type Aead, type KemBackend } from '@noxy-approval/core/portable';
import { reconnectDelay, type BackoffOptions } from './backoff.js';
import { openDecision, type ReceivedDecision } from './decision.js';
import { Emitter, type Unsubscribe } from './events.js';
import { handshake } from './handshake.js';
import { checkDeviceKeys, deviceSignature, generateDeviceKeys, wipeDeviceKeys, type DeviceKeys } from './keys.js';
import { encodeStoredDevice, type KeyStore, type StoredDevice, type StoreKey } from './key-store.js';
import { nobleEd25519Sign, requestProver, signOutcome, type Ed25519Sign } from './proofs.js';
import { registrationSignature } from './registration.js';
import { DeviceRelayError, Session } from './session.js';
import type { Transport } from './transport.js';
import type { OutcomeValue, RequestPayload, WireResponse } from './wire.js';

/** Retries of an answer the relay refused with RATE_LIMITED (100, 200, 400, 800, 1,000 ms…). */
const MAX_RATE_LIMITED_RETRIES = 6;

/** The human's answer. */
export type Choice = 'approve' | 'reject';

/** Connection states, in the order a device normally goes through them. */
export type DeviceState = 'idle' | 'connecting' | 'ready' | 'waiting' | 'closed';

/** The relay's answer to {@link NoxyDevice.decide}. */
export interface DecideResult {
  decisionId: string;
  /** The outcome the relay recorded: the FIRST answer from any device of the identity. */
  outcome: Choice;
  /** What this device asked for; differs from `outcome` when another device answered first. */
  requested: Choice;
}

/** Events of a {@link NoxyDevice}. */
export interface DeviceEvents {
  /** A new decision to show the human. */
  decision: ReceivedDecision;
  /** Soft-cancel: the decision was decided elsewhere (`decision_routed`); stop showing it. */
  routed: { decisionId: string };
  /** This device's answer was recorded (or the relay returned an earlier device's answer). */
  outcome: DecideResult;
  /** Connection state changes; `delayMs` is set while `waiting` to reconnect. */
  state: { state: DeviceState; delayMs?: number; error?: NoxyError };
  /** Something went wrong without stopping the device (undecryptable event, failed ack, …). */
  error: NoxyError;
}

/** Options of the {@link NoxyDevice} constructor (the factories fill most of them). */
export interface NoxyDeviceOptions {
  appId: string;
  identity: Identity;
  /** Loaded (and checked) or freshly created device record. */
  record: StoredDevice;
  keyStore: KeyStore;
  transport: Transport;
  kem: KemBackend;
  /** AES-GCM implementation (core's `nodeAead` in Node, WebCrypto otherwise). */
  aead?: Aead;
  /** App signing secret, to (re)compute registration signatures. Never sent. */
  signingSecret?: string;
  /** One-time pairing code, used like the signing secret (docs/local-relay-contract.md). */
  pairingCode?: string;
  /** Timeout of each request in ms. Default 10,000. */
  requestTimeoutMs?: number;
  /** Reconnect delays. */
  reconnect?: BackoffOptions;
  /** Clock, ms since epoch. */
  now?: () => number;
  /** Uniform [0,1) source for the reconnect jitter. */
  random?: () => number;
  /** Ed25519 signing of proofs and outcomes (default `@noble/curves`; node:crypto in Node). */
  sign?: Ed25519Sign;
}

const FATAL_RELAY_CODES = new Set(['INVALID_SIGNATURE', 'DEVICE_REVOKED', 'APP_NOT_FOUND']);
const SEEN_LIMIT = 2048;

/** A payload's `expires_at` in ms since the epoch, when it carries a readable one. */
function expiresAtOf(payload: unknown): number | undefined {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return undefined;
  const v = (payload as Record<string, unknown>).expires_at;
  const ms = typeof v === 'string' ? Date.parse(v) : Number.NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

const toChoice = (v: OutcomeValue): Choice => (v === 'APPROVE' ? 'approve' : 'reject');
const closedError = () => new NoxyError('CLOSED', 'the device was closed');

interface Waiter {
  resolve(session: Session): void;
  reject(error: NoxyError): void;
  timer?: ReturnType<typeof setTimeout>;
}

/** A Noxy device. Create it with `createNoxyDevice` (Node) or `createBrowserNoxyDevice`. */
export class NoxyDevice {
  readonly #o: NoxyDeviceOptions & { requestTimeoutMs: number; now: () => number };
  readonly #emitter: Emitter<DeviceEvents>;
  #record: StoredDevice;
  #previousKeys: DeviceKeys | undefined;
  #state: DeviceState = 'idle';
  #session: Session | undefined;
  #deviceId: string | undefined;
  #waiters = new Set<Waiter>();
  #sleep: { timer: ReturnType<typeof setTimeout>; wake(): void } | undefined;
  #fatal: NoxyError | undefined;
  #pending = new Map<string, ReceivedDecision>();
  #seen = new Set<string>();
  /** `expires_at` (ms) of decisions received, so an answer after it is refused locally. */
  #expiresAt = new Map<string, number>();
  /** The decrypted payloads' `action_hash`, which each signed outcome covers (proofs.ts). */
  #actionHashes = new Map<string, string>();
  #keyOp: Promise<unknown> | undefined;
  #inErrorListener = false;

  constructor(options: NoxyDeviceOptions) {
    checkDeviceKeys(options.record.keys);
    this.#o = { ...options, requestTimeoutMs: options.requestTimeoutMs ?? 10_000, now: options.now ?? Date.now };
    this.#record = options.record;
    this.#emitter = new Emitter((error) => this.#listenerFailed(error));
  }

  /** Current connection state. */
  get state(): DeviceState {
    return this.#state;
  }

  /** The relay-issued device id, once authenticated. */
  get deviceId(): string | undefined {
    return this.#deviceId;
  }

  /** The device's public keys (safe to show; the secret keys are never exposed). */
  get publicKeys(): { publicKey: Uint8Array; pqPublicKey: Uint8Array } {
    const k = this.#record.keys;
    return { publicKey: k.ed25519.publicKey.slice(), pqPublicKey: k.mlkem.publicKey.slice() };
  }

  /**
   * Decisions received and not yet answered, decided elsewhere or expired, oldest first.
   * The relay soft-cancels expired decisions too; a payload's own `expires_at` (device clock)
   * also drops it here, in case that notice was missed.
   */
  pendingDecisions(): ReceivedDecision[] {
    const now = this.#o.now();
    for (const [id, d] of this.#pending) {
      const p = d.payload;
      const expires = expiresAtOf(p);
      if (expires !== undefined && expires < now) this.#pending.delete(id);
    }
    return [...this.#pending.values()];
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof DeviceEvents>(name: K, listener: (value: DeviceEvents[K]) => void): Unsubscribe {
    return this.#emitter.on(name, listener);
  }

  /**
   * Starts the connection loop (once) and resolves when the device is registered and
   * subscribed. Keeps retrying transient failures; rejects on a fatal one (bad registration
   * signature, revoked device, unknown app) or when `close()` is called first.
   */
  connect(): Promise<void> {
    if (this.#state === 'closed') return Promise.reject(this.#fatal ?? closedError());
    if (this.#state === 'idle') void this.#run();
    return this.#ready(undefined).then(() => undefined);
  }

  /**
   * Sends the human's answer and resolves with the relay's recorded outcome. Waits up to the
   * request timeout for a connection; retries once over a new connection if the first one
   * drops (safe: the relay answers a repeated outcome with the stored first one).
   * Refuses, without asking the relay, a decision whose payload `expires_at` has passed
   * (docs/security.md §3.2: devices refuse to answer after it).
   * @throws NoxyError `INVALID_ARGUMENT` (also for an expired decision, field `decisionId`),
   *   `RELAY_UNAVAILABLE`, `CLOSED`, or a DeviceRelayError (e.g. `INVALID_REQUEST` "decision expired")
   */
  /**
   * Sends an answer: once more over a new connection if the first drops (the relay answers a
   * repeated outcome with the stored first one), and again after a short wait while the relay
   * says RATE_LIMITED (its per-connection bucket refills in well under a second; a device that
   * answers many decisions at once must not lose an answer to it), never past `expiresAt`.
   * Any other refusal is final.
   */
  async #sendAnswer(payload: RequestPayload & { kind: 'decisionOutcome' }, expiresAt: number | undefined) {
    let reconnected = false;
    for (let attempt = 0; ; attempt++) {
      // Waiting for a connection is bounded by the request timeout, and its failure is final.
      const session = await this.#ready(this.#o.requestTimeoutMs);
      try {
        return await session.request(payload);
      } catch (error) {
        const lost = NoxyError.isInstance(error) && error.code === 'RELAY_UNAVAILABLE';
        const limited = error instanceof DeviceRelayError && error.relayCode === 'RATE_LIMITED';
        const delayMs = Math.min(1_000, 100 * 2 ** attempt);
        const late = expiresAt !== undefined && this.#o.now() + delayMs >= expiresAt;
        if (lost && !reconnected) reconnected = true;
        else if (!limited || attempt >= MAX_RATE_LIMITED_RETRIES || late) throw error;
        else await new Promise((resolve) => setTimeout(resolve, delayMs));
      }
    }
  }

  async decide(decisionId: string, choice: Choice): Promise<DecideResult> {
    if (typeof decisionId !== 'string' || decisionId.length === 0) {
      throw new NoxyError('INVALID_ARGUMENT', '"decisionId" expected a non-empty string', { field: 'decisionId' });
    }
    if (choice !== 'approve' && choice !== 'reject') {
      throw new NoxyError('INVALID_ARGUMENT', '"choice" expected "approve" or "reject"', { field: 'choice' });
    }
    const expires = this.#expiresAt.get(decisionId);
    if (expires !== undefined && this.#o.now() >= expires) {
      this.#pending.delete(decisionId);
      throw new NoxyError(
        'INVALID_ARGUMENT',
        `decision ${decisionId} expired at ${new Date(expires).toISOString()}; it can no longer be answered`,
        { field: 'decisionId' },
      );
    }
    const outcome = choice === 'approve' ? 'APPROVE' : 'REJECT';
    const decidedAt = this.#o.now();
    // '' for a decision this device never opened: an agent that sent an action_hash refuses it.
    const signedHash = this.#actionHashes.get(decisionId) ?? '';
    // Signed so that the agent can tell this device's answer from the relay's word (proofs.ts).
    const signature = signOutcome(
      this.#record.keys,
      {
        appId: this.#o.appId,
        identityId: this.#o.identity.id,
        decisionId,
        outcome,
        actionHash: signedHash,
        decidedAt,
      },
      this.#o.sign ?? nobleEd25519Sign,
    );
    const payload = {
      kind: 'decisionOutcome',
      decisionId,
      outcome,
      receivedAt: decidedAt,
      signed: { signature, decidedAt, actionHash: signedHash },
    } as const;
    const answer = await this.#sendAnswer(payload, expires);
    this.#pending.delete(decisionId);
    const result: DecideResult = {
      decisionId: answer.decisionId || decisionId,
      outcome: toChoice(answer.outcome),
      requested: choice,
    };
    this.#emitter.emit('outcome', result);
    return result;
  }

  /**
   * Revokes this device at the relay (Ed25519 device signature, docs/protocol.md §5.8), deletes its
   * keys from the store and closes the device.
   * @returns the relay's id of the revoked device
   */
  async revoke(): Promise<{ revokedDeviceId: string }> {
    return this.#exclusive(async () => {
      const session = await this.#ready(this.#o.requestTimeoutMs);
      const { appId, identity } = this.#o;
      const signature = deviceSignature(this.#record.keys, appId, identity.id, this.#o.now());
      const r = await session.request({ kind: 'revokeDevice', identityId: identity.id, signature });
      await this.#o.keyStore.remove(this.#storeKey());
      this.close();
      // The keys were deleted from the store; drop the in-memory secrets as well.
      wipeDeviceKeys(this.#record.keys);
      return { revokedDeviceId: r.revokedDeviceId };
    });
  }

  /**
   * Replaces both key pairs: sends the new public keys signed with the current Ed25519 key
   * (docs/protocol.md §5.8), then stores the new keys with a registration signature for them
   * (when the signing secret or pairing code is at hand; else none is stored — a relay that
   * forgets this device will need a new pairing). Events sealed for the old keys that are
   * still in flight are decrypted with the old key until the device is closed.
   * @returns when the relay recorded the rotation (ms since epoch)
   */
  async rotateKeys(): Promise<{ rotatedAt: number }> {
    return this.#exclusive(async () => {
      const session = await this.#ready(this.#o.requestTimeoutMs);
      const { appId, identity, kem } = this.#o;
      const old = this.#record.keys;
      const keys = generateDeviceKeys(kem);
      const signature = deviceSignature(old, appId, identity.id, this.#o.now());
      const r = await session.request({
        kind: 'rotateDeviceKeys',
        newKeys: { publicKey: keys.ed25519.publicKey, pqPublicKey: keys.mlkem.publicKey },
        signature,
        identityType: identity.type,
        identityId: identity.id,
      });
      const record: StoredDevice = { ...this.#record, keys, createdAt: this.#o.now() };
      const reg = this.#registrationSignatureFor(record);
      if (reg) record.registrationSignature = reg;
      else delete record.registrationSignature;
      await this.#o.keyStore.write(this.#storeKey(), encodeStoredDevice(record));
      this.#previousKeys = old;
      this.#record = record;
      return { rotatedAt: r.rotatedAt };
    });
  }

  /** Stops everything: closes the connection, cancels timers and pending requests. Idempotent. */
  close(): void {
    if (this.#state === 'closed') return;
    this.#setState('closed');
    const error = this.#fatal ?? closedError();
    this.#session?.close(error);
    this.#session = undefined;
    if (this.#sleep) {
      clearTimeout(this.#sleep.timer);
      this.#sleep.wake();
    }
    for (const w of this.#waiters) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(error);
    }
    this.#waiters.clear();
    if (this.#previousKeys) {
      // Kept in memory only, for events sealed before a rotation; nothing needs them now.
      wipeDeviceKeys(this.#previousKeys);
      this.#previousKeys = undefined;
    }
  }

  // ---- connection loop ----

  async #run(): Promise<void> {
    let attempt = 0;
    while (!this.#isClosed()) {
      this.#setState('connecting');
      let established = false;
      let failure: NoxyError | undefined;
      try {
        const { session, ended } = await this.#open();
        if (this.#isClosed()) {
          session.close(closedError());
          return;
        }
        established = true;
        this.#session = session;
        this.#setState('ready');
        for (const w of this.#waiters) {
          if (w.timer) clearTimeout(w.timer);
          w.resolve(session);
        }
        this.#waiters.clear();
        failure = await ended;
      } catch (error) {
        failure = NoxyError.isInstance(error)
          ? error
          : new NoxyError('RELAY_ERROR', 'connection attempt failed', { cause: error });
      }
      this.#session = undefined;
      if (this.#isClosed()) return;
      if (failure && this.#isFatal(failure)) {
        this.#fatal = failure;
        this.#emitError(failure);
        this.close();
        return;
      }
      if (failure) this.#emitError(failure);
      attempt = established ? 0 : attempt + 1;
      const delayMs = reconnectDelay(Math.max(0, attempt - 1), this.#o.reconnect, this.#o.random);
      this.#setState('waiting', { delayMs, ...(failure ? { error: failure } : {}) });
      await new Promise<void>((wake) => {
        this.#sleep = { timer: setTimeout(wake, delayMs), wake };
      });
      this.#sleep = undefined;
    }
  }

  #isFatal(error: NoxyError): boolean {
    return (
      (error instanceof DeviceRelayError && FATAL_RELAY_CODES.has(error.relayCode)) || error.code === 'INVALID_ARGUMENT'
    );
  }

  /** One connection: handshake, then a promise that settles when the connection ends. */
  async #open(): Promise<{ session: Session; ended: Promise<NoxyError | undefined> }> {
    let endConnection!: (error: NoxyError | undefined) => void;
    const ended = new Promise<NoxyError | undefined>((resolve) => (endConnection = resolve));
    let session: Session | undefined;
    const connection = await this.#o.transport({
      onResponse: (r) => session && this.#onResponse(session, r),
      onFrameError: (e) => this.#emitError(e),
      onClose: (error) => {
        const reason = NoxyError.isInstance(error)
          ? error
          : new NoxyError('RELAY_UNAVAILABLE', 'connection to the relay lost', { cause: error, retryable: true });
        session?.close(reason);
        endConnection(reason);
      },
    });
    session = new Session(connection, {
      appId: this.#o.appId,
      requestTimeoutMs: this.#o.requestTimeoutMs,
      now: this.#o.now,
      prove: requestProver(
        {
          keys: () => this.#record.keys,
          deviceId: () => this.#deviceId,
          identityId: this.#o.identity.id,
        },
        this.#o.sign ?? nobleEd25519Sign,
      ),
    });
    try {
      if (this.#isClosed()) throw closedError();
      this.#deviceId = (await handshake(session, this.#record, this.#o.identity)).deviceId;
      return { session, ended };
    } catch (error) {
      session.close(NoxyError.isInstance(error) ? error : closedError());
      throw error;
    }
  }

  /** A ready session, waiting up to `timeoutMs` (forever when undefined) for one. */
  #ready(timeoutMs: number | undefined): Promise<Session> {
    if (this.#state === 'closed') return Promise.reject(this.#fatal ?? closedError());
    if (this.#state === 'ready' && this.#session) return Promise.resolve(this.#session);
    if (this.#state === 'idle') void this.#run();
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (timeoutMs !== undefined) {
        waiter.timer = setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(
            new NoxyError('RELAY_UNAVAILABLE', `not connected to the relay within ${timeoutMs} ms`, {
              retryable: true,
            }),
          );
        }, timeoutMs);
      }
      this.#waiters.add(waiter);
    });
  }

  // ---- incoming messages ----

  #onResponse(session: Session, response: WireResponse): void {
    const rest = session.handle(response);
    const payload = rest?.payload;
    if (!payload) return;
    if (payload.kind === 'decisionEvent') void this.#onDecisionEvent(session, rest.messageId, payload);
    else if (payload.kind === 'decisionRouted') {
      const decisionId = payload.decisionId || rest.messageId || '';
      this.#pending.delete(decisionId);
      this.#emitter.emit('routed', { decisionId });
    } else if (payload.kind === 'error') {
      this.#emitError(new DeviceRelayError(payload.code, payload.message, payload.retryable));
    }
    // Anything else answers a request that already timed out: nothing to do.
  }

  async #onDecisionEvent(
    session: Session,
    messageId: string | undefined,
    event: { kyberCt: Uint8Array; nonce: Uint8Array; ciphertext: Uint8Array },
  ): Promise<void> {
    if (!messageId) {
      this.#emitError(new NoxyError('PROTOCOL', 'the relay sent a decision event without message_id; dropped'));
      return;
    }
    const ack = () =>
      session
        .request({ kind: 'decisionAck', decisionId: messageId, receivedAt: this.#o.now() })
        .catch((error: unknown) => {
          if (NoxyError.isInstance(error) && error.code !== 'CLOSED') this.#emitError(error);
        });
    // Redelivered after a reconnect: acknowledge again, but do not show it twice.
    if (this.#seen.has(messageId)) {
      void ack();
      return;
    }
    const keys = [this.#record.keys.mlkem.secretKey];
    if (this.#previousKeys) keys.push(this.#previousKeys.mlkem.secretKey);
    let decision: ReceivedDecision;
    try {
      decision = await openDecision(event, messageId, keys, this.#o.kem, this.#o.aead, this.#o.now());
    } catch (error) {
      this.#emitError(
        NoxyError.isInstance(error)
          ? error
          : new NoxyError('CRYPTO', `decision ${messageId} dropped`, { cause: error }),
      );
      return;
    }
    this.#remember(messageId);
    this.#actionHashes.set(decision.decisionId, payloadActionHash(decision.payload));
    if (this.#actionHashes.size > SEEN_LIMIT) {
      const oldest = this.#actionHashes.keys().next().value;
      if (oldest !== undefined) this.#actionHashes.delete(oldest);
    }
    const expires = expiresAtOf(decision.payload);
    if (expires !== undefined) {
      this.#expiresAt.set(decision.decisionId, expires);
      if (this.#expiresAt.size > SEEN_LIMIT) {
        const oldest = this.#expiresAt.keys().next().value;
        if (oldest !== undefined) this.#expiresAt.delete(oldest);
      }
    }
    void ack();
    this.#pending.set(decision.decisionId, decision);
    this.#emitter.emit('decision', decision);
  }

  #remember(messageId: string): void {
    this.#seen.add(messageId);
    if (this.#seen.size > SEEN_LIMIT) {
      const oldest = this.#seen.values().next().value;
      if (oldest !== undefined) this.#seen.delete(oldest);
    }
  }

  // ---- helpers ----

  /** A method, not a field test, so TypeScript does not keep a narrowed state across awaits. */
  #isClosed(): boolean {
    return this.#state === 'closed';
  }

  #setState(state: DeviceState, extra: { delayMs?: number; error?: NoxyError } = {}): void {
    this.#state = state;
    this.#emitter.emit('state', { state, ...extra });
  }

  #emitError(error: NoxyError): void {
    this.#emitter.emit('error', error);
  }

  #listenerFailed(error: unknown): void {
    // A throwing 'error' listener must not recurse.
    if (this.#inErrorListener) return;
    this.#inErrorListener = true;
    try {
      this.#emitError(new NoxyError('RELAY_ERROR', 'a device event listener threw', { cause: error }));
    } finally {
      this.#inErrorListener = false;
    }
  }

  #storeKey(): StoreKey {
    return { appId: this.#o.appId, identityType: this.#o.identity.type, identityId: this.#o.identity.id };
  }

  #registrationSignatureFor(record: StoredDevice): Uint8Array | undefined {
    const key = this.#o.signingSecret ?? this.#o.pairingCode;
    if (key === undefined) return undefined;
    const { appId, identity } = this.#o;
    return registrationSignature(key, {
      appId,
      identityType: identity.type,
      identityId: identity.id,
      publicKey: record.keys.ed25519.publicKey,
      pqPublicKey: record.keys.mlkem.publicKey,
      deviceType: record.deviceType,
    });
  }

  async #exclusive<T>(op: () => Promise<T>): Promise<T> {
    if (this.#keyOp)
      throw new NoxyError('INVALID_ARGUMENT', 'another revoke or key rotation is in progress', { field: 'keys' });
    const p = op();
    this.#keyOp = p;
    try {
      return await p;
    } finally {
      this.#keyOp = undefined;
    }
  }
}
