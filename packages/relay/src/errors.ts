/**
 * Typed errors of the relay's own API (options, admin helpers). Wire errors are not thrown:
 * they are answered as gRPC statuses (agent API) or `error` responses (device API).
 *
 * The relay reuses core's `NoxyError` so callers handle one error type across packages.
 * @module
 */
import { NoxyError } from '@noxy-approval/core';

/**
 * Builds the `INVALID_ARGUMENT` error for a relay option or admin argument, naming the field.
 * @param field the option name, e.g. `"grpcPort"`
 * @param expected what a valid value looks like
 * @param got a safe description of what was given (never a secret)
 * @example
 * throw invalidOption('grpcPort', 'an integer 0..65535', '70000');
 */
export function invalidOption(field: string, expected: string, got?: unknown): NoxyError {
  const tail = got === undefined ? '' : `, got ${describeValue(got)}`;
  return new NoxyError('INVALID_ARGUMENT', `"${field}" expected ${expected}${tail}`, { field });
}

/**
 * Describes a value by type and size only, so an error message never echoes a secret.
 * @param value the offending value
 */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `string of length ${value.length}`;
  if (value instanceof Uint8Array) return `${value.length} bytes`;
  if (Array.isArray(value)) return `array of length ${value.length}`;
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return typeof value;
}
