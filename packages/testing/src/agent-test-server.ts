/**
 * A test-only Noxy relay on loopback: a grpc-js `Server` bound to `127.0.0.1:0` that implements
 * `noxy.agent.AgentService` and `noxy.push.PushService` well enough to test the agent client
 * over real HTTP/2. It keeps a table of devices per identity (real ML-KEM-768 keys, so a test
 * can decrypt what the client sent), records every call with its metadata, deduplicates
 * RouteDecision / PushNotification by `request_id` like a real relay, and can be scripted to
 * fail, delay, commit-then-drop, or answer a given outcome at a given time.
 *
 * Also {@link startBlackhole}: a TCP server that accepts connections and never speaks HTTP/2.
 * @module
 */
import { createServer, type Socket } from 'node:net';
import { Metadata, Server, ServerCredentials, status, type sendUnaryData, type ServerUnaryCall } from '@grpc/grpc-js';
import { loadKemBackend } from '@noxy-approval/core';
import { agent, push } from '@noxy-approval/proto';

/** The RPCs of both services; the push service's quota/devices calls are prefixed `Push`. */
export type MethodName =
  | 'RouteDecision'
  | 'GetDecisionOutcome'
  | 'GetQuota'
  | 'GetIdentityDevices'
  | 'PushNotification'
  | 'PushGetQuota'
  | 'PushGetIdentityDevices';

/** A device of the table, with its ML-KEM-768 secret key when the server generated it. */
export interface TestDevice extends Omit<agent.IdentityDevice, 'keyRotations'> {
  secretKey?: Uint8Array;
  /** Announced key rotations (noxy-approval extension), oldest first. */
  keyRotations?: agent.KeyRotation[];
}

/** One call as the server saw it. */
export interface RecordedCall {
  method: MethodName;
  /** The decoded request message. */
  request: Record<string, unknown>;
  /** The `authorization` metadata value, if any. */
  authorization: string | undefined;
  metadata: Metadata;
  /** `now()` when the call arrived. */
  at: number;
  /** Set when the client cancelled the call (deadline or `call.cancel()`). */
  cancelled: boolean;
}

/** A scripted failure: the status to answer, trailers, and whether to store the request first. */
export interface Failure {
  code: status;
  details?: string;
  /** Trailing metadata, e.g. `{ 'grpc-retry-pushback-ms': '1500', 'noxy-error': 'RATE_LIMITED' }`. */
  trailers?: Record<string, string>;
  /** Commit-then-drop: store (and dedup) the request as on success, then answer `code`. */
  commit?: boolean;
  /** Only calls whose request matches fail (e.g. one target device). */
  where?: (request: Record<string, unknown>) => boolean;
}

/** One step of a decision's scripted outcome: from time `at` on, answer `outcome`/`pending`. */
export interface OutcomeStep {
  at?: number;
  outcome: agent.DecisionOutcome | number;
  /** Defaults to `outcome === PENDING`. */
  pending?: boolean;
  /**
   * The signed-outcome extension fields to answer with (`device_signature`, `device_id`, …), so a
   * test can play a relay that forwards, forges or replays device signatures.
   */
  signed?: Partial<Omit<agent.GetDecisionOutcomeResponse, 'requestId' | 'pending' | 'outcome'>>;
}

/** Options of {@link AgentTestServer.start}. */
export interface TestServerOptions {
  /** Time source for `RecordedCall.at` and outcome steps (default `Date.now`). */
  now?: () => number;
}

type Handler = (req: Record<string, unknown>, call: ServerUnaryCall<unknown, unknown>) => unknown;

/** The loopback test relay. Create with {@link AgentTestServer.start}; always `close()` it. */
export class AgentTestServer {
  /** Every call, in arrival order. */
  readonly calls: RecordedCall[] = [];
  /** Devices per identity id (byte-exact). */
  readonly devices = new Map<string, TestDevice[]>();
  /** Stored RouteDecision / PushNotification requests, one per request_id. */
  readonly stored = new Map<string, Record<string, unknown>>();
  /** Answer of GetQuota. */
  quota: agent.GetQuotaResponse = {
    requestId: '',
    appName: 'test-app',
    quotaTotal: 1000n,
    quotaRemaining: 998n,
    status: agent.QuotaStatus.QUOTA_ACTIVE,
  };
  /** DeliveryStatus answered for a stored route (default DELIVERED). */
  routeStatus: (request: Record<string, unknown>) => number = () => agent.DeliveryStatus.DELIVERED;
  private readonly failures = new Map<MethodName, { failure: Failure; left: number }[]>();
  private readonly delays = new Map<MethodName, number>();
  private readonly outcomes = new Map<string, OutcomeStep[]>();
  private readonly now: () => number;

  private constructor(
    private readonly server: Server,
    /** `http://127.0.0.1:<port>`, ready for `createNoxyClient({ endpoint })`. */
    readonly endpoint: string,
    options: TestServerOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Starts a server on an ephemeral loopback port. */
  static async start(options: TestServerOptions = {}): Promise<AgentTestServer> {
    const server = new Server();
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    const self = new AgentTestServer(server, `http://127.0.0.1:${port}`, options);
    const route = (_method: MethodName) => (req: Record<string, unknown>) => {
      const requestId = String(req.requestId);
      if (!self.stored.has(requestId)) self.stored.set(requestId, req);
      const first = self.stored.get(requestId)!;
      return { status: self.routeStatus(first), requestId, decisionId: first.decisionId ?? '' };
    };
    const quota = () => self.quota;
    const devices = (req: Record<string, unknown>) => {
      const list = self.devices.get(String(req.identityId)) ?? [];
      return {
        requestId: req.requestId,
        devices: list.map(({ deviceId, publicKey, pqPublicKey, keyRotations, deviceProof }) => ({
          deviceId,
          publicKey,
          pqPublicKey,
          keyRotations: keyRotations ?? [],
          ...(deviceProof !== undefined ? { deviceProof } : {}),
        })),
      };
    };
    const outcome = (req: Record<string, unknown>) => {
      const steps = self.outcomes.get(String(req.decisionId));
      const routed = [...self.stored.values()].some((r) => r.decisionId === req.decisionId);
      if (!steps && !routed) throw { code: status.NOT_FOUND, details: 'unknown decision' };
      const now = self.now();
      const step = (steps ?? []).filter((s) => (s.at ?? -Infinity) <= now).at(-1) ?? {
        outcome: agent.DecisionOutcome.DECISION_OUTCOME_PENDING,
      };
      const pending = step.pending ?? step.outcome === agent.DecisionOutcome.DECISION_OUTCOME_PENDING;
      return { requestId: req.requestId, pending, outcome: step.outcome, ...step.signed };
    };
    server.addService(agent.AgentServiceService, {
      routeDecision: self.handle('RouteDecision', route('RouteDecision')),
      getDecisionOutcome: self.handle('GetDecisionOutcome', outcome),
      getQuota: self.handle('GetQuota', quota),
      getIdentityDevices: self.handle('GetIdentityDevices', devices),
    });
    server.addService(push.PushServiceService, {
      pushNotification: self.handle('PushNotification', route('PushNotification')),
      getQuota: self.handle('PushGetQuota', quota),
      getIdentityDevices: self.handle('PushGetIdentityDevices', devices),
    });
    return self;
  }

  /**
   * Registers `count` devices with fresh ML-KEM-768 key pairs for `identityId`.
   * @returns the devices, with their secret keys
   */
  async addDevices(identityId: string, count: number): Promise<TestDevice[]> {
    const kem = await loadKemBackend('mlkem');
    const list = this.devices.get(identityId) ?? [];
    for (let i = 0; i < count; i++) {
      const { publicKey, secretKey } = kem.generateKeyPair();
      const deviceId = `dev-${list.length + 1}`;
      list.push({
        deviceId,
        publicKey: Buffer.alloc(32, list.length + 1),
        pqPublicKey: Buffer.from(publicKey),
        secretKey,
      });
    }
    this.devices.set(identityId, list);
    return list;
  }

  /** Makes the next `times` calls of `method` (matching `failure.where`, if set) fail. */
  failNext(method: MethodName, failure: Failure, times = 1): void {
    const list = this.failures.get(method) ?? [];
    list.push({ failure, left: times });
    this.failures.set(method, list);
  }

  /** Delays every answer of `method` by `ms` (a cancelled call is never answered). */
  delay(method: MethodName, ms: number): void {
    this.delays.set(method, ms);
  }

  /** Scripts the outcome of a decision (also makes a never-routed decision id known). */
  setOutcome(decisionId: string, steps: OutcomeStep[]): void {
    this.outcomes.set(decisionId, steps);
  }

  /** Recorded calls of one method. */
  callsTo(method: MethodName): RecordedCall[] {
    return this.calls.filter((c) => c.method === method);
  }

  /** Stops the server at once, cancelling open calls. */
  close(): Promise<void> {
    this.server.forceShutdown();
    return Promise.resolve();
  }

  private takeFailure(method: MethodName, req: Record<string, unknown>): Failure | undefined {
    const list = this.failures.get(method) ?? [];
    const entry = list.find((e) => e.left > 0 && (!e.failure.where || e.failure.where(req)));
    if (entry) entry.left--;
    return entry?.failure;
  }

  private handle(method: MethodName, answer: Handler) {
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const request = call.request as Record<string, unknown>;
      const auth = call.metadata.get('authorization')[0];
      const record: RecordedCall = {
        method,
        request,
        authorization: auth?.toString(),
        metadata: call.metadata,
        at: this.now(),
        cancelled: false,
      };
      this.calls.push(record);
      call.on('cancelled', () => (record.cancelled = true));
      const reply = () => {
        if (record.cancelled) return;
        const failure = this.takeFailure(method, request);
        try {
          if (failure?.commit) answer(request, call);
          if (failure) {
            const trailers = new Metadata();
            for (const [k, v] of Object.entries(failure.trailers ?? {})) trailers.set(k, v);
            return callback({
              code: failure.code,
              details: failure.details ?? status[failure.code],
              metadata: trailers,
            });
          }
          callback(null, answer(request, call));
        } catch (err) {
          callback(err as { code: status; details: string });
        }
      };
      const ms = this.delays.get(method) ?? 0;
      if (ms > 0) setTimeout(reply, ms);
      else reply();
    };
  }
}

/** A TCP listener that accepts and then stays silent (no HTTP/2 SETTINGS, ever). */
export interface Blackhole {
  /** `http://127.0.0.1:<port>`. */
  endpoint: string;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections still open. */
  readonly open: number;
  /** Destroys every socket and stops listening. */
  close(): Promise<void>;
}

/** Starts a {@link Blackhole} on an ephemeral loopback port. */
export async function startBlackhole(): Promise<Blackhole> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    get accepted() {
      return accepted;
    },
    get open() {
      return sockets.size;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
