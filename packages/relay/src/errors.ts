/**
 * Typed errors of the relay's own API (options, admin helpers). Wire errors are not thrown:
 * they are answered as gRPC statuses (agent API) or `error` responses (device API).
 *
 * The relay reuses core's `NoxyError` so callers handle one error type across packages.
 * @module
 */
import { describeValue, invalidArgument, type NoxyError } from '@noxy-approval/core';

/**
 * Builds the `INVALID_ARGUMENT` error for a relay option or admin argument, naming the field
 * (core's `invalidArgument`, with the value described by type and size only).
 * @param field the option name, e.g. `"grpcPort"`
 * @param expected what a valid value looks like
 * @param got the offending value; only its type and size appear in the message
 * @example
 * throw invalidOption('grpcPort', 'an integer 0..65535', 70000);
 */
export function invalidOption(field: string, expected: string, got?: unknown): NoxyError {
  return invalidArgument(field, expected, got === undefined ? undefined : describeValue(got));
}
