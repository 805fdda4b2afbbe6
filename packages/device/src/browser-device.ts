/**
 * The browser device factory: WebSocket transport over the global `WebSocket`, WebCrypto
 * AES-GCM (noble AES-GCM where `crypto.subtle` is missing, as on plain http), no Node built-ins.
 *
 * The identity is checked with core's `parseIdentity` from its browser-safe `portable` entry.
 * @module
 */
import { NoxyError, parseIdentity, type IdentityInput } from '@noxy-approval/core/portable';
import type { NoxyDevice } from './device.js';
import { hasSubtleCrypto, nobleAead } from './noble-aead.js';
import { buildDevice, checkBaseOptions, type DeviceBaseOptions } from './setup.js';
import type { Transport } from './transport.js';
import { createWebSocketTransport, type WebSocketConstructor } from './transport-ws.js';

/** Options of {@link createBrowserNoxyDevice}. */
export interface NoxyDeviceBrowserOptions extends DeviceBaseOptions {
  /** The identity: a bare string (kind inferred) or `{ type, id }`, exactly as the agent uses it. */
  identity: IdentityInput;
  /** `websocket` (default) or a custom {@link Transport}. */
  transport?: 'websocket' | Transport;
  /** The WebSocket constructor; the global one by default. */
  WebSocket?: WebSocketConstructor;
  /**
   * Allow a plaintext `http://` relay URL on a non-loopback host, for a page the relay serves on
   * a LAN address (`noxy-relay start --lan`). Default false.
   */
  allowPlaintext?: boolean;
}

/**
 * Creates a Noxy device in a browser. Keys: pass a {@link KeyStore}; a memory store (keys lost
 * on reload) is used when omitted.
 * @throws NoxyError `INVALID_ARGUMENT` naming the bad option, `CRYPTO` for refused stored keys
 */
export async function createBrowserNoxyDevice(options: NoxyDeviceBrowserOptions): Promise<NoxyDevice> {
  checkBaseOptions(options, 'browser');
  const identity = parseIdentity(options.identity);
  const choice = options.transport ?? 'websocket';
  if (choice !== 'websocket' && typeof choice !== 'function') {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      '"transport" expected "websocket" or a transport function (gRPC needs Node)',
      { field: 'transport' },
    );
  }
  const transport =
    typeof choice === 'function'
      ? choice
      : createWebSocketTransport({
          relayUrl: options.relayUrl,
          ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
          ...(options.allowPlaintext ? { allowPlaintext: true } : {}),
        });
  // Outside a secure context (plain http on a LAN) there is no crypto.subtle: use noble AES-GCM.
  const aead = options.aead ?? (hasSubtleCrypto() ? undefined : nobleAead);
  return buildDevice(options, identity, transport, 'browser', aead);
}
