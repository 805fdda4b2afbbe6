/**
 * The browser device factory: WebSocket transport over the global `WebSocket`, WebCrypto
 * AES-GCM, no Node built-ins.
 *
 * The identity must be given as `{ type, id }` and is only checked structurally here: core's
 * full `parseIdentity` lives in its Node entry, which a browser bundle cannot import.
 * @module
 */
import type { Identity } from '@noxy-approval/core';
import { NoxyError } from '@noxy-approval/core/envelope';
import type { NoxyDevice } from './device.js';
import { buildDevice, checkBaseOptions, type DeviceBaseOptions } from './setup.js';
import type { Transport } from './transport.js';
import { createWebSocketTransport, type WebSocketConstructor } from './transport-ws.js';
import { IDENTITY_TYPE_NAMES } from './wire.js';

/** Options of {@link createBrowserNoxyDevice}. */
export interface NoxyDeviceBrowserOptions extends DeviceBaseOptions {
  /** The identity, `{ type, id }` with the id exactly as the agent uses it. */
  identity: Identity;
  /** `websocket` (default) or a custom {@link Transport}. */
  transport?: 'websocket' | Transport;
  /** The WebSocket constructor; the global one by default. */
  WebSocket?: WebSocketConstructor;
}

const TYPES: readonly string[] = IDENTITY_TYPE_NAMES;
// Same refusal of control, bidi and zero-width characters as core's identity check.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;

/**
 * Creates a Noxy device in a browser. Keys: pass a {@link KeyStore}; a memory store (keys lost
 * on reload) is used when omitted.
 * @throws NoxyError `INVALID_ARGUMENT` naming the bad option, `CRYPTO` for refused stored keys
 */
export async function createBrowserNoxyDevice(options: NoxyDeviceBrowserOptions): Promise<NoxyDevice> {
  checkBaseOptions(options, 'browser');
  const identity = options.identity as unknown;
  if (typeof identity !== 'object' || identity === null) {
    throw new NoxyError('INVALID_ARGUMENT', '"identity" expected { type, id }', { field: 'identity' });
  }
  const { type, id } = identity as Record<string, unknown>;
  if (typeof type !== 'string' || !TYPES.includes(type)) {
    throw new NoxyError('INVALID_ARGUMENT', `"identity.type" expected one of ${TYPES.join(', ')}`, { field: 'identity.type' });
  }
  if (typeof id !== 'string' || id.length === 0 || id.length > 256 || UNSAFE.test(id)) {
    throw new NoxyError('INVALID_ARGUMENT', '"identity.id" expected a non-empty id without control characters', { field: 'identity.id' });
  }
  const choice = options.transport ?? 'websocket';
  if (choice !== 'websocket' && typeof choice !== 'function') {
    throw new NoxyError('INVALID_ARGUMENT', '"transport" expected "websocket" or a transport function (gRPC needs Node)', { field: 'transport' });
  }
  const transport =
    typeof choice === 'function'
      ? choice
      : createWebSocketTransport({ relayUrl: options.relayUrl, ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}) });
  return buildDevice(options, { type: type as Identity['type'], id }, transport, 'browser', options.aead);
}
