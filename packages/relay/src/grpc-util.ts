/**
 * Small gRPC helpers: tolerant request decoding and status errors with trailers.
 *
 * grpc-js answers undecodable request bytes with INTERNAL and, on a stream, ends the whole
 * stream. The relay wraps the generated deserializers so a bad frame becomes a
 * {@link MalformedRequest} value: the Agent API answers INVALID_ARGUMENT and the device stream
 * answers `error INVALID_REQUEST` and keeps serving.
 * @module
 */
import { Metadata, type status, type ServiceDefinition, type ServerErrorResponse } from '@grpc/grpc-js';

/** A request whose bytes could not be decoded. */
export class MalformedRequest {
  constructor(readonly reason: string) {}
}

/**
 * Copies a grpc-js service definition with every request deserializer made non-throwing.
 * @param definition a generated `…Service` definition
 */
export function tolerantService<T extends ServiceDefinition>(definition: T): T {
  const out: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition)) {
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return method.requestDeserialize(bytes);
        } catch (error) {
          return new MalformedRequest(error instanceof Error ? error.message : 'undecodable protobuf');
        }
      },
    };
  }
  return out as T;
}

/**
 * A gRPC status error for a unary callback, with optional trailing metadata.
 * @param code the gRPC status
 * @param details the message (never a secret)
 * @param trailers extra trailer entries, e.g. `grpc-retry-pushback-ms`
 */
export function statusError(code: status, details: string, trailers?: Record<string, string>): ServerErrorResponse {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(trailers ?? {})) metadata.set(key, value);
  const error = Object.assign(new Error(details), { code, details, metadata });
  return error;
}
