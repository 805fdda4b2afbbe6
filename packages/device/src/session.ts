/**
 * One live connection to the relay: frames requests (docs/protocol.md §5.3: UUID request id, app
 * id, ms timestamp, 12 random nonce bytes, device and session ids once known) and matches each
 * response to its request by `request_id`, with a per-request timeout — the official SDKs have
 * none, so a request the relay never answers hangs them forever (§10.3).
 * @module
 */
import { NoxyError, type NoxyErrorCode } from '@noxy-approval/core/portable';
import { randomBytes, randomUuid } from './bytes.js';
import type { TransportConnection } from './transport.js';
import type {
  DeviceErrorCode,
  RequestPayload,
  ResponseFor,
  ResponsePayload,
  WireRequest,
  WireResponse,
} from './wire.js';

/** A request the relay answered with an `ErrorResponse`. */
export class DeviceRelayError extends NoxyError {
  /** The relay's `ErrorCode` name, e.g. `INVALID_SIGNATURE`. */
  readonly relayCode: DeviceErrorCode;

  constructor(relayCode: DeviceErrorCode, message: string, retryable: boolean) {
    super(
      RELAY_TO_NOXY[relayCode as keyof typeof RELAY_TO_NOXY] ?? 'RELAY_ERROR',
      `relay refused the request: ${relayCode}${message ? ` (${message})` : ''}`,
      {
        retryable,
      },
    );
    this.name = 'DeviceRelayError';
    this.relayCode = relayCode;
  }
}

const RELAY_TO_NOXY = {
  UNAUTHORIZED: 'UNAUTHENTICATED',
  INVALID_SIGNATURE: 'UNAUTHENTICATED',
  DEVICE_REVOKED: 'PERMISSION_DENIED',
  DEVICE_NOT_FOUND: 'NOT_FOUND',
  APP_NOT_FOUND: 'NOT_FOUND',
  APP_QUOTA_EXCEEDED: 'QUOTA_EXHAUSTED',
  RATE_LIMITED: 'RATE_LIMITED',
} as const satisfies Partial<Record<DeviceErrorCode, NoxyErrorCode>>;

/** Ids the relay issued for this connection. */
export interface SessionIds {
  deviceId: string;
  sessionId: string;
}

interface Pending {
  kind: RequestPayload['kind'];
  resolve(payload: ResponsePayload): void;
  reject(error: Error): void;
  timer: ReturnType<typeof setTimeout>;
}

/** Options of {@link Session}. */
export interface SessionOptions {
  appId: string;
  /** Per-request timeout in ms. */
  requestTimeoutMs: number;
  /** Clock (ms since epoch), injectable for tests. */
  now: () => number;
  /**
   * Signs the proof of a framed authenticate / register_device / rotate_device_keys request
   * (proofs.ts): it covers the request id, timestamp and nonce, so it is made here, per frame.
   */
  prove?: (request: WireRequest) => Uint8Array | undefined;
}

/**
 * Request/response matching over one {@link TransportConnection}. The owner feeds every
 * incoming response to {@link Session.handle}; responses that answer no pending request are
 * returned to the owner (decision events, soft-cancels, stray errors).
 */
export class Session {
  readonly #connection: TransportConnection;
  readonly #options: SessionOptions;
  readonly #pending = new Map<string, Pending>();
  #ids: SessionIds | undefined;
  #closed: NoxyError | undefined;

  constructor(connection: TransportConnection, options: SessionOptions) {
    this.#connection = connection;
    this.#options = options;
  }

  /** The device and session ids, once authenticated or registered. */
  get ids(): SessionIds | undefined {
    return this.#ids;
  }

  /** Records the ids from an authenticate/register answer; later requests carry them. */
  setIds(ids: SessionIds): void {
    this.#ids = ids;
  }

  /** Number of requests waiting for an answer. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /** Builds the request envelope for `payload` (exported for tests of the framing). */
  frame(payload: RequestPayload): WireRequest {
    const request: WireRequest = {
      requestId: randomUuid(),
      appId: this.#options.appId,
      timestamp: this.#options.now(),
      nonce: randomBytes(12),
      payload,
    };
    if (this.#ids) {
      request.deviceId = this.#ids.deviceId;
      request.sessionId = this.#ids.sessionId;
    }
    const k = payload.kind;
    if (this.#options.prove && (k === 'authenticate' || k === 'registerDevice' || k === 'rotateDeviceKeys')) {
      const proof = this.#options.prove(request);
      if (proof) request.payload = { ...payload, proof };
    }
    return request;
  }

  /**
   * Sends `payload` and resolves with the matching answer.
   * @throws DeviceRelayError when the relay answers with an error
   * @throws NoxyError `RELAY_UNAVAILABLE` on timeout or when the connection ends first,
   *   `PROTOCOL` when the answer is of the wrong kind
   */
  request<K extends RequestPayload['kind']>(payload: RequestPayload & { kind: K }): Promise<ResponseFor<K>> {
    if (this.#closed) return Promise.reject(this.#closed);
    const request = this.frame(payload);
    return new Promise<ResponseFor<K>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(request.requestId);
        reject(
          new NoxyError(
            'RELAY_UNAVAILABLE',
            `the relay did not answer ${payload.kind} within ${this.#options.requestTimeoutMs} ms`,
            { retryable: true },
          ),
        );
      }, this.#options.requestTimeoutMs);
      this.#pending.set(request.requestId, {
        kind: payload.kind,
        resolve: resolve as (p: ResponsePayload) => void,
        reject,
        timer,
      });
      try {
        this.#connection.send(request);
      } catch (error) {
        clearTimeout(timer);
        this.#pending.delete(request.requestId);
        reject(error);
      }
    });
  }

  /**
   * Routes an incoming response to its pending request.
   * @returns `undefined` when consumed, else the response for the owner to handle
   */
  handle(response: WireResponse): WireResponse | undefined {
    const kind = response.payload?.kind;
    // Decision events and soft-cancels are unsolicited; their request_id means nothing (§10.7).
    if (kind === 'decisionEvent' || kind === 'decisionRouted') return response;
    const pending = this.#pending.get(response.requestId);
    if (!pending) return response;
    this.#pending.delete(response.requestId);
    clearTimeout(pending.timer);
    const payload = response.payload;
    if (payload?.kind === 'error')
      pending.reject(new DeviceRelayError(payload.code, payload.message, payload.retryable));
    else if (payload?.kind === pending.kind) pending.resolve(payload);
    else {
      pending.reject(
        new NoxyError('PROTOCOL', `the relay answered ${pending.kind} with ${payload?.kind ?? 'an empty response'}`),
      );
    }
    return undefined;
  }

  /** Fails every pending request with `reason` and closes the connection. Idempotent. */
  close(reason: NoxyError): void {
    if (this.#closed) return;
    this.#closed = reason;
    for (const [id, p] of this.#pending) {
      clearTimeout(p.timer);
      this.#pending.delete(id);
      p.reject(reason);
    }
    this.#connection.close();
  }
}
