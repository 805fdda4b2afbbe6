/**
 * Command-line parsing for `noxy-device` (`node:util` parseArgs) and the pairing link format
 * of docs/local-relay-contract.md:
 * `noxy://pair?relay=<url>&app=<appId>&type=<identity type>&id=<identity id>&code=<code>`.
 * @module
 */
import { parseArgs } from 'node:util';
import { IDENTITY_TYPES, NoxyError, type IdentityType } from '@noxy-approval/core';

/** What a pairing link carries. The code is a one-time secret: never print it. */
export interface PairingLink {
  relayUrl: string;
  appId: string;
  identityType: IdentityType;
  identityId: string;
  code: string;
}

const TYPES: readonly string[] = IDENTITY_TYPES;

/** A usage error: exit code 2 and the help hint. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * Parses a `noxy://pair?...` link.
 * @throws UsageError naming the missing or bad parameter (never echoing the code)
 */
export function parsePairingLink(link: string): PairingLink {
  let url: URL;
  try {
    url = new URL(link);
  } catch {
    throw new UsageError('the pairing link is not a URL (expected noxy://pair?relay=…&app=…&type=…&id=…&code=…)');
  }
  if (url.protocol !== 'noxy:' || (url.hostname !== 'pair' && url.pathname.replace(/^\/+/, '') !== 'pair')) {
    throw new UsageError('the pairing link must start with noxy://pair?');
  }
  const q = url.searchParams;
  const get = (name: string) => {
    const v = q.get(name);
    if (!v) throw new UsageError(`the pairing link has no "${name}" parameter`);
    return v;
  };
  const identityType = get('type');
  if (!TYPES.includes(identityType))
    throw new UsageError(`the pairing link's "type" must be one of ${TYPES.join(', ')}`);
  return {
    relayUrl: get('relay'),
    appId: get('app'),
    identityType: identityType as IdentityType,
    identityId: get('id'),
    code: get('code'),
  };
}

const OPTIONS = {
  'data-dir': { type: 'string' },
  relay: { type: 'string' },
  app: { type: 'string' },
  identity: { type: 'string' },
  'identity-type': { type: 'string' },
  code: { type: 'string' },
  transport: { type: 'string' },
  'device-type': { type: 'string' },
  auto: { type: 'string' },
  delay: { type: 'string' },
  max: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

/** Parsed command line. */
export interface CliArgs {
  command: string | undefined;
  positionals: string[];
  dataDir?: string;
  relay?: string;
  app?: string;
  identity?: string;
  identityType?: IdentityType;
  code?: string;
  transport?: 'grpc' | 'websocket';
  deviceType?: string;
  auto?: 'approve' | 'reject';
  delayMs: number;
  max?: number;
  help: boolean;
  version: boolean;
}

function nonNegativeInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value)) throw new UsageError(`--${flag} expects a whole number, got "${value.slice(0, 20)}"`);
  return Number(value);
}

/**
 * Parses `argv` (without `node` and the script).
 * @throws UsageError for unknown flags or bad values
 */
export function parseCliArgs(argv: string[]): CliArgs {
  let parsed: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true; strict: true }>
  >;
  try {
    parsed = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const v = parsed.values;
  const [command, ...positionals] = parsed.positionals;
  const out: CliArgs = {
    command,
    positionals,
    delayMs: nonNegativeInt(v.delay, 'delay') ?? 0,
    help: v.help ?? false,
    version: v.version ?? false,
  };
  if (v['data-dir'] !== undefined) out.dataDir = v['data-dir'];
  if (v.relay !== undefined) out.relay = v.relay;
  if (v.app !== undefined) out.app = v.app;
  if (v.identity !== undefined) out.identity = v.identity;
  if (v.code !== undefined) out.code = v.code;
  if (v['device-type'] !== undefined) out.deviceType = v['device-type'];
  if (v['identity-type'] !== undefined) {
    if (!TYPES.includes(v['identity-type'])) throw new UsageError(`--identity-type must be one of ${TYPES.join(', ')}`);
    out.identityType = v['identity-type'] as IdentityType;
  }
  if (v.transport !== undefined) {
    if (v.transport !== 'grpc' && v.transport !== 'websocket')
      throw new UsageError('--transport must be grpc or websocket');
    out.transport = v.transport;
  }
  if (v.auto !== undefined) {
    if (v.auto !== 'approve' && v.auto !== 'reject') throw new UsageError('--auto must be approve or reject');
    out.auto = v.auto;
  }
  const max = nonNegativeInt(v.max, 'max');
  if (max !== undefined) {
    if (max < 1) throw new UsageError('--max must be at least 1');
    out.max = max;
  }
  return out;
}

/** Turns an identity flag into the `{ type, id }` or bare string that `createNoxyDevice` takes. */
export function identityOf(
  args: Pick<CliArgs, 'identity' | 'identityType'>,
): { type: IdentityType; id: string } | string {
  if (!args.identity) throw new UsageError('--identity is required');
  return args.identityType ? { type: args.identityType, id: args.identity } : args.identity;
}

/** Re-thrown so callers see one error type for usage problems found deeper (bad identity, …). */
export function asUsageError(error: unknown): unknown {
  return NoxyError.isInstance(error) && error.code === 'INVALID_ARGUMENT' ? new UsageError(error.message) : error;
}
