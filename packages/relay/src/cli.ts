#!/usr/bin/env node
/**
 * `noxy-relay` — run and administer a local Noxy relay.
 *
 *   noxy-relay start [--data ./.noxy] [--host 127.0.0.1 | --lan] [--grpc-port 7070] [--http-port 7071]
 *                    [--tls-cert cert.pem --tls-key key.pem | --tls-self-signed] [--web-root dir]
 *                    [--log-level info]
 *   noxy-relay app create --name NAME [--quota N] [--json]
 *   noxy-relay pair --app APP_ID --identity ID [--type email|phone|wallet|user_id] [--ttl 600] [--relay URL]
 *                   [--web-url URL] [--json]   (prints the web page link, its QR code and the noxy:// link)
 *   noxy-relay status [--json]
 *
 * The only place in this package that reads `process.env` (`NOXY_RELAY_DATA`) or argv.
 * @module
 */
import { createRequire } from 'node:module';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NoxyError, type IdentityInput, type IdentityType } from '@noxy-approval/core';
import { createApp, createPairing, relayStatus } from './admin.js';
import { assertWebRoot, readRunFile, type RunInfo, secureDataDir } from './data-dir.js';
import { bindPlan, FlagError, lanWarning } from './lan.js';
import { createConsoleLogger, type LogLevel } from './logger.js';
import { RelayStore } from './store/index.js';

const USAGE = `noxy-relay — a local Noxy relay (Agent API, device gRPC + WebSocket API, SQLite store)

Usage:
  noxy-relay start [--data DIR] [--host ADDR | --lan] [--grpc-port N] [--http-port N]
                   [--tls-cert FILE --tls-key FILE | --tls-self-signed] [--web-root DIR] [--log-level LEVEL]
                   [--require-device-proof]
  noxy-relay app create --name NAME [--quota N] [--json]
  noxy-relay pair --app APP_ID --identity ID [--type wallet|email|phone|user_id] [--ttl SECONDS]
                  [--relay URL] [--web-url URL] [--json]
  noxy-relay status [--json]

Options:
  --data DIR        data folder (default $NOXY_RELAY_DATA or ./.noxy)
  --host ADDR       bind address (default 127.0.0.1; anything else should use TLS)
  --lan             bind this machine's LAN address (first non-internal IPv4, or --host) so a phone on
                    the same network can open the web approval page; prints a warning
  --tls-self-signed HTTPS/WSS with a self-signed certificate made for the bind address (kept in DIR)
  --web-root DIR    serve DIR on the HTTP port instead of the built-in web approval page
  --require-device-proof  refuse devices that do not prove possession of their key (official SDKs
                    send no proof and are then refused; off by default)
  --grpc-port N     gRPC port for agents and gRPC devices (default 7070; 0 = any free port)
  --http-port N     HTTP port for WebSocket devices and the web root (default 7071; 0 = any)
  --version         print the version
`;

/** A usage mistake: printed with the usage text, exit code 2. */
class UsageError extends FlagError {}

const OPTIONS = {
  data: { type: 'string' },
  host: { type: 'string' },
  'grpc-port': { type: 'string' },
  'http-port': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'web-root': { type: 'string' },
  lan: { type: 'boolean' },
  'tls-self-signed': { type: 'boolean' },
  'require-device-proof': { type: 'boolean' },
  'web-url': { type: 'string' },
  'log-level': { type: 'string' },
  name: { type: 'string' },
  quota: { type: 'string' },
  app: { type: 'string' },
  identity: { type: 'string' },
  type: { type: 'string' },
  ttl: { type: 'string' },
  relay: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function port(value: string | undefined, flag: string, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new UsageError(`--${flag} expected a port 0..65535, got "${value}"`);
  return n;
}

function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${flag} expected a non-negative integer, got "${value}"`);
  return Number(value);
}

const dataDir = (v: Values): string => resolve(v.data ?? process.env.NOXY_RELAY_DATA ?? './.noxy');

// The data folder, created or tightened to 0700 (data-dir.ts), saying so when it was looser.
function ownedDataDir(v: Values): string {
  const dir = dataDir(v);
  const { tightenedFrom } = secureDataDir(dir);
  if (tightenedFrom !== undefined)
    process.stderr.write(
      `noxy-relay: ${dir} had mode 0${tightenedFrom.toString(8)}; made it 0700 (it holds signing secrets)\n`,
    );
  return dir;
}
const runFile = (dir: string): string => join(dir, 'relay.json');
const out = (line = ''): void => void process.stdout.write(`${line}\n`);

async function start(v: Values): Promise<void> {
  const dir = ownedDataDir(v);
  if (v['web-root'] !== undefined) assertWebRoot(resolve(v['web-root']), '--web-root');
  const level = (v['log-level'] ?? 'info') as LogLevel;
  if (!['debug', 'info', 'warn', 'error', 'silent'].includes(level))
    throw new UsageError(`--log-level expected debug|info|warn|error|silent`);
  const { host, tls, tlsKind, fingerprint } = await bindPlan(v, dir);
  if (v.lan) process.stderr.write(`${lanWarning(host, tlsKind)}\n`);
  // Loaded here so the admin commands do not pay for gRPC, protobuf and the device package.
  const { startRelay } = await import('./server.js');
  const relay = await startRelay({
    dataDir: dir,
    host,
    grpcPort: port(v['grpc-port'], 'grpc-port', 7070),
    httpPort: port(v['http-port'], 'http-port', 7071),
    tls,
    ...(v['web-root'] !== undefined ? { webRoot: v['web-root'] } : {}),
    logger: createConsoleLogger(level),
    ...(v['require-device-proof'] ? { requireDeviceProof: true } : {}),
  });
  writeFileSync(
    runFile(dir),
    JSON.stringify({ grpcUrl: relay.grpcUrl, httpUrl: relay.httpUrl, wsUrl: relay.wsUrl, pid: process.pid }),
    { mode: 0o600 },
  );
  out('noxy-relay ready');
  out(`grpc  ${relay.grpcUrl}`);
  out(`http  ${relay.httpUrl}`);
  out(`ws    ${relay.wsUrl}`);
  out(`page  ${relay.httpUrl}/   (web approval page; pair a browser with \`noxy-relay pair\`)`);
  if (fingerprint) out(`cert  self-signed, SHA-256 ${fingerprint}`);
  out(`data  ${relay.store.path}`);
  const durability = relay.store.durability();
  out(`store journal_mode=${durability.journalMode} synchronous=${durability.synchronous}`);
  if (relay.status().apps.length === 0) out('no apps yet: run `noxy-relay app create --name my-app`');

  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      process.stderr.write(`noxy-relay: ${signal} again, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    process.stderr.write(`noxy-relay: ${signal}, shutting down\n`);
    relay
      .close()
      .then(() => {
        rmSync(runFile(dir), { force: true });
        process.exit(0);
      })
      .catch((error: unknown) => {
        process.stderr.write(
          `noxy-relay: shutdown failed: ${error instanceof Error ? error.message : String(error)}\n`,
        );
        process.exit(1);
      });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

function withStore<T>(v: Values, fn: (store: RelayStore) => T): T {
  const store = RelayStore.open(ownedDataDir(v));
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

function appCreate(v: Values): void {
  if (!v.name) throw new UsageError('app create needs --name NAME');
  const quotaTotal = positiveInt(v.quota, 'quota');
  const app = withStore(v, (store) => createApp(store, Date.now(), { name: v.name!, quotaTotal }));
  if (v.json) return out(JSON.stringify(app));
  out('App created. The token and the signing secret are shown ONCE: store them now.');
  out(`  app id          ${app.appId}`);
  out(`  app token       ${app.appToken}    (agents: authToken / NOXY_AUTH_TOKEN)`);
  out(`  signing secret  ${app.signingSecret}    (devices: NOXY_SIGNING_SECRET)`);
}

function runningUrls(v: Values): RunInfo {
  return readRunFile(runFile(dataDir(v)));
}

function relayUrlOf(v: Values): string {
  if (v.relay) return v.relay;
  const { grpcUrl } = runningUrls(v);
  return typeof grpcUrl === 'string' ? grpcUrl : 'http://127.0.0.1:7070';
}

function webUrlOf(v: Values): string {
  if (v['web-url']) return v['web-url'];
  const { httpUrl } = runningUrls(v);
  return typeof httpUrl === 'string' ? httpUrl : 'http://127.0.0.1:7071';
}

async function pair(v: Values): Promise<void> {
  if (!v.app) throw new UsageError('pair needs --app APP_ID');
  if (!v.identity) throw new UsageError('pair needs --identity ID');
  const identity: IdentityInput = v.type ? { type: v.type as IdentityType, id: v.identity } : v.identity;
  const ttlSeconds = positiveInt(v.ttl, 'ttl');
  const relayUrl = relayUrlOf(v);
  const webUrl = webUrlOf(v);
  const p = withStore(v, (store) =>
    createPairing(store, Date.now(), relayUrl, { appId: v.app!, identity, ttlSeconds }, webUrl),
  );
  if (v.json) return out(JSON.stringify(p));
  out(`Pairing code for ${p.identityType} ${p.identityId} (one use, expires ${new Date(p.expiresAt).toISOString()}):`);
  out(`  code  ${p.code}`);
  out(`  web   ${p.webLink}`);
  out(`  link  ${p.link}    (noxy-device pair)`);
  out();
  out('Open the web link on your phone or in a browser, or scan this QR code (it holds the web link;');
  out('the code after # never reaches a server). Anyone with the link can pair once: keep it private.');
  const QRCode = (await import('qrcode')).default;
  out(await QRCode.toString(p.webLink ?? p.link, { type: 'terminal', small: true }));
}

function status(v: Values): void {
  const dir = dataDir(v);
  if (!existsSync(join(dir, 'relay.db')))
    throw new UsageError(`no relay data in ${dir} (run \`noxy-relay start\` or pass --data)`);
  const s = withStore(v, (store) => relayStatus(store, Date.now()));
  let running: string | undefined;
  const info = readRunFile(runFile(dir));
  if (info.grpcUrl !== undefined) {
    try {
      if (typeof info.pid === 'number') process.kill(info.pid, 0);
      running = info.grpcUrl;
    } catch {
      running = undefined; // stale file of a relay that was killed
    }
  }
  if (v.json) return out(JSON.stringify({ ...s, running: running ?? null }));
  out(`relay     ${running ? `running at ${running}` : 'not running'}`);
  out(`apps      ${s.apps.length}`);
  for (const a of s.apps) out(`  ${a.appId}  ${a.name}  quota ${a.quotaUsed}/${a.quotaTotal} this month`);
  out(`devices   ${s.devices.active} active, ${s.devices.total - s.devices.active} revoked`);
  const { total, ...byStatus } = s.decisions;
  const parts = Object.entries(byStatus).map(([k, n]) => `${k.toLowerCase()} ${n}`);
  out(`decisions ${total}${parts.length ? ` (${parts.join(', ')})` : ''}`);
}

/** This package's version (the same file from src/ under tsx and from dist/ when built). */
function packageVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  const [command, sub] = positionals;
  if (values.version) return void process.stdout.write(`${packageVersion()}\n`);
  if (values.help || command === undefined || command === 'help') return void process.stdout.write(USAGE);
  if (command === 'start') return start(values);
  if (command === 'app' && sub === 'create') return appCreate(values);
  if (command === 'pair') return pair(values);
  if (command === 'status') return status(values);
  throw new UsageError(`unknown command "${positionals.join(' ')}"`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (
    error instanceof FlagError ||
    (error instanceof TypeError && 'code' in error && String(error.code).startsWith('ERR_PARSE_ARGS'))
  ) {
    process.stderr.write(`noxy-relay: ${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  const message = NoxyError.isInstance(error) || error instanceof Error ? error.message : String(error);
  process.stderr.write(`noxy-relay: ${message}\n`);
  process.exit(1);
});
