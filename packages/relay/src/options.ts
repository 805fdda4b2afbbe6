/**
 * Options of {@link startRelay} and their checks. Library code never reads `process.env`:
 * everything comes in here (the CLI maps flags onto these options).
 * @module
 */
import { isIP } from 'node:net';
import { isLoopbackHost } from '@noxy-approval/core';
import { webPageDir } from '@noxy-approval/device';
import { invalidOption } from './errors.js';
import type { RelayFaults } from './faults.js';
import { createConsoleLogger, type RelayLogger } from './logger.js';

/** Options of `startRelay`. */
export interface RelayOptions {
  /** Data folder (`<dataDir>/relay.db`, created 0700), or `':memory:'` for tests. Required. */
  dataDir: string;
  /** Bind address; default `127.0.0.1`. A non-loopback address without `tls` logs a warning. */
  host?: string;
  /** gRPC port (Agent API + device stream); default 0 = any free port. */
  grpcPort?: number;
  /** HTTP port (WebSocket Client API, /healthz, web root); default 0 = any free port. */
  httpPort?: number;
  /** TLS certificate and key (PEM) for both ports. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** The relay clock in ms (expiry, replay window, quota month, rate limits); default `Date.now`. */
  now?: () => number;
  /** Where log lines go; default warnings and errors on stderr. Never receives secrets. */
  logger?: RelayLogger;
  /** Token-bucket rates (docs/protocol.md §4.4). */
  rateLimits?: {
    /** Agent API calls per second per app; default 200. */
    agentPerSecond?: number;
    /** Device messages per second per connection; default 20. */
    devicePerSecond?: number;
  };
  /** Monthly quota of apps made by `relay.createApp` without one; default 10,000. */
  defaultQuotaTotal?: number;
  /** TTL for RouteDecision ttl_seconds = 0; default 600. */
  defaultTtlSeconds?: number;
  /** Longer TTLs are clamped to this; default 7 days. */
  maxTtlSeconds?: number;
  /** Allowed device clock skew (replay window); default 300,000 ms. */
  replayWindowMs?: number;
  /** How often open decisions are checked for expiry; default 1,000 ms (timer is unref'd). */
  sweepIntervalMs?: number;
  /** Largest RouteDecision ciphertext; default 1 MiB. */
  maxCiphertextBytes?: number;
  /** Return devices' Ed25519 keys from GetIdentityDevices; default false (README "Security"). */
  exposeDeviceSigningKeys?: boolean;
  /**
   * Refuse every authenticate / register_device / rotate_device_keys without a valid Ed25519
   * proof of possession (docs/security.md §10); default false, so the official
   * device SDKs (which send none) keep working. Devices that registered with a proof need one
   * either way.
   */
  requireDeviceProof?: boolean;
  /**
   * Folder served as static files on the HTTP port; default the device web approval page
   * (`webPageDir()` of `@noxy-approval/device`). `false` serves no files.
   */
  webRoot?: string | false;
  /**
   * Extra `Origin`s allowed to open the WebSocket Client API (e.g. `https://approve.example`).
   * Always allowed: clients that send no Origin (SDKs, CLIs) and the relay's own origin (the page
   * it serves). Default none.
   */
  allowedOrigins?: readonly string[];
  /** How long `close()` lets in-flight calls finish before cutting them; default 5,000 ms. */
  shutdownGraceMs?: number;
  /** Test only: injected Agent API faults (faults.ts); default none. The CLI never sets it. */
  faults?: RelayFaults;
}

/** Options with every default applied. */
export interface ResolvedOptions {
  dataDir: string;
  host: string;
  grpcPort: number;
  httpPort: number;
  tls: { cert: string | Buffer; key: string | Buffer } | undefined;
  now: () => number;
  logger: RelayLogger;
  agentPerSecond: number;
  devicePerSecond: number;
  defaultQuotaTotal: number;
  defaultTtlSeconds: number;
  maxTtlSeconds: number;
  replayWindowMs: number;
  sweepIntervalMs: number;
  maxCiphertextBytes: number;
  exposeDeviceSigningKeys: boolean;
  requireDeviceProof: boolean;
  webRoot: string | undefined;
  /** True when `webRoot` is the built-in page. */
  defaultWebRoot: boolean;
  allowedOrigins: readonly string[];
  shutdownGraceMs: number;
}

function isOrigin(v: unknown): boolean {
  if (typeof v !== 'string') return false;
  try {
    const u = new URL(v);
    return (u.protocol === 'http:' || u.protocol === 'https:') && u.origin === v.replace(/\/$/, '');
  } catch {
    return false;
  }
}

function bool(value: unknown, field: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw invalidOption(field, 'true or false', value);
  return value;
}

function int(value: unknown, field: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalidOption(field, `an integer ${min}..${max}`, value);
  }
  return value;
}

function rate(value: unknown, field: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
    throw invalidOption(field, 'a positive number', value);
  return value;
}

/**
 * True for loopback bind addresses (127.0.0.0/8, ::1, localhost).
 * @param host a bind address
 */
export function isLoopback(host: string): boolean {
  return isLoopbackHost(host);
}

/**
 * The warning printed when the relay would serve a non-loopback address in clear text.
 * @param host the bind address
 * @param tls whether TLS is configured
 * @returns the warning, or undefined when the setup is fine
 */
export function exposureWarning(host: string, tls: boolean): string | undefined {
  if (tls || isLoopback(host)) return undefined;
  return (
    `binding ${host} WITHOUT TLS: app tokens, device sessions and answers travel in clear text on the network. ` +
    'Use --tls-cert/--tls-key (the tls option) for anything but a trusted test network.'
  );
}

/**
 * Checks options and fills in defaults.
 * @throws NoxyError `INVALID_ARGUMENT` naming the field
 */
export function resolveOptions(options: RelayOptions): ResolvedOptions {
  if (typeof options !== 'object' || options === null) throw invalidOption('options', 'an object', options);
  if (typeof options.dataDir !== 'string' || options.dataDir === '') {
    throw invalidOption('dataDir', "a folder path or ':memory:'", options.dataDir);
  }
  const host = options.host ?? '127.0.0.1';
  if (typeof host !== 'string' || (host !== 'localhost' && isIP(host.replace(/^\[|\]$/g, '')) === 0)) {
    throw invalidOption('host', 'an IP address or localhost', host);
  }
  const tls = options.tls;
  if (tls !== undefined) {
    const pem = (v: unknown) => (typeof v === 'string' && v.length > 0) || (Buffer.isBuffer(v) && v.length > 0);
    if (!pem(tls.cert)) throw invalidOption('tls.cert', 'a PEM certificate (string or Buffer)');
    if (!pem(tls.key)) throw invalidOption('tls.key', 'a PEM private key (string or Buffer)');
  }
  if (options.now !== undefined && typeof options.now !== 'function')
    throw invalidOption('now', 'a function returning ms', options.now);
  if (
    options.webRoot !== undefined &&
    options.webRoot !== false &&
    (typeof options.webRoot !== 'string' || options.webRoot === '')
  ) {
    throw invalidOption('webRoot', 'a folder path or false', options.webRoot);
  }
  const allowedOrigins = options.allowedOrigins ?? [];
  if (!Array.isArray(allowedOrigins) || !allowedOrigins.every(isOrigin)) {
    throw invalidOption('allowedOrigins', 'an array of origins such as https://host:port', allowedOrigins);
  }
  const defaultTtlSeconds = int(options.defaultTtlSeconds, 'defaultTtlSeconds', 1, 365 * 86_400, 600);
  return {
    dataDir: options.dataDir,
    host,
    grpcPort: int(options.grpcPort, 'grpcPort', 0, 65_535, 0),
    httpPort: int(options.httpPort, 'httpPort', 0, 65_535, 0),
    tls,
    now: options.now ?? Date.now,
    logger: options.logger ?? createConsoleLogger('warn'),
    agentPerSecond: rate(options.rateLimits?.agentPerSecond, 'rateLimits.agentPerSecond', 200),
    devicePerSecond: rate(options.rateLimits?.devicePerSecond, 'rateLimits.devicePerSecond', 20),
    defaultQuotaTotal: int(options.defaultQuotaTotal, 'defaultQuotaTotal', 0, Number.MAX_SAFE_INTEGER, 10_000),
    defaultTtlSeconds,
    maxTtlSeconds: int(options.maxTtlSeconds, 'maxTtlSeconds', defaultTtlSeconds, 365 * 86_400, 7 * 86_400),
    replayWindowMs: int(options.replayWindowMs, 'replayWindowMs', 1_000, 86_400_000, 300_000),
    sweepIntervalMs: int(options.sweepIntervalMs, 'sweepIntervalMs', 10, 3_600_000, 1_000),
    maxCiphertextBytes: int(options.maxCiphertextBytes, 'maxCiphertextBytes', 16, 4 << 20, 1 << 20),
    exposeDeviceSigningKeys: options.exposeDeviceSigningKeys ?? false,
    requireDeviceProof: bool(options.requireDeviceProof, 'requireDeviceProof'),
    webRoot: options.webRoot === undefined ? webPageDir() : options.webRoot || undefined,
    defaultWebRoot: options.webRoot === undefined,
    allowedOrigins: allowedOrigins.map((o) => new URL(o).origin),
    shutdownGraceMs: int(options.shutdownGraceMs, 'shutdownGraceMs', 0, 600_000, 5_000),
  };
}
