/**
 * A raw device client on the generated gRPC stubs, for the relay's tests and benchmarks. It
 * speaks the wire directly (no retries, no crypto) so tests see exactly what the relay sends.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { device } from '@noxy-approval/proto';
import { registrationMac, type MacFields } from './registration-mac.js';

type Payload = NonNullable<device.DeviceRequest['payload']>;
type Waiter = { match: (r: device.DeviceResponse) => boolean; resolve: (r: device.DeviceResponse) => void };

/** Default wait for an answer or event. */
const WAIT_MS = 5_000;

/**
 * Converts a relay URL (`http://host:port`) to a grpc-js target (`host:port`).
 * @param url the relay's gRPC URL
 */
export function grpcTargetOf(url: string): string {
  return new URL(url).host;
}

/** Options of {@link RawGrpcDevice}. */
export interface RawDeviceOptions {
  /** Keep every response in `received` (default true; benchmarks turn it off). */
  history?: boolean;
  /** Open a dedicated TCP connection instead of sharing grpc-js's pooled one. */
  ownConnection?: boolean;
}

/** A raw `HandleMessage` stream. */
export class RawGrpcDevice {
  readonly client: device.DeviceServiceClient;
  readonly stream: ClientDuplexStream<device.DeviceRequest, device.DeviceResponse>;
  /** Every response received, in order. */
  readonly received: device.DeviceResponse[] = [];
  readonly appId: string;
  deviceId: string | undefined;
  sessionId: string | undefined;
  /** Clock used for request timestamps. */
  now: () => number;
  #waiters: Waiter[] = [];
  #ended = false;

  /**
   * Opens a stream to the relay.
   * @param grpcUrl `http://127.0.0.1:port`
   * @param appId sent on every request
   * @param now clock for timestamps (the relay's injected clock in tests)
   */
  constructor(grpcUrl: string, appId: string, now: () => number = Date.now, options: RawDeviceOptions = {}) {
    this.appId = appId;
    this.now = now;
    // A private subchannel pool gives each device its own TCP connection, like real devices.
    const channelOptions = options.ownConnection ? { 'grpc.use_local_subchannel_pool': 1 } : {};
    this.client = new device.DeviceServiceClient(grpcTargetOf(grpcUrl), credentials.createInsecure(), channelOptions);
    this.stream = this.client.handleMessage();
    const keep = options.history ?? true;
    this.stream.on('data', (r: device.DeviceResponse) => {
      if (keep) this.received.push(r);
      const i = this.#waiters.findIndex((w) => w.match(r));
      if (i >= 0) this.#waiters.splice(i, 1)[0]!.resolve(r);
    });
    this.stream.on('error', () => {
      this.#ended = true;
    });
    this.stream.on('end', () => {
      this.#ended = true;
    });
  }

  /** True once the relay ended the stream. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Waits for a response matching `match` (already received ones count, oldest first, once).
   * @param timeoutMs fails after this long
   */
  waitFor(match: (r: device.DeviceResponse) => boolean, timeoutMs = WAIT_MS, skip = 0): Promise<device.DeviceResponse> {
    const seen = this.received.filter(match)[skip];
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`no matching device response within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        match,
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  /** Writes a request as given. */
  write(request: device.DeviceRequest): void {
    this.stream.write(request);
  }

  /**
   * Sends a request with fresh request id, timestamp and nonce (and the session ids) and
   * waits for the answer with the same request id.
   * @param overrides envelope fields to force (e.g. a stale timestamp)
   */
  request(payload: Payload, overrides: Partial<device.DeviceRequest> = {}): Promise<device.DeviceResponse> {
    const request: device.DeviceRequest = {
      requestId: randomUUID(),
      appId: this.appId,
      deviceId: this.deviceId,
      sessionId: this.sessionId,
      timestamp: BigInt(this.now()),
      nonce: randomBytes(12),
      payload,
      ...overrides,
    };
    const answer = this.waitFor((r) => r.requestId === request.requestId);
    this.write(request);
    return answer;
  }

  /** Authenticates; stores the session on success. */
  async authenticate(keys: { publicKey: Buffer; pqPublicKey: Buffer }): Promise<device.DeviceResponse> {
    const r = await this.request({ $case: 'authenticate', value: { devicePubkeys: keys } });
    if (r.payload?.$case === 'authenticate' && r.payload.value.sessionId) {
      this.deviceId = r.payload.value.deviceId;
      this.sessionId = r.payload.value.sessionId;
    }
    return r;
  }

  /**
   * Registers with the HMAC keyed by `key` (app signing secret or pairing code); stores the
   * session on success. Wallets go in `wallet_address`, other kinds in `identity_id`.
   */
  async register(key: string, f: Omit<MacFields, 'appId'>, signature?: Buffer): Promise<device.DeviceResponse> {
    const mac = signature ?? registrationMac(key, { ...f, appId: this.appId });
    const identityType = ['wallet', 'email', 'phone', 'user_id'].indexOf(f.identityType) as device.IdentityType;
    const wallet = f.identityType === 'wallet';
    const r = await this.request({
      $case: 'registerDevice',
      value: {
        devicePubkeys: { publicKey: Buffer.from(f.publicKey), pqPublicKey: Buffer.from(f.pqPublicKey) },
        walletAddress: wallet ? f.identityId : undefined,
        identityId: wallet ? '' : f.identityId,
        identityType,
        signature: mac,
        type: f.deviceType,
      },
    });
    if (r.payload?.$case === 'registerDevice') {
      this.deviceId = r.payload.value.deviceId;
      this.sessionId = r.payload.value.sessionId;
    }
    return r;
  }

  /** Subscribes to decisions. */
  subscribe(): Promise<device.DeviceResponse> {
    return this.request({ $case: 'subscribeDecisions', value: { subscribe: true } });
  }

  /** Acks delivery of a decision. */
  ack(decisionId: string): Promise<device.DeviceResponse> {
    return this.request({ $case: 'decisionAck', value: { decisionId, receivedAt: BigInt(this.now()) } });
  }

  /** Answers a decision. */
  outcome(decisionId: string, value: 'APPROVE' | 'REJECT'): Promise<device.DeviceResponse> {
    const outcome = value === 'APPROVE' ? device.DecisionOutcomeValue.APPROVE : device.DecisionOutcomeValue.REJECT;
    return this.request({ $case: 'decisionOutcome', value: { decisionId, outcome, receivedAt: BigInt(this.now()) } });
  }

  /** Waits for the `skip`-th decision event with this message id (or any when omitted). */
  nextEvent(decisionId?: string, timeoutMs = WAIT_MS, skip = 0): Promise<device.DeviceResponse> {
    return this.waitFor(
      (r) => r.payload?.$case === 'decisionEvent' && (decisionId === undefined || r.messageId === decisionId),
      timeoutMs,
      skip,
    );
  }

  /** Events received so far (decision_event and decision_routed). */
  events(kind: 'decisionEvent' | 'decisionRouted'): device.DeviceResponse[] {
    return this.received.filter((r) => r.payload?.$case === kind);
  }

  /** Half-closes the stream and closes the channel. */
  close(): void {
    this.stream.end();
    this.client.close();
  }
}
