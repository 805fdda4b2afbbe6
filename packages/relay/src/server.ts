/**
 * `startRelay`: wires the store, the lifecycle engine, the gRPC server (Agent API, v1 push API,
 * device stream) and the HTTP server (WebSocket Client API) together, and shuts them down
 * gracefully.
 * @module
 */
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { agent, device, push } from '@noxy-approval/proto';
import {
  createApp,
  createPairing,
  relayStatus,
  type CreateAppOptions,
  type CreatedApp,
  type CreatePairingOptions,
  type Pairing,
  type RelayStatus,
} from './admin.js';
import { agentServiceImpl, pushServiceImpl, type AgentContext } from './agent-service.js';
import { deviceServiceImpl } from './device-grpc.js';
import type { SessionContext } from './device-session.js';
import { DecisionEngine } from './engine.js';
import { assertWebRoot, secureDataDir } from './data-dir.js';
import { installGrpcLogRedaction } from './grpc-log.js';
import { withFaults } from './faults.js';
import { tolerantService } from './grpc-util.js';
import { HeldCalls, MAX_WAIT_HINT_MS } from './held-calls.js';
import { createHttpServer } from './http-server.js';
import { LiveRegistry } from './live-registry.js';
import { exposureWarning, resolveOptions, type RelayOptions, type ResolvedOptions } from './options.js';
import { KeyedRateLimiter, SlotLimiter } from './rate-limit.js';
import { ReplayGuard } from './replay.js';
import { RelayStore } from './store/index.js';
import { attachWsGateway } from './ws-gateway.js';

/** A running relay. */
export interface Relay {
  /** gRPC URL for agents and gRPC devices, e.g. `http://127.0.0.1:7070` (`https://` with TLS). */
  readonly grpcUrl: string;
  /** HTTP URL of the WebSocket Client API and web root, e.g. `http://127.0.0.1:7071`. */
  readonly httpUrl: string;
  /** WebSocket URL for devices, e.g. `ws://127.0.0.1:7071/`. */
  readonly wsUrl: string;
  /** The bound gRPC and HTTP ports. */
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The store (tests inspect it; never hand it to untrusted code: it holds secrets). */
  readonly store: RelayStore;
  /** The relay clock. */
  readonly now: () => number;
  /** Creates an app; default quota from `defaultQuotaTotal`. Token and secret are returned once. */
  createApp(options: CreateAppOptions): CreatedApp;
  /**
   * Creates a one-time pairing code for (app, identity): the `noxy://` link for `noxy-device pair`
   * and the `webLink` (`<httpUrl>/#pair=…`) that opens the web approval page served here.
   */
  createPairing(options: CreatePairingOptions): Pairing;
  /** Counts of apps, devices and decisions. */
  status(): RelayStatus;
  /** Expires due decisions now (the sweep timer does this every `sweepIntervalMs`). */
  sweepExpired(): number;
  /** Number of devices with a live subscription. */
  liveDevices(): number;
  /** Authenticated sessions of one device right now (capped: outbox.ts MAX_SESSIONS_PER_DEVICE). */
  deviceSessions(deviceId: string): number;
  /** GetDecisionOutcome calls held by the wait hint right now (docs/protocol.md §12). */
  heldCalls(): number;
  /** Stops accepting, ends device connections, lets in-flight calls finish, closes the store. */
  close(): Promise<void>;
}

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

function bindGrpc(server: Server, address: string, credentials: ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port)));
  });
}

function listenHttp(server: ReturnType<typeof createHttpServer>, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function grpcServer(o: ResolvedOptions): Server {
  return new Server({
    // Official device SDKs ping every 30 s, also between calls (docs/protocol.md §10.7).
    'grpc.keepalive_permit_without_calls': 1,
    'grpc.http2.min_ping_interval_without_data_ms': 10_000,
    // The relay pings idle connections so half-open device streams are noticed and dropped.
    'grpc.keepalive_time_ms': 60_000,
    'grpc.keepalive_timeout_ms': 20_000,
    'grpc.max_receive_message_length': o.maxCiphertextBytes + 64 * 1024,
  });
}

/**
 * Starts a local relay.
 * @throws NoxyError `INVALID_ARGUMENT` for a bad option; Error when a port cannot be bound
 * @example
 * const relay = await startRelay({ dataDir: ':memory:' });
 * const { appId, appToken, signingSecret } = relay.createApp({ name: 'demo' });
 * // … agents use relay.grpcUrl with appToken; devices register with signingSecret …
 * await relay.close();
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  // Before any server exists: grpc-js's trace (GRPC_TRACE) would print agents' bearer tokens.
  installGrpcLogRedaction();
  const o = resolveOptions(options);
  const { logger, now } = o;
  const warning = exposureWarning(o.host, o.tls !== undefined);
  if (warning) logger.warn(warning);
  // A web root given explicitly must exist: refused now rather than a 404 for every page.
  if (o.webRoot !== undefined && !o.defaultWebRoot) assertWebRoot(o.webRoot);
  if (o.dataDir !== ':memory:') {
    const { tightenedFrom } = secureDataDir(resolve(o.dataDir));
    if (tightenedFrom !== undefined)
      logger.warn('data folder made owner-only (it holds signing secrets)', {
        dataDir: resolve(o.dataDir),
        previousMode: `0${tightenedFrom.toString(8)}`,
      });
  }
  const store = RelayStore.open(o.dataDir);
  const live = new LiveRegistry();
  const engine = new DecisionEngine({
    store,
    live,
    now,
    logger,
    defaultTtlSeconds: o.defaultTtlSeconds,
    maxTtlSeconds: o.maxTtlSeconds,
    maxDrain: 10_000,
  });
  const sessionCtx: SessionContext = {
    store,
    engine,
    live,
    replay: new ReplayGuard(o.replayWindowMs, now),
    now,
    logger,
    devicePerSecond: o.devicePerSecond,
    requireDeviceProof: o.requireDeviceProof,
  };
  const agentCtx: AgentContext = {
    store,
    engine,
    now,
    logger,
    limiter: new KeyedRateLimiter(o.agentPerSecond, now),
    agentPerSecond: o.agentPerSecond,
    maxCiphertextBytes: o.maxCiphertextBytes,
    exposeDeviceSigningKeys: o.exposeDeviceSigningKeys,
    // Wait hint (docs/protocol.md §12): per app, what its bucket sustains over the longest hold.
    held: new HeldCalls(engine.waiters, new SlotLimiter(o.agentPerSecond * (MAX_WAIT_HINT_MS / 1000), 20_000)),
  };

  const streams = new Set<ServerDuplexStream<unknown, unknown>>();
  const grpc = grpcServer(o);
  grpc.addService(tolerantService(agent.AgentServiceService), withFaults(agentServiceImpl(agentCtx), options.faults));
  grpc.addService(tolerantService(push.PushServiceService), pushServiceImpl(agentCtx));
  grpc.addService(tolerantService(device.DeviceServiceService), deviceServiceImpl(sessionCtx, streams));
  const http = createHttpServer({
    tls: o.tls,
    ...(o.webRoot ? { webRoot: o.webRoot } : {}),
    defaultWebRoot: o.defaultWebRoot,
    host: o.host, // with allowedOrigins: the relay's own names for the Host check (own-origins.ts)
    allowedOrigins: o.allowedOrigins,
  });
  const ws = attachWsGateway(http, sessionCtx, { allowedOrigins: o.allowedOrigins, tls: o.tls !== undefined });

  let grpcPort: number;
  let httpPort: number;
  try {
    const credentials = o.tls
      ? ServerCredentials.createSsl(
          null,
          [{ cert_chain: Buffer.from(o.tls.cert), private_key: Buffer.from(o.tls.key) }],
          false,
        )
      : ServerCredentials.createInsecure();
    grpcPort = await bindGrpc(grpc, `${hostForUrl(o.host)}:${o.grpcPort}`, credentials);
    httpPort = await listenHttp(http, o.host, o.httpPort);
  } catch (error) {
    grpc.forceShutdown();
    http.close();
    store.close();
    throw error;
  }

  const sweep = setInterval(() => {
    try {
      engine.sweepExpired();
    } catch (error) {
      logger.error('expiry sweep failed', { error: error instanceof Error ? error.message : String(error) });
    }
  }, o.sweepIntervalMs);
  sweep.unref();

  const scheme = o.tls ? 'https' : 'http';
  const hostUrl = hostForUrl(o.host);
  const grpcUrl = `${scheme}://${hostUrl}:${grpcPort}`;
  const httpUrl = `${scheme}://${hostUrl}:${httpPort}`;
  const wsUrl = `${o.tls ? 'wss' : 'ws'}://${hostUrl}:${httpPort}/`;
  logger.info('relay listening', { grpcUrl, httpUrl, dataDir: o.dataDir });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      clearInterval(sweep);
      // Held GetDecisionOutcome calls are answered now (still pending), not cut at the grace's end.
      agentCtx.held.close();
      // 1. Stop accepting and end device connections (they reconnect to the next relay).
      const httpClosed = new Promise<void>((resolve) => http.close(() => resolve()));
      for (const call of streams) if (!call.writableEnded) call.end();
      await ws.close();
      // 2. Let in-flight agent calls finish (their writes are committed before they answer).
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          grpc.forceShutdown();
          resolve();
        }, o.shutdownGraceMs);
        force.unref();
        grpc.tryShutdown(() => {
          clearTimeout(force);
          resolve();
        });
      });
      http.closeAllConnections();
      await httpClosed;
      // 3. Nothing can write any more: checkpoint and close the database.
      store.close();
      logger.info('relay stopped');
    })());

  return {
    grpcUrl,
    httpUrl,
    wsUrl,
    grpcPort,
    httpPort,
    store,
    now,
    createApp: (opts) => createApp(store, now(), { ...opts, quotaTotal: opts?.quotaTotal ?? o.defaultQuotaTotal }),
    createPairing: (opts) => createPairing(store, now(), grpcUrl, opts, httpUrl),
    status: () => relayStatus(store, now()),
    sweepExpired: () => engine.sweepExpired(),
    liveDevices: () => live.size,
    deviceSessions: (deviceId) => live.sessionsOf(deviceId),
    heldCalls: () => agentCtx.held.size,
    close,
  };
}
