/**
 * The gRPC channel to a relay: one channel per client, a deadline on every call, the bearer
 * token in metadata, keepalive, cancellation by AbortSignal (docs/protocol.md §1.4, §4.4).
 * Retries live in retry.ts; status mapping in grpc-errors.ts.
 * @module
 */
import {
  credentials,
  Metadata,
  status,
  type CallOptions,
  type ChannelCredentials,
  type ClientUnaryCall,
  type ServiceError,
} from '@grpc/grpc-js';
import { agent, push } from '@noxy-approval/proto';
import { parseEndpoint } from './endpoint.js';
import { abortError, NoxyError } from './errors.js';
import { toNoxyError } from './grpc-errors.js';

/** Channel options shared by the agent and push stubs (same target → one connection). */
const CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  // Retries are ours (same request_id, pushback, budget): grpc-js must not add its own.
  'grpc.enable_retries': 0,
  'grpc.primary_user_agent': 'noxy-approval-core/0.1',
};

/** Options of {@link createTransport}. */
export interface TransportOptions {
  endpoint: string;
  authToken: string;
  /** PEM root certificates replacing the system roots (e.g. a self-hosted relay's CA). */
  rootCerts?: Uint8Array;
}

type Callback<Res> = (err: ServiceError | null, res?: Res) => void;
type Unary<Req, Res> = (req: Req, md: Metadata, opts: Partial<CallOptions>, cb: Callback<Res>) => ClientUnaryCall;

/** Per-call options. */
export interface CallSettings {
  /** Deadline of this attempt in ms. */
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  /**
   * Queue the call until the channel is connected (up to `timeoutMs`) instead of failing it at
   * once while grpc-js waits out its reconnect backoff (~1 s after a failed connect).
   */
  waitForReady?: boolean;
  /** Extra request metadata of this call (e.g. the wait hint, docs/protocol.md §12). */
  metadata?: Record<string, string>;
  /** Called with the response headers when they arrive (before the answer). */
  onHeaders?: (headers: { get(key: string): string | undefined }) => void;
  /**
   * Fail the call as timed out (`RELAY_UNAVAILABLE`) when the response headers have not come
   * within this many ms, however long its deadline: a held call's deadline is long, but a relay
   * that holds it says so at once, and one that answers at once sends them with the answer.
   */
  headersWithinMs?: number;
}

/** A unary RPC bound to the channel, the token and error mapping. */
export type UnaryRpc<Req, Res> = (request: Req, settings: CallSettings) => Promise<Res>;

/** The relay connection used by the client. */
export interface Transport {
  routeDecision: UnaryRpc<agent.RouteDecisionRequest, agent.DeliveryOutcome>;
  getDecisionOutcome: UnaryRpc<agent.GetDecisionOutcomeRequest, agent.GetDecisionOutcomeResponse>;
  getQuota: UnaryRpc<agent.GetQuotaRequest, agent.GetQuotaResponse>;
  getIdentityDevices: UnaryRpc<agent.GetIdentityDevicesRequest, agent.GetIdentityDevicesResponse>;
  pushNotification: UnaryRpc<push.PushNotificationRequest, push.PushResponse>;
  /** Cancels in-flight calls and closes the channel. */
  close(): void;
}

/**
 * Opens (lazily — grpc-js connects on the first call) the channel to the relay.
 * @throws NoxyError `INVALID_ARGUMENT` for a bad endpoint
 */
export function createTransport(options: TransportOptions): Transport {
  const endpoint = parseEndpoint(options.endpoint);
  const creds: ChannelCredentials = endpoint.tls
    ? credentials.createSsl(options.rootCerts ? Buffer.from(options.rootCerts) : null)
    : credentials.createInsecure();
  const agentClient = new agent.AgentServiceClient(endpoint.target, creds, CHANNEL_OPTIONS);
  // Same target, credentials and options: grpc-js shares the subchannel between both stubs.
  const pushClient = new push.PushServiceClient(endpoint.target, creds, CHANNEL_OPTIONS);
  const token = options.authToken;
  const metadata = new Metadata();
  metadata.set('authorization', `Bearer ${token}`);
  const inFlight = new Set<ClientUnaryCall>();
  let closed = false;

  function bind<Req, Res>(name: string, fn: Unary<Req, Res>, self: object): UnaryRpc<Req, Res> {
    const method = fn.bind(self) as Unary<Req, Res>;
    return (request, { timeoutMs, signal, waitForReady, metadata: extra, onHeaders, headersWithinMs }) =>
      new Promise<Res>((resolve, reject) => {
        if (closed) return reject(new NoxyError('CLOSED', `${name} failed: the client is closed`));
        if (signal?.aborted) return reject(abortError(signal));
        let headerTimer: ReturnType<typeof setTimeout> | undefined;
        const onAbort = () => {
          clearTimeout(headerTimer);
          call.cancel();
          reject(abortError(signal));
        };
        const md = metadata.clone();
        for (const [key, value] of Object.entries(extra ?? {})) md.set(key, value);
        if (waitForReady) md.setOptions({ waitForReady: true });
        const call = method(request, md, { deadline: Date.now() + timeoutMs }, (err, res) => {
          clearTimeout(headerTimer);
          inFlight.delete(call);
          signal?.removeEventListener('abort', onAbort);
          if (signal?.aborted) return reject(abortError(signal));
          if (err)
            return reject(
              closed
                ? new NoxyError('CLOSED', `${name} failed: the client is closed`)
                : toNoxyError(err, name, token, options.endpoint),
            );
          if (res === undefined) return reject(new NoxyError('PROTOCOL', `${name} returned no message`));
          resolve(res);
        });
        inFlight.add(call);
        signal?.addEventListener('abort', onAbort, { once: true });
        if (onHeaders || headersWithinMs !== undefined) {
          call.once('metadata', (headers: Metadata) => {
            clearTimeout(headerTimer);
            onHeaders?.({
              get: (key) => {
                const value = headers.get(key)[0];
                return value === undefined ? undefined : value.toString();
              },
            });
          });
        }
        if (headersWithinMs !== undefined && headersWithinMs < timeoutMs) {
          headerTimer = setTimeout(() => {
            inFlight.delete(call);
            signal?.removeEventListener('abort', onAbort);
            call.cancel();
            // Reported as the deadline it stands for (same code, message and retry rules).
            const timedOut = Object.assign(new Error('no response headers'), {
              code: status.DEADLINE_EXCEEDED,
              details: `the relay sent no response headers within ${headersWithinMs} ms`,
              metadata: new Metadata(),
            });
            reject(toNoxyError(timedOut, name, token, options.endpoint));
          }, headersWithinMs);
        }
      });
  }

  return {
    routeDecision: bind(
      'RouteDecision',
      agentClient.routeDecision as Unary<agent.RouteDecisionRequest, agent.DeliveryOutcome>,
      agentClient,
    ),
    getDecisionOutcome: bind(
      'GetDecisionOutcome',
      agentClient.getDecisionOutcome as Unary<agent.GetDecisionOutcomeRequest, agent.GetDecisionOutcomeResponse>,
      agentClient,
    ),
    getQuota: bind(
      'GetQuota',
      agentClient.getQuota as Unary<agent.GetQuotaRequest, agent.GetQuotaResponse>,
      agentClient,
    ),
    getIdentityDevices: bind(
      'GetIdentityDevices',
      agentClient.getIdentityDevices as Unary<agent.GetIdentityDevicesRequest, agent.GetIdentityDevicesResponse>,
      agentClient,
    ),
    pushNotification: bind(
      'PushNotification',
      pushClient.pushNotification as Unary<push.PushNotificationRequest, push.PushResponse>,
      pushClient,
    ),
    close() {
      closed = true;
      for (const call of inFlight) call.cancel();
      inFlight.clear();
      agentClient.close();
      pushClient.close();
    },
  };
}
