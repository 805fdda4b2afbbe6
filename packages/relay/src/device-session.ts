/**
 * One device connection (a gRPC `HandleMessage` stream or a WebSocket), transport-neutral:
 * it takes decoded `DeviceRequest`s and writes `DeviceResponse`s.
 *
 * Rules (docs/protocol.md §5, §10; docs/local-relay-contract.md):
 * - every request gets exactly one answer carrying its request_id (§10.3), errors included;
 * - per-connection token bucket (20 msg/s) → `error RATE_LIMITED, retryable`;
 * - nonce 12 bytes, timestamp ±5 min, nonce not seen before (replay.ts);
 * - session ids are issued by authenticate/register and bound to this connection;
 *   subscribe / ack / outcome must carry it, revoke / rotate may omit it;
 * - at most MAX_SESSIONS_PER_DEVICE sessions per device (the oldest is closed), and the
 *   re-send on subscribe is paged to the connection's backlog (outbox.ts).
 * @module
 */
import { device } from '@noxy-approval/proto';
import {
  checkAuthenticateProof,
  checkDeviceKeys,
  checkRotationProof,
  isRefusal,
  registerDevice,
  type Refusal,
} from './device-registration.js';
import { errorResponse, okResponse, signedOutcomeOf } from './device-responses.js';
import type { DecisionEngine } from './engine.js';
import type { DeviceSink, LiveRegistry } from './live-registry.js';
import type { RelayLogger } from './logger.js';
import { TokenBucket } from './rate-limit.js';
import type { ReplayGuard } from './replay.js';
import { bytesEqual, newSessionId } from './secrets.js';
import type { DeviceRecord, RelayStore } from './store/index.js';

const E = device.ErrorCode;

/** What every device session of a relay shares. */
export interface SessionContext {
  store: RelayStore;
  engine: DecisionEngine;
  /** Subscriptions and the per-device session cap. */
  live: LiveRegistry;
  replay: ReplayGuard;
  now: () => number;
  logger: RelayLogger;
  /** Per-connection rate limit, messages per second. */
  devicePerSecond: number;
  /** `--require-device-proof`: refuse devices without proofs of possession (device-registration.ts). */
  requireDeviceProof?: boolean;
}

interface Auth {
  appId: string;
  deviceId: string;
  sessionId: string;
}

/** What a session needs of its connection (a gRPC stream or a WebSocket). */
export interface DeviceTransport {
  /** Writes one response; must not throw (a closed connection drops it, a full one closes). */
  write(response: device.DeviceResponse): void;
  /** Runs `fn` once the connection's unsent backlog is low (outbox.ts); never if it closes. */
  whenWritable(fn: () => void): void;
  /** Closes the connection (a newer session of the same device took its place). */
  close(reason: string): void;
}

type Payload = NonNullable<device.DeviceRequest['payload']>;
type Answer = NonNullable<device.DeviceResponse['payload']> | Refusal;

/** The state of one device connection. */
export class DeviceSession implements DeviceSink {
  readonly #ctx: SessionContext;
  readonly #transport: DeviceTransport;
  readonly #bucket: TokenBucket;
  /** Short label for logs: transport and a connection number. */
  readonly label: string;
  #auth: Auth | undefined;
  #subscribedAs: string | undefined;
  // Bumped by every subscribe and unsubscribe, so a superseded paged re-send stops.
  #drainRun = 0;
  #closed = false;

  /**
   * @param ctx shared relay state
   * @param transport the connection
   * @param label transport label for logs
   */
  constructor(ctx: SessionContext, transport: DeviceTransport, label: string) {
    this.#ctx = ctx;
    this.#transport = transport;
    this.#bucket = new TokenBucket(ctx.devicePerSecond, ctx.now);
    this.label = label;
  }

  /**
   * DeviceSink: writes an unsolicited response (event, decision_routed) once the change that
   * caused it is committed; dropped if the connection closed meanwhile or the commit failed.
   */
  send(response: device.DeviceResponse): void {
    this.#ctx.store.afterCommit(() => {
      if (!this.#closed) this.#transport.write(response);
    });
  }

  // The answer to a request, after its changes are committed; INTERNAL_ERROR if that failed.
  #reply(response: device.DeviceResponse): void {
    this.#ctx.store.afterCommit(
      () => {
        if (!this.#closed) this.#transport.write(response);
      },
      () => {
        if (!this.#closed)
          this.#transport.write(
            errorResponse(
              response.requestId,
              E.INTERNAL_ERROR,
              'the relay could not store the request; retry',
              this.#ctx.now(),
              true,
            ),
          );
      },
    );
  }

  /** A frame that could not be decoded: answered with INVALID_REQUEST, the connection stays. */
  malformed(requestId: string, message: string): void {
    if (this.#closed) return;
    if (this.#bucket.take() > 0) {
      this.#reply(errorResponse(requestId, E.RATE_LIMITED, 'rate limit exceeded', this.#ctx.now(), true));
      return;
    }
    this.#reply(errorResponse(requestId, E.INVALID_REQUEST, message, this.#ctx.now()));
  }

  /** Handles one decoded request. Never throws: failures become `error` answers. */
  handle(req: device.DeviceRequest): void {
    if (this.#closed) return;
    let answer: Answer;
    try {
      answer = this.#answer(req);
    } catch (error) {
      this.#ctx.logger.error('device request failed', {
        connection: this.label,
        requestId: req.requestId,
        error: error instanceof Error ? error.message : String(error),
      });
      answer = { code: E.INTERNAL_ERROR, message: 'internal error' };
    }
    const now = this.#ctx.now();
    if (isRefusal(answer)) {
      const retryable = answer.code === E.RATE_LIMITED || answer.code === E.INTERNAL_ERROR;
      this.#reply(errorResponse(req.requestId, answer.code, answer.message, now, retryable));
    } else {
      this.#reply(okResponse(req.requestId, answer, now));
    }
    // Events drained on subscribe follow the subscribe answer, never precede it.
    if (!isRefusal(answer) && answer.$case === 'subscribeDecisions' && answer.value.subscribed) this.#drain();
  }

  /** The connection ended: drop its subscription and session. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#unsubscribe();
    if (this.#auth) this.#ctx.live.endSession(this.#auth.deviceId, this);
    this.#closed = true;
  }

  /** DeviceSink: a newer session of this device took this one's place; closes the connection. */
  evict(reason: string): void {
    if (this.#closed) return;
    this.#ctx.logger.info('device session closed', { connection: this.label, why: reason });
    this.close();
    this.#transport.close(reason);
  }

  #answer(req: device.DeviceRequest): Answer {
    const retryIn = this.#bucket.take();
    if (retryIn > 0)
      return {
        code: E.RATE_LIMITED,
        message: `rate limit exceeded (${this.#ctx.devicePerSecond} msg/s per connection); retry in ${retryIn} ms`,
      };
    const payload = req.payload;
    if (!payload) return { code: E.INVALID_REQUEST, message: '"payload" missing' };
    const app = this.#ctx.store.apps.get(req.appId);
    if (!app) return { code: E.APP_NOT_FOUND, message: '"app_id" names no app on this relay' };
    if (this.#auth && this.#auth.appId !== req.appId)
      return { code: E.UNAUTHORIZED, message: '"app_id" differs from the session' };
    const problem = this.#ctx.replay.check(req.appId, req.timestamp, req.nonce);
    if (problem === 'INVALID_NONCE')
      return { code: E.INVALID_NONCE, message: `"nonce" expected 12 bytes, got ${req.nonce.length}` };
    if (problem === 'STALE_TIMESTAMP')
      return { code: E.REPLAY_DETECTED, message: '"timestamp" is outside ±5 minutes of the relay clock' };
    if (problem === 'REPEATED_NONCE') return { code: E.REPLAY_DETECTED, message: '"nonce" was already used' };

    switch (payload.$case) {
      case 'authenticate':
        return this.#authenticate(req, payload.value);
      case 'registerDevice': {
        const result = registerDevice(this.#ctx.store, app, payload.value, this.#ctx.now(), req, this.#policy);
        if (isRefusal(result)) return result;
        const sessionId = this.#establish(result);
        return {
          $case: 'registerDevice',
          value: { deviceId: result.deviceId, registeredAt: BigInt(result.registeredAt), sessionId },
        };
      }
      default:
        return this.#authenticated(req, payload);
    }
  }

  get #policy() {
    return { requireDeviceProof: this.#ctx.requireDeviceProof ?? false };
  }

  #authenticate(req: device.DeviceRequest, auth: device.Authenticate): Answer {
    const keys = checkDeviceKeys(auth.devicePubkeys, 'authenticate.device_pubkeys');
    if (isRefusal(keys)) return keys;
    const found = this.#ctx.store.devices.byPublicKey(req.appId, keys.publicKey);
    const dev = found && bytesEqual(found.pqPublicKey, keys.pqPublicKey) ? found : undefined;
    // Proof of possession (no session for a replayed frame of a proof-bound device).
    const bind = { store: this.#ctx.store, nowMs: this.#ctx.now() };
    const refused = checkAuthenticateProof(auth, keys, req, dev, this.#policy, bind);
    if (refused) return refused;
    if (!dev) {
      return { $case: 'authenticate', value: { requiresRegistration: true } };
    }
    if (dev.revokedAt !== undefined) return { code: E.DEVICE_REVOKED, message: 'device revoked' };
    const sessionId = this.#establish(dev);
    return { $case: 'authenticate', value: { deviceId: dev.deviceId, requiresRegistration: false, sessionId } };
  }

  // A new session replaces any earlier one on this connection (and its subscription).
  #establish(dev: DeviceRecord): string {
    if (this.#auth && this.#auth.deviceId !== dev.deviceId) {
      this.#unsubscribe();
      this.#ctx.live.endSession(this.#auth.deviceId, this);
    }
    const sessionId = newSessionId();
    this.#auth = { appId: dev.appId, deviceId: dev.deviceId, sessionId };
    this.#ctx.live.startSession(dev.deviceId, this);
    return sessionId;
  }

  #authenticated(
    req: device.DeviceRequest,
    payload: Exclude<Payload, { $case: 'authenticate' | 'registerDevice' }>,
  ): Answer {
    // Official SDKs send revoke/rotate without ids on an authenticated connection (§5.3 step 7).
    const strict = payload.$case !== 'revokeDevice' && payload.$case !== 'rotateDeviceKeys';
    const dev = this.#checkSession(req, strict);
    if (isRefusal(dev)) return dev;
    const { engine } = this.#ctx;
    switch (payload.$case) {
      case 'subscribeDecisions':
        if (payload.value.subscribe === false) {
          this.#unsubscribe();
          return { $case: 'subscribeDecisions', value: { subscribed: false } };
        }
        return { $case: 'subscribeDecisions', value: { subscribed: true } };
      case 'decisionAck': {
        const id = payload.value.decisionId;
        if (id === '') return { code: E.INVALID_REQUEST, message: '"decision_ack.decision_id" missing' };
        if (!engine.ack(dev, id, payload.value.receivedAt))
          return { code: E.INVALID_REQUEST, message: 'unknown decision_id for this device' };
        return { $case: 'decisionAck', value: { decisionId: id } };
      }
      case 'decisionOutcome':
        return this.#decide(dev, payload.value);
      case 'revokeDevice':
        return this.#revoke(dev, payload.value);
      case 'rotateDeviceKeys':
        return this.#rotate(dev, payload.value, req.timestamp);
    }
  }

  #checkSession(req: device.DeviceRequest, strict: boolean): DeviceRecord | Refusal {
    const auth = this.#auth;
    if (!auth)
      return { code: E.UNAUTHORIZED, message: 'not authenticated: send authenticate or register_device first' };
    const given = req.sessionId ?? '';
    if (given === '' && strict) return { code: E.UNAUTHORIZED, message: '"session_id" missing' };
    if (given !== '' && !bytesEqual(Buffer.from(given), Buffer.from(auth.sessionId))) {
      return { code: E.UNAUTHORIZED, message: '"session_id" is not the session of this connection' };
    }
    if (req.deviceId !== undefined && req.deviceId !== '' && req.deviceId !== auth.deviceId) {
      return { code: E.UNAUTHORIZED, message: '"device_id" does not match the session' };
    }
    const dev = this.#ctx.store.devices.get(auth.deviceId);
    if (!dev) return { code: E.DEVICE_NOT_FOUND, message: 'device not found' };
    if (dev.revokedAt !== undefined) return { code: E.DEVICE_REVOKED, message: 'device revoked' };
    return dev;
  }

  #decide(dev: DeviceRecord, o: device.DecisionOutcome): Answer {
    if (o.decisionId === '') return { code: E.INVALID_REQUEST, message: '"decision_outcome.decision_id" missing' };
    const value =
      o.outcome === device.DecisionOutcomeValue.APPROVE
        ? 'APPROVED'
        : o.outcome === device.DecisionOutcomeValue.REJECT
          ? 'REJECTED'
          : undefined;
    if (!value)
      return {
        code: E.INVALID_REQUEST,
        message: `"decision_outcome.outcome" expected APPROVE (0) or REJECT (1), got ${o.outcome}`,
      };
    const signed = signedOutcomeOf(o);
    if (signed && 'code' in signed) return signed;
    const result = this.#ctx.engine.decide(dev, o.decisionId, value, o.receivedAt, signed);
    if (result.kind === 'unknown') return { code: E.INVALID_REQUEST, message: 'unknown decision_id for this device' };
    if (result.kind === 'expired') return { code: E.INVALID_REQUEST, message: 'decision expired' };
    const outcome =
      result.outcome === 'APPROVED' ? device.DecisionOutcomeValue.APPROVE : device.DecisionOutcomeValue.REJECT;
    return { $case: 'decisionOutcome', value: { decisionId: o.decisionId, outcome } };
  }

  #revoke(dev: DeviceRecord, r: device.RevokeDevice): Answer {
    // The Ed25519 signature cannot be verified (docs/protocol.md §5.8: its timestamp and random
    // bytes are never sent); the authenticated connection is the proof.
    if (r.walletAddress !== '' && r.walletAddress !== dev.identityId) {
      return { code: E.INVALID_REQUEST, message: '"revoke_device.wallet_address" is not the identity of this device' };
    }
    const { store, now, engine } = this.#ctx;
    store.transaction(() => {
      const t = now();
      if (store.devices.revoke(dev.deviceId, t))
        store.decisions.audit(t, dev.appId, undefined, dev.deviceId, 'device.revoked');
    });
    engine.revoked(dev);
    this.#subscribedAs = undefined;
    this.#drainRun++;
    this.#auth = undefined;
    return { $case: 'revokeDevice', value: { revokedDeviceId: dev.deviceId } };
  }

  #rotate(dev: DeviceRecord, r: device.RotateDeviceKeys, timestamp: bigint): Answer {
    const keys = checkDeviceKeys(r.newPubkeys, 'rotate_device_keys.new_pubkeys');
    if (isRefusal(keys)) return keys;
    const claimed = r.identityId !== '' ? r.identityId : (r.walletAddress ?? '');
    if (claimed !== '' && claimed !== dev.identityId) {
      return {
        code: E.INVALID_REQUEST,
        message: '"rotate_device_keys.identity_id" is not the identity of this device',
      };
    }
    const announced = checkRotationProof(dev, r, keys, timestamp, this.#policy);
    if (announced && isRefusal(announced)) return announced;
    const { store, now } = this.#ctx;
    return store.transaction((): Answer => {
      const clash =
        store.devices.byPublicKey(dev.appId, keys.publicKey) ??
        store.devices.byPqPublicKey(dev.appId, keys.pqPublicKey);
      if (clash && clash.deviceId !== dev.deviceId) {
        return {
          code: E.INVALID_REQUEST,
          message: '"rotate_device_keys.new_pubkeys" are registered to another device',
        };
      }
      const t = now();
      if (!store.devices.rotate(dev.deviceId, keys.publicKey, keys.pqPublicKey, t))
        return { code: E.DEVICE_REVOKED, message: 'device revoked' };
      if (announced) store.devices.addRotation(dev.deviceId, announced);
      store.decisions.audit(t, dev.appId, undefined, dev.deviceId, 'device.rotated');
      return { $case: 'rotateDeviceKeys', value: { rotatedAt: BigInt(t) } };
    });
  }

  #drain(): void {
    const auth = this.#auth;
    if (!auth) return;
    const dev = this.#ctx.store.devices.get(auth.deviceId);
    if (!dev || dev.revokedAt !== undefined) return;
    if (this.#subscribedAs && this.#subscribedAs !== dev.deviceId) this.#unsubscribe();
    this.#subscribedAs = dev.deviceId;
    const run = ++this.#drainRun;
    this.#nextPage(dev.deviceId, run, this.#ctx.engine.subscribe(dev, this));
  }

  // The paged re-send: the next page once this page's events (written after its commit) have
  // left the connection's backlog, so one subscribe never buffers more than about a page.
  #nextPage(deviceId: string, run: number, cursor: number | undefined): void {
    if (cursor === undefined) return;
    const { store, engine } = this.#ctx;
    const current = () => !this.#closed && run === this.#drainRun && this.#subscribedAs === deviceId;
    store.afterCommit(() => {
      if (!current()) return;
      this.#transport.whenWritable(() => {
        if (!current()) return;
        const dev = store.devices.get(deviceId);
        if (!dev || dev.revokedAt !== undefined) return;
        this.#nextPage(deviceId, run, engine.drainPage(dev, this, cursor));
      });
    });
  }

  #unsubscribe(): void {
    if (this.#subscribedAs) this.#ctx.engine.unsubscribe(this.#subscribedAs, this);
    this.#subscribedAs = undefined;
    this.#drainRun++;
  }
}
