/**
 * `createNoxyClient` — the Noxy agent client (docs/protocol.md §1, §2, §4).
 *
 * Wire parity with the official Noxy agent SDKs (same RPCs, fields, crypto, metadata and UUID
 * request ids), with what they lack: typed identities checked before any RPC, parallel
 * fan-out with per-device results, a deadline on every call, RouteDecision retries that reuse
 * the request id and honour pushback, TTL-derived waits with a jittered 1.6 s cap and an
 * app-wide poll budget, AbortSignal everywhere, and outcomes returned as values.
 * @module
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { systemClock, type Clock } from './clock.js';
import type { RandomBytes } from './envelope/envelope.js';
import { loadKemBackend, type KemBackend, type KemChoice } from './envelope/kem.js';
import { assertAuthToken, parseEndpoint } from './endpoint.js';
import { abortError, invalidArgument, NoxyError, describe } from './errors.js';
import { fanOut, type DeviceDelivery, type TargetDevice } from './fan-out.js';
import { parseIdentity, type Identity, type IdentityInput } from './identity.js';
import { nodeAead } from './node-aead.js';
import {
  deliveryStatusFromWire,
  outcomeFromResponse,
  quotaStatusFromWire,
  type DecisionOutcome,
  type QuotaStatus,
} from './outcome.js';
import { serializeDecision } from './payload.js';
import { PollScheduler } from './poll-scheduler.js';
import { RetryBudget, withRetry } from './retry.js';
import type { CallSettings, Transport } from './transport.js';
import { waitForOutcome, type WaitResult } from './wait.js';
import { assertDelivered, checkDecisionId, checkPollId, checkPositive, checkTtl } from './client-checks.js';
import { createMemoryDeviceKeyStore, type DeviceKeyStore, type PinnedDeviceKey } from './device-keys.js';
import { createOutcomeVerifier, type DeviceVerification } from './outcome-verification.js';
import { checkWaitHint, MIN_WAIT_HINT_MS, WAIT_HINT_HEADER } from './wait-hint.js';

export { assertDelivered, checkTtl, MAX_TTL_SECONDS } from './client-checks.js';

/** The relay's default TTL when 0 is sent (docs/protocol.md §7). */
export const DEFAULT_TTL_SECONDS = 600;

/**
 * Deadlines in ms (docs/protocol.md §4.4).
 *
 * A send (`sendDecision`, `sendPush`) has ONE deadline, `routeDecision` ms after it starts: the
 * device lookup, the encryption, every RouteDecision and every retry or pushback wait must fit in
 * it, so the caller knows how long a send can take. No attempt or wait is started past it.
 * Retries wait for a relay that is reconnecting (e.g. restarting), so one that stays unreachable is
 * reported as `RELAY_UNAVAILABLE` when the deadline ends (at once when the retry budget is spent).
 */
export interface RpcTimeouts {
  /** Budget of a whole send, retries included (default 10 000). */
  routeDecision: number;
  /** Each GetDecisionOutcome poll (default 5 000). */
  getDecisionOutcome: number;
  /** Each GetIdentityDevices attempt and GetQuota (default 5 000); also the budget of a lone `getIdentityDevices()`. */
  other: number;
}

/** Options of {@link createNoxyClient} (the official SDKs' names where they exist). */
export interface NoxyClientOptions {
  /** Relay URL: `https://…` or a bare host → TLS; `http://` only for loopback (local relay). */
  endpoint: string;
  /** The app token (agent side). Never logged, never put in an error. */
  authToken: string;
  /** TTL of each decision in seconds, 1 … 604800 (default 600). */
  decisionTtlSeconds?: number;
  /** ML-KEM-768 backend: `auto` (liboqs when installed, else mlkem), a name or an instance. */
  kem?: KemChoice;
  /** App-wide polling budget for all waits of this client (default 20 polls/s). */
  pollsPerSecond?: number;
  /**
   * The wait hint (docs/protocol.md §12): how long, in ms, a wait asks the relay to hold each
   * pending poll until the outcome changes — an integer 0 … 25,000, default 20,000; 0 sends no
   * hint. Relays that ignore it (the official ones) are polled on the usual schedule.
   */
  waitHintMs?: number;
  /** Parallel RouteDecisions in one fan-out (default 16). */
  fanOutConcurrency?: number;
  /** PEM roots for a relay with a private CA. */
  rootCerts?: Uint8Array;
  timeouts?: Partial<RpcTimeouts>;
  /** Injected time (tests, simulations). */
  clock?: Clock;
  /** Injected randomness for the envelope (known-answer tests only). */
  randomBytes?: RandomBytes;
  /**
   * Only a device-signed approval counts (docs/security.md §10): an approval that is
   * unsigned, badly signed, by an unknown or wrong device, or for another decision or action is
   * reported as `rejected`, its `verification` saying why. Default false: outcomes are reported
   * as the relay says (official relays and devices send no signatures), `verification` attached.
   */
  requireDeviceSignature?: boolean;
  /**
   * Pinned device keys: a store (e.g. `createFileDeviceKeyStore('~/.noxy/known_devices')`) or
   * keys given in configuration. Default: an in-memory store, pinned on first sight.
   */
  deviceKeys?: DeviceKeyStore | readonly PinnedDeviceKey[];
  /** Pin a device's key the first time it signs (default true); false: only `deviceKeys` count. */
  trustOnFirstUse?: boolean;
  /** The app id signatures must name; default: the one the relay reports. */
  appId?: string;
}

/** Options of one send. */
export interface SendDecisionOptions {
  /** Reuse a decision id of this client (e.g. resuming a send after a crash): a UUID; default a new UUID v4. */
  decisionId?: string;
  /** Override the client's TTL for this decision. */
  ttlSeconds?: number;
  signal?: AbortSignal;
}

/** What {@link NoxyClient.sendDecision} returns. */
export interface SentDecision {
  decisionId: string;
  /** The identity as validated. */
  identity: Identity;
  /** When the decision expires (ms since epoch, client clock). */
  expiresAt: number;
  ttlSeconds: number;
  /** One entry per device of the identity. */
  deliveries: DeviceDelivery[];
  /** Devices that have it (delivered or queued). */
  delivered: number;
}

/** Options of a wait. */
export interface WaitOptions {
  /** Any id the relay knows (not only this client's UUIDs): 1–200 characters, no control characters. */
  decisionId: string;
  identity: IdentityInput;
  signal?: AbortSignal;
  /** When the decision expires (ms since epoch); default: now + the client's TTL. */
  expiresAt?: number;
  /** Stop earlier and return `pending` (e.g. an MCP host's timeout). */
  maxWaitMs?: number;
  /** Called after every poll. */
  onPoll?: (info: { polls: number; outcome: DecisionOutcome; elapsedMs: number }) => void;
  /** The action_hash the decision carried (default: the one this client sent, if any). */
  expectedActionHash?: string;
}

/** A single outcome poll. */
export interface OutcomeSnapshot {
  decisionId: string;
  outcome: DecisionOutcome;
  pending: boolean;
  /** For approved and rejected outcomes: whether the deciding device's signature verified. */
  verification?: DeviceVerification;
  /** The relay said approved, but with `requireDeviceSignature` it did not verify: reported as rejected. */
  refusedApproval?: true;
}

/** A wait's result with the signature check of its outcome. */
export type VerifiedWaitResult = WaitResult & {
  /** For approved and rejected outcomes: whether the deciding device's signature verified. */
  verification?: DeviceVerification;
  /** The relay said approved, but with `requireDeviceSignature` it did not verify: reported as rejected. */
  refusedApproval?: true;
};

/** The app's quota. */
export interface Quota {
  appName: string;
  quotaTotal: bigint;
  quotaRemaining: bigint;
  status: QuotaStatus;
}

/** A registered device of an identity. */
export interface IdentityDevice {
  deviceId: string;
  /** Ed25519, 32 bytes. */
  publicKey: Uint8Array;
  /** ML-KEM-768, 1184 bytes. */
  pqPublicKey: Uint8Array;
}

/** Result of the v1 push API. */
export interface SentPush {
  deliveries: DeviceDelivery[];
  delivered: number;
}

/** The Noxy agent client. */
export interface NoxyClient {
  /** The default TTL of decisions sent by this client, seconds. */
  readonly ttlSeconds: number;
  /** Whether only device-signed approvals count (option `requireDeviceSignature`). */
  readonly requireDeviceSignature: boolean;
  /**
   * Encrypts the decision for every device of `identity` and routes it. The device lookup and
   * each RouteDecision are retried on transient relay errors (unavailable, timed out, rate
   * limited — after the relay's pushback —, unknown) within the send's deadline
   * (`timeouts.routeDecision`, see {@link RpcTimeouts}) and the client's retry budget.
   */
  sendDecision(identity: IdentityInput, decision: object, options?: SendDecisionOptions): Promise<SentDecision>;
  /**
   * One GetDecisionOutcome. `decisionId` may be any id the relay knows — one made by another
   * agent or by a relay need not be a UUID — of 1–200 characters without control characters.
   * @throws NoxyError `INVALID_ARGUMENT` (field `decisionId`, nothing sent) for any other id
   */
  getDecisionOutcome(options: {
    decisionId: string;
    identity: IdentityInput;
    signal?: AbortSignal;
    expectedActionHash?: string;
  }): Promise<OutcomeSnapshot>;
  /** Polls until approved, rejected or expired (or `maxWaitMs` → pending). */
  waitForDecisionOutcome(options: WaitOptions): Promise<VerifiedWaitResult>;
  /** `sendDecision` then `waitForDecisionOutcome`. */
  sendDecisionAndWaitForOutcome(
    identity: IdentityInput,
    decision: object,
    options?: SendDecisionOptions & Pick<WaitOptions, 'maxWaitMs' | 'onPoll'>,
  ): Promise<VerifiedWaitResult & { sent: SentDecision }>;
  getQuota(options?: { signal?: AbortSignal }): Promise<Quota>;
  getIdentityDevices(identity: IdentityInput, options?: { signal?: AbortSignal }): Promise<IdentityDevice[]>;
  /** v1 push (noxy.push.PushService): an encrypted notification, no outcome. */
  sendPush(
    identity: IdentityInput,
    notification: object,
    options?: { signal?: AbortSignal; ttlSeconds?: number },
  ): Promise<SentPush>;
  /** Cancels in-flight calls and waits, closes the channel. Idempotent. */
  close(): void;
}

/**
 * Creates a client. Validates every option at once (no RPC is made here); the channel
 * connects on first use.
 * @throws NoxyError `INVALID_ARGUMENT` naming the bad option
 * @example
 * const noxy = createNoxyClient({ endpoint: 'http://127.0.0.1:7070', authToken: process.env.NOXY_AUTH_TOKEN! });
 * const { outcome } = await noxy.sendDecisionAndWaitForOutcome('alice@example.com', { title: 'Deploy?' });
 */
export function createNoxyClient(options: NoxyClientOptions): NoxyClient {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'an object', describe(options));
  assertAuthToken(options.authToken);
  const ttlSeconds =
    options.decisionTtlSeconds === undefined
      ? DEFAULT_TTL_SECONDS
      : checkTtl(options.decisionTtlSeconds, 'decisionTtlSeconds');
  const pollsPerSecond = checkPositive(options.pollsPerSecond, 'pollsPerSecond', 20);
  const concurrency = Math.floor(checkPositive(options.fanOutConcurrency, 'fanOutConcurrency', 16));
  const waitHintMs = checkWaitHint(options.waitHintMs);
  const timeouts: RpcTimeouts = {
    routeDecision: checkPositive(options.timeouts?.routeDecision, 'timeouts.routeDecision', 10_000),
    getDecisionOutcome: checkPositive(options.timeouts?.getDecisionOutcome, 'timeouts.getDecisionOutcome', 5_000),
    other: checkPositive(options.timeouts?.other, 'timeouts.other', 5_000),
  };
  parseEndpoint(options.endpoint);
  const requireDeviceSignature = options.requireDeviceSignature === true;
  if (options.requireDeviceSignature !== undefined && typeof options.requireDeviceSignature !== 'boolean')
    throw invalidArgument('requireDeviceSignature', 'true or false', describe(options.requireDeviceSignature));
  if (options.appId !== undefined && (typeof options.appId !== 'string' || options.appId === ''))
    throw invalidArgument('appId', 'a non-empty string', describe(options.appId));
  const deviceKeys =
    options.deviceKeys === undefined || Array.isArray(options.deviceKeys)
      ? createMemoryDeviceKeyStore((options.deviceKeys as readonly PinnedDeviceKey[] | undefined) ?? [])
      : (options.deviceKeys as DeviceKeyStore);
  // grpc-js and the stubs load on the first RPC, not at startup (MCP hosts time cold starts).
  let transportPromise: Promise<Transport> | undefined;
  const transportOptions = {
    endpoint: options.endpoint,
    authToken: options.authToken,
    ...(options.rootCerts ? { rootCerts: options.rootCerts } : {}),
  };
  const connect = (): Promise<Transport> =>
    (transportPromise ??= import('./transport.js').then(({ createTransport }) => {
      const t = createTransport(transportOptions);
      if (closed) t.close();
      return t;
    }));
  const clock = options.clock ?? systemClock;
  const scheduler = new PollScheduler(pollsPerSecond, clock);
  const budget = new RetryBudget();
  const kemChoice = options.kem ?? 'auto';
  let kem: Promise<KemBackend> | undefined;
  // Every wait and send is tied to this controller, so close() ends them all at once.
  const lifetime = new AbortController();
  // Each wait's poll listens on it, and a held poll (wait hint) does so for seconds: a thousand
  // concurrent waits are expected, not a leak.
  setMaxListeners(0, lifetime.signal);
  let closed = false;

  const signalFor = (signal: AbortSignal | undefined) =>
    signal ? AbortSignal.any([signal, lifetime.signal]) : lifetime.signal;
  const guard = () => {
    if (closed) throw new NoxyError('CLOSED', 'the Noxy client is closed');
  };
  const rethrow = (err: unknown, signal: AbortSignal | undefined): never => {
    if (closed && !signal?.aborted) throw new NoxyError('CLOSED', 'the Noxy client is closed', { cause: err });
    throw err;
  };

  // Set by any answer of the relay, cleared when a retried call gives up on reaching it: while set,
  // a failed connection is most likely a restart.
  let relayUp = false;

  // One RPC retried (retry.ts) until `deadline` (on `clock`), each attempt getting at most the time
  // left. During grpc-js's reconnect backoff (~1 s after a refused connect) a plain call fails at
  // once, so a relay restarting in under a second would use up the attempts, and under load the
  // whole retry budget, before it could be reached again. So retries, and every attempt while the
  // relay is believed up, wait for the channel to connect (within the deadline). A relay that
  // stays away for a whole send is no longer believed up: later sends fail fast again.
  async function retried<T>(
    rpc: (settings: CallSettings) => Promise<T>,
    attemptMs: number,
    deadline: number,
    signal: AbortSignal,
  ): Promise<T> {
    try {
      return await withRetry(
        async (n) => {
          const timeoutMs = Math.min(attemptMs, deadline - clock.now());
          const res = await rpc({ timeoutMs, signal, waitForReady: relayUp || n > 0 });
          relayUp = true;
          return res;
        },
        { clock, budget, signal, deadline },
      );
    } catch (err) {
      if (NoxyError.isInstance(err) && err.code === 'RELAY_UNAVAILABLE') relayUp = false;
      throw err;
    }
  }

  async function listDevices(identity: Identity, signal: AbortSignal, deadline: number): Promise<TargetDevice[]> {
    const transport = await connect();
    const request = { requestId: randomUUID(), identityId: identity.id };
    const res = await retried((s) => transport.getIdentityDevices(request, s), timeouts.other, deadline, signal);
    return res.devices;
  }

  // The action_hash of decisions this client sent (the signed outcome must name it), bounded.
  const sentActionHashes = new Map<string, string>();
  // The last terminal GetDecisionOutcome answer per decision, for the signature check.
  const terminalAnswers = new Map<string, Partial<Parameters<typeof outcomeFromResponse>[0]>>();
  const remember = <V>(map: Map<string, V>, key: string, value: V) => {
    map.delete(key);
    map.set(key, value);
    if (map.size > 10_000) map.delete(map.keys().next().value as string);
  };
  const verifier = createOutcomeVerifier({
    keys: deviceKeys,
    trustOnFirstUse: options.trustOnFirstUse !== false,
    appId: options.appId,
    listDevices: (identityId) =>
      listDevices({ type: 'user_id', id: identityId }, lifetime.signal, clock.now() + timeouts.other),
  });

  // The signature check of a terminal outcome; with requireDeviceSignature an approval that does
  // not verify becomes `rejected` (fail closed), its verification saying why.
  async function verified(
    decisionId: string,
    identity: Identity,
    outcome: DecisionOutcome,
    expectedActionHash: string | undefined,
  ): Promise<{ outcome: DecisionOutcome; verification?: DeviceVerification; refusedApproval?: true }> {
    if (outcome !== 'approved' && outcome !== 'rejected') return { outcome };
    const res = terminalAnswers.get(decisionId) ?? {};
    const actionHash = expectedActionHash ?? sentActionHashes.get(decisionId);
    const verification = await verifier.verify({ identityId: identity.id, decisionId, outcome, actionHash }, res);
    const refused = requireDeviceSignature && outcome === 'approved' && !verification.verified;
    return refused ? { outcome: 'rejected', verification, refusedApproval: true } : { outcome, verification };
  }

  async function route(
    identity: IdentityInput,
    decision: object,
    field: string,
    opts: SendDecisionOptions,
    push: boolean,
  ) {
    guard();
    const id = parseIdentity(identity, 'identity');
    const plaintext = serializeDecision(decision, field);
    const actionHash = (decision as { action_hash?: unknown }).action_hash;
    const ttl = opts.ttlSeconds === undefined ? ttlSeconds : checkTtl(opts.ttlSeconds, 'ttlSeconds');
    const decisionId = opts.decisionId === undefined ? randomUUID() : checkDecisionId(opts.decisionId);
    const signal = signalFor(opts.signal);
    // The whole send, retries included, fits in one budget (RpcTimeouts).
    const deadline = clock.now() + timeouts.routeDecision;
    try {
      // A failed load (e.g. liboqs chosen but missing) is not kept: a later send tries again.
      kem ??= loadKemBackend(kemChoice).catch((err: unknown) => {
        kem = undefined;
        throw err;
      });
      const [backend, devices] = await Promise.all([kem, listDevices(id, signal, deadline)]);
      const expiresAt = clock.now() + ttl * 1000;
      if (devices.length === 0)
        throw new NoxyError(
          'NO_DEVICES',
          `the ${id.type} identity has no registered device; pair a device first (local relay: ` +
            '`noxy-relay pair --app APP_ID --identity ID`, then open the link on the phone or run `noxy-device pair`)',
        );
      const deliveries = await fanOut({
        plaintext,
        devices,
        kem: backend,
        aead: nodeAead,
        concurrency,
        randomBytes: options.randomBytes,
        send: async (device, envelope) => {
          // One request per device, built once: retries resend the very same request_id.
          const base = {
            requestId: randomUUID(),
            ciphertext: Buffer.from(envelope.ciphertext),
            ttlSeconds: ttl,
            targetDeviceId: device.deviceId,
            kyberCt: Buffer.from(envelope.kyberCt),
            nonce: Buffer.from(envelope.nonce),
          };
          const transport = await connect();
          const send = <T>(rpc: (s: CallSettings) => Promise<T>) =>
            retried(rpc, timeouts.routeDecision, deadline, signal);
          if (push) return deliveryStatusFromWire((await send((s) => transport.pushNotification(base, s))).status);
          const res = await send((s) => transport.routeDecision({ ...base, decisionId }, s));
          // The payload (and its action_hash) names our decision id; a relay that tracks the
          // decision under another id would make our polls ask about something else.
          if (res.decisionId !== '' && res.decisionId !== decisionId) {
            throw new NoxyError(
              'PROTOCOL',
              `RouteDecision: the relay answered decision_id ${res.decisionId}, expected ${decisionId}; ` +
                'not counted as delivered',
            );
          }
          return deliveryStatusFromWire(res.status);
        },
      });
      if (signal.aborted) throw abortError(signal);
      if (!push && typeof actionHash === 'string') remember(sentActionHashes, decisionId, actionHash);
      const delivered = deliveries.filter((d) => d.status === 'delivered' || d.status === 'queued').length;
      return { decisionId, identity: id, expiresAt, ttlSeconds: ttl, deliveries, delivered };
    } catch (err) {
      return rethrow(err, opts.signal);
    }
  }

  async function pollOnce(
    decisionId: string,
    identity: Identity,
    signal: AbortSignal | undefined,
    remainingMs = Infinity,
    hint = false,
    onHeld?: () => void,
  ): Promise<OutcomeSnapshot & { heldMs?: number }> {
    // Near a wait's deadline the RPC gets only the time left — but never under 2 s, so that a
    // distant relay can still answer the final poll at the deadline.
    const timeoutMs = Math.min(timeouts.getDecisionOutcome, Math.max(2_000, remainingMs));
    // The wait hint asks for at most the time left; the call's deadline is the hold plus the usual
    // poll deadline, and headers must still come within the latter (a relay that holds sends them
    // at once), so a relay that hangs is noticed as soon as without the hint.
    const holdMs = hint ? Math.floor(Math.min(waitHintMs, remainingMs)) : 0;
    let heldMs: number | undefined;
    const settings: CallSettings =
      holdMs >= MIN_WAIT_HINT_MS
        ? {
            timeoutMs: holdMs + timeouts.getDecisionOutcome,
            signal,
            metadata: { [WAIT_HINT_HEADER]: String(holdMs) },
            headersWithinMs: timeoutMs,
            onHeaders: (headers) => {
              const ack = Number(headers.get(WAIT_HINT_HEADER));
              heldMs = Number.isInteger(ack) && ack > 0 && ack <= holdMs ? ack : undefined;
              if (heldMs !== undefined) onHeld?.();
            },
          }
        : { timeoutMs, signal };
    const res = await (await connect()).getDecisionOutcome(
      { requestId: randomUUID(), decisionId, identityId: identity.id },
      settings,
    );
    relayUp = true;
    const outcome = outcomeFromResponse(res);
    if (outcome !== 'pending') remember(terminalAnswers, decisionId, res);
    return { decisionId, outcome, pending: res.pending, heldMs };
  }

  const client: NoxyClient = {
    ttlSeconds,
    requireDeviceSignature,
    sendDecision: async (identity, decision, opts = {}) => route(identity, decision, 'decision', opts, false),

    async getDecisionOutcome({ decisionId, identity, signal, expectedActionHash }) {
      guard();
      const id = parseIdentity(identity);
      checkPollId(decisionId);
      try {
        const snapshot = await pollOnce(decisionId, id, signalFor(signal));
        return { ...snapshot, ...(await verified(decisionId, id, snapshot.outcome, expectedActionHash)) };
      } catch (err) {
        return rethrow(err, signal);
      }
    },

    async waitForDecisionOutcome(opts) {
      guard();
      const id = parseIdentity(opts.identity);
      const decisionId = checkPollId(opts.decisionId);
      if (opts.maxWaitMs !== undefined) checkPositive(opts.maxWaitMs, 'maxWaitMs', 0);
      if (opts.expiresAt !== undefined && !Number.isFinite(opts.expiresAt))
        throw invalidArgument('expiresAt', 'ms since the epoch', describe(opts.expiresAt));
      const signal = signalFor(opts.signal);
      try {
        const result = await waitForOutcome(
          {
            decisionId,
            expiresAt: opts.expiresAt ?? clock.now() + ttlSeconds * 1000,
            ...(opts.maxWaitMs !== undefined ? { maxWaitMs: opts.maxWaitMs } : {}),
            ...(opts.onPoll ? { onPoll: opts.onPoll } : {}),
            signal,
          },
          {
            clock,
            scheduler,
            poll: async (s, remainingMs, onHeld) => {
              const { outcome, heldMs } = await pollOnce(decisionId, id, s, remainingMs, waitHintMs > 0, onHeld);
              return { outcome, heldMs };
            },
          },
        );
        return { ...result, ...(await verified(decisionId, id, result.outcome, opts.expectedActionHash)) };
      } catch (err) {
        return rethrow(err, opts.signal);
      }
    },

    async sendDecisionAndWaitForOutcome(identity, decision, opts = {}) {
      const sent = await client.sendDecision(identity, decision, opts);
      assertDelivered(sent);
      const result = await client.waitForDecisionOutcome({
        decisionId: sent.decisionId,
        identity: sent.identity,
        expiresAt: sent.expiresAt,
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.maxWaitMs !== undefined ? { maxWaitMs: opts.maxWaitMs } : {}),
        ...(opts.onPoll ? { onPoll: opts.onPoll } : {}),
      });
      return { ...result, sent };
    },

    async getQuota({ signal } = {}) {
      guard();
      try {
        const res = await (await connect()).getQuota(
          { requestId: randomUUID() },
          { timeoutMs: timeouts.other, signal: signalFor(signal) },
        );
        relayUp = true;
        return {
          appName: res.appName,
          quotaTotal: res.quotaTotal,
          quotaRemaining: res.quotaRemaining,
          status: quotaStatusFromWire(res.status),
        };
      } catch (err) {
        return rethrow(err, signal);
      }
    },

    async getIdentityDevices(identity, { signal } = {}) {
      guard();
      const id = parseIdentity(identity);
      try {
        const devices = await listDevices(id, signalFor(signal), clock.now() + timeouts.other);
        return devices.map((d) => ({
          deviceId: d.deviceId,
          publicKey: new Uint8Array(d.publicKey),
          pqPublicKey: new Uint8Array(d.pqPublicKey),
        }));
      } catch (err) {
        return rethrow(err, signal);
      }
    },

    async sendPush(identity, notification, opts = {}) {
      const { deliveries, delivered } = await route(identity, notification, 'notification', opts, true);
      return { deliveries, delivered };
    },

    close() {
      if (closed) return;
      closed = true;
      lifetime.abort(new NoxyError('CLOSED', 'the Noxy client is closed'));
      scheduler.close(new NoxyError('CLOSED', 'the Noxy client is closed'));
      void transportPromise?.then(
        (t) => t.close(),
        () => undefined, // the transport never loaded: nothing to close
      );
    },
  };
  return client;
}
