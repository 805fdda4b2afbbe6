/**
 * The one error type of the Noxy client: `NoxyError` with a string `code`.
 *
 * Outcomes (approved / rejected / expired / pending) are results, never errors; a `NoxyError`
 * means the request could not be made or answered. Errors are recognisable across duplicate
 * installs of this package through a `Symbol.for` brand (`NoxyError.isInstance`), because each
 * wrapper package may pull in its own copy of core.
 * @module
 */

/** Every code a `NoxyError` can carry. */
export type NoxyErrorCode =
  /** An argument or option is malformed; nothing was sent. */
  | 'INVALID_ARGUMENT'
  /** The relay could not be reached, or did not answer before the deadline. */
  | 'RELAY_UNAVAILABLE'
  /** The relay refused the app token. */
  | 'UNAUTHENTICATED'
  /** The token is valid but not allowed to do this (e.g. another app's decision). */
  | 'PERMISSION_DENIED'
  /** The identity has no device able to receive the decision. */
  | 'NO_DEVICES'
  /** The app's monthly decision quota is used up or suspended. */
  | 'QUOTA_EXHAUSTED'
  /** The relay's rate limit was hit; retry later. */
  | 'RATE_LIMITED'
  /** The relay does not know the decision (or it belongs to another identity). */
  | 'NOT_FOUND'
  /** Encryption or decryption failed, or a device key was refused. */
  | 'CRYPTO'
  /** The caller's AbortSignal fired. */
  | 'ABORTED'
  /** The relay answered something this client cannot interpret (fail closed). */
  | 'PROTOCOL'
  /** The client was closed. */
  | 'CLOSED'
  /** Anything else the relay reported. */
  | 'RELAY_ERROR';

const BRAND = Symbol.for('noxy-approval.error');

/** Options of the `NoxyError` constructor. */
export interface NoxyErrorOptions {
  /** The underlying error, kept for debugging (never contains the token). */
  cause?: unknown;
  /** The numeric gRPC status code when the error came from an RPC. */
  grpcCode?: number;
  /** Whether the same call may succeed if retried later. */
  retryable?: boolean;
  /** The argument or option at fault, for `INVALID_ARGUMENT`. */
  field?: string;
  /** Server pushback (gRFC A6): ms to wait before a retry; `null` = the server said do not retry. */
  retryAfterMs?: number | null;
}

/**
 * The error thrown by every API of `@noxy-approval/core`.
 *
 * @example
 * try { await client.sendDecision('alice@example.com', decision); }
 * catch (e) { if (NoxyError.isInstance(e) && e.code === 'NO_DEVICES') { ... } }
 */
export class NoxyError extends Error {
  /** Brand that survives duplicate installs; see {@link NoxyError.isInstance}. */
  readonly [BRAND] = true;
  /** Stable string code. */
  readonly code: NoxyErrorCode;
  /** The gRPC status code, when the error came from an RPC. */
  readonly grpcCode: number | undefined;
  /** Whether a retry later may succeed. */
  readonly retryable: boolean;
  /** The offending field for `INVALID_ARGUMENT`. */
  readonly field: string | undefined;
  /** Server pushback in ms (`null`: do not retry), when the relay sent one. */
  readonly retryAfterMs: number | null | undefined;

  constructor(code: NoxyErrorCode, message: string, options: NoxyErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NoxyError';
    this.code = code;
    this.grpcCode = options.grpcCode;
    this.retryable = options.retryable ?? false;
    this.field = options.field;
    this.retryAfterMs = options.retryAfterMs;
  }

  /**
   * True for any `NoxyError`, including one thrown by another installed copy of this package.
   * @param value anything caught
   */
  static isInstance(value: unknown): value is NoxyError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
  }
}

/**
 * Builds the `INVALID_ARGUMENT` error for a field, in the noble style: `"field" expected X, got Y`.
 * @param field the argument or option name
 * @param expected what a valid value looks like
 * @param got a short, safe description of what was given (never a secret)
 */
export function invalidArgument(field: string, expected: string, got?: string): NoxyError {
  const tail = got === undefined ? '' : `, got ${got}`;
  return new NoxyError('INVALID_ARGUMENT', `"${field}" expected ${expected}${tail}`, { field });
}

/**
 * Describes a value for an error message without revealing its content (type and size only).
 * @param value the offending value
 */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string of length ${value.length}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return typeof value;
}

/** The AbortError rejection of a cancelled wait. */
export function abortError(signal: AbortSignal | undefined): NoxyError {
  const reason: unknown = signal?.reason;
  const why = reason instanceof Error ? reason.message : typeof reason === 'string' ? reason : 'aborted';
  return new NoxyError('ABORTED', `operation aborted: ${why}`, { cause: reason });
}
