/**
 * What a transport gives the device: one bidirectional message channel to the relay carrying
 * {@link WireRequest}s out and {@link WireResponse}s in. The gRPC stream and the WebSocket
 * both fit. Reconnecting is not the transport's job; the device opens a new connection.
 * @module
 */
import type { NoxyError } from '@noxy-approval/core/portable';
import type { WireRequest, WireResponse } from './wire.js';

/** Callbacks a transport calls for one connection. */
export interface TransportHandlers {
  /** A decoded message from the relay. */
  onResponse(response: WireResponse): void;
  /** A frame that could not be decoded; the connection stays up. */
  onFrameError(error: NoxyError): void;
  /** The connection ended (called at most once, not after a local `close()`). */
  onClose(error?: Error): void;
}

/** An open connection. */
export interface TransportConnection {
  /** Sends one request; throws `RELAY_UNAVAILABLE` when the connection is no longer open. */
  send(request: WireRequest): void;
  /** Closes the connection; no handler is called afterwards. Idempotent. */
  close(): void;
}

/**
 * Opens a connection. Resolves once requests can be sent; rejects with `RELAY_UNAVAILABLE`
 * when the relay cannot be reached.
 */
export type Transport = (handlers: TransportHandlers) => Promise<TransportConnection>;

// Plaintext (`http://`, `ws://`) only to hosts that never leave the machine (docs/protocol.md §10.7).
export { isLoopbackHost } from '@noxy-approval/core/portable';
