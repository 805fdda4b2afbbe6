/**
 * The one place where gRPC failures become `NoxyError`s (docs/protocol.md §8).
 * @module
 */
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { NoxyError, type NoxyErrorCode } from './errors.js';

/** Trailer the local relay (and any relay that wishes) sets to say which limit was hit. */
export const NOXY_ERROR_TRAILER = 'noxy-error';
/** gRFC A6 server pushback trailer: milliseconds to wait before retrying. */
export const PUSHBACK_TRAILER = 'grpc-retry-pushback-ms';

function trailer(err: ServiceError, key: string): string | undefined {
  const value = err.metadata?.get(key)[0];
  return typeof value === 'string' ? value : value === undefined ? undefined : value.toString();
}

/**
 * The server's pushback in ms: a non-negative integer, `null` when the server said "do not
 * retry" (negative or garbage, per gRFC A6), `undefined` when absent.
 */
export function pushbackMs(err: unknown): number | null | undefined {
  if (!isServiceError(err)) return undefined;
  const raw = trailer(err, PUSHBACK_TRAILER);
  if (raw === undefined) return undefined;
  return /^\d{1,9}$/.test(raw) ? Number(raw) : null;
}

/** True for errors produced by grpc-js calls. */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number' && 'details' in err;
}

function classify(err: ServiceError): [NoxyErrorCode, boolean] {
  switch (err.code) {
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return ['RELAY_UNAVAILABLE', true];
    case status.UNAUTHENTICATED:
      return ['UNAUTHENTICATED', false];
    case status.PERMISSION_DENIED:
      return ['PERMISSION_DENIED', false];
    case status.NOT_FOUND:
      return ['NOT_FOUND', false];
    case status.INVALID_ARGUMENT:
      return ['INVALID_ARGUMENT', false];
    case status.RESOURCE_EXHAUSTED: {
      const which = trailer(err, NOXY_ERROR_TRAILER);
      const quota = which === 'QUOTA_EXHAUSTED' || (which === undefined && /quota/i.test(err.details));
      return quota ? ['QUOTA_EXHAUSTED', false] : ['RATE_LIMITED', true];
    }
    case status.UNKNOWN:
      return ['RELAY_ERROR', true];
    case status.CANCELLED:
      // Our own cancellations never get here (transport.ts reports them as ABORTED first):
      // a CANCELLED status came from the relay or a proxy, so it is a relay failure.
      return ['RELAY_UNAVAILABLE', true];
    default:
      return ['RELAY_ERROR', false];
  }
}

const UNREACHABLE = /ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EAI_AGAIN|No connection established/;
const NOT_GRPC = /Protocol error|wrong version number|Received HTTP status code|Unexpected HTTP status/i;

/** The fix a newcomer needs for the failures they meet first, or `undefined`. */
function fixFor(err: ServiceError, details: string, endpoint = 'the configured endpoint'): string | undefined {
  if (NOT_GRPC.test(details)) {
    return (
      `${endpoint} answered, but not as a gRPC relay: is it the relay's HTTP port, or https:// to a plaintext ` +
      'relay? `noxy-relay start` prints the gRPC address to use'
    );
  }
  // A retry waits for the connection (wait_for_ready); its deadline then hides the refused connect.
  const neverConnected = err.code === status.DEADLINE_EXCEEDED && /wait_for_ready|Waiting for LB pick/.test(details);
  if ((err.code === status.UNAVAILABLE && UNREACHABLE.test(details)) || neverConnected) {
    return `cannot reach the relay at ${endpoint}: is \`noxy-relay start\` running, and is this its gRPC address?`;
  }
  if (err.code === status.UNAUTHENTICATED) {
    return (
      'the relay refused the app token: check authToken (NOXY_AUTH_TOKEN); ' +
      '`noxy-relay app create` prints one for a local relay'
    );
  }
  return undefined;
}

/**
 * Maps a grpc-js error to a `NoxyError`, keeping the gRPC code and the original as `cause`.
 * `secret` (the app token) is scrubbed from the relay's message, in case a relay echoes it.
 * @param err what the call failed with
 * @param method the RPC name, for the message
 * @param secret a string that must never appear in the message
 * @param endpoint the relay URL, named in the fix a newcomer is told
 */
export function toNoxyError(err: unknown, method: string, secret?: string, endpoint?: string): NoxyError {
  if (NoxyError.isInstance(err)) return err;
  if (!isServiceError(err)) {
    return new NoxyError('RELAY_ERROR', `${method} failed: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
  const [code, retryable] = classify(err);
  // grpc-js ends some details with an empty "Resolution note: ", which reads like a cut-off.
  let details = (err.details || status[err.code] || 'no details').replace(/\.?\s*Resolution note:\s*$/, '');
  if (secret) details = details.split(secret).join('[redacted]');
  const fix = fixFor(err, details, endpoint);
  const name = status[err.code] ?? String(err.code);
  const retryAfterMs = pushbackMs(err);
  const cause = secret ? scrubbed(err, secret) : err;
  return new NoxyError(code, `${method} failed: ${name}: ${details}${fix ? ` — ${fix}` : ''}`, {
    grpcCode: err.code,
    retryable,
    cause,
    ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
  });
}

/**
 * `err` itself, or — when the relay echoed `secret` in its message or trailers — a copy with it
 * redacted, so that logging the cause (`util.inspect`, `console.error`) cannot leak the token.
 */
function scrubbed(err: ServiceError, secret: string): ServiceError {
  const has = (v: unknown) =>
    (typeof v === 'string' ? v : Buffer.isBuffer(v) ? v.toString('latin1') : '').includes(secret);
  const leakyKeys = Object.keys(err.metadata?.toJSON() ?? {}).filter((key) => err.metadata.get(key).some(has));
  if (!has(err.message) && !has(err.details) && !has(err.stack) && leakyKeys.length === 0) return err;
  const redact = (text: string) => text.split(secret).join('[redacted]');
  const metadata = err.metadata ? err.metadata.clone() : new Metadata();
  for (const key of leakyKeys) {
    metadata.remove(key);
    if (!key.endsWith('-bin')) metadata.set(key, '[redacted]');
  }
  const copy = Object.assign(new Error(redact(err.message)), {
    code: err.code,
    details: redact(err.details ?? ''),
    metadata,
  });
  copy.stack = redact(err.stack ?? copy.stack ?? '');
  return copy;
}
