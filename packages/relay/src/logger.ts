/**
 * The relay's logger: a tiny structured interface and two implementations.
 *
 * Log lines carry ids (app, device, decision, request) and counts, never tokens, signing
 * secrets, pairing codes, keys, nonces or ciphertext. {@link redactFields} enforces that for
 * every field passed to a logger, so a careless call site cannot leak one.
 * @module
 */

/** Structured fields attached to a log line. */
export type LogFields = Record<string, string | number | boolean | undefined>;

/** What the relay needs from a logger. Each method may ignore `fields`. */
export interface RelayLogger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
}

/** Log levels in increasing severity. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'silent';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

// Field names whose values must never reach a log, whatever the caller passes.
const SECRET_FIELD = /token|secret|authorization|signature|ciphertext|kyber|nonce|key|code|password|payload/i;
// `errorCode` and `grpcCode` are protocol codes, not pairing codes.
const SAFE_FIELD = /^(errorCode|grpcCode|statusCode|exitCode)$/;

/**
 * Returns a copy of `fields` with every secret-looking field replaced by `[redacted]`.
 * @param fields the caller's fields
 */
export function redactFields(fields: LogFields | undefined): LogFields | undefined {
  if (!fields) return undefined;
  const out: LogFields = {};
  for (const [name, value] of Object.entries(fields)) {
    out[name] = SECRET_FIELD.test(name) && !SAFE_FIELD.test(name) ? '[redacted]' : value;
  }
  return out;
}

function format(level: string, message: string, fields: LogFields | undefined): string {
  const safe = redactFields(fields);
  const tail = safe
    ? Object.entries(safe)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${k}=${String(v)}`)
        .join(' ')
    : '';
  return `[noxy-relay] ${level} ${message}${tail ? ` ${tail}` : ''}`;
}

/**
 * A logger writing single lines to `write` (stderr by default) at `level` and above.
 * @param level the lowest level printed (default `info`)
 * @param write where lines go
 * @example
 * startRelay({ dataDir: ':memory:', logger: createConsoleLogger('debug') });
 */
export function createConsoleLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): RelayLogger {
  const at = ORDER[level];
  const emit = (lvl: Exclude<LogLevel, 'silent'>) => (message: string, fields?: LogFields) => {
    if (ORDER[lvl] >= at) write(format(lvl, message, fields));
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}

/** A logger that drops everything (tests). */
export const silentLogger: RelayLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
};
