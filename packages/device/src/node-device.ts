/**
 * The Node device factory: validates the identity with core's `parseIdentity`, picks the
 * gRPC (default) or WebSocket (`ws` package) transport, and uses node:crypto AES-GCM.
 * @module
 */
import type { ChannelCredentials } from '@grpc/grpc-js';
import { NoxyError, nodeAead, parseIdentity, type IdentityInput } from '@noxy-approval/core';
import WebSocket from 'ws';
import type { NoxyDevice } from './device.js';
import { nodeEd25519Sign } from './node-sign.js';
import { buildDevice, checkBaseOptions, type DeviceBaseOptions } from './setup.js';
import type { Transport } from './transport.js';
import { createGrpcTransport } from './transport-grpc.js';
import { createWebSocketTransport, type WebSocketConstructor } from './transport-ws.js';

/** Options of {@link createNoxyDevice}. */
export interface NoxyDeviceNodeOptions extends DeviceBaseOptions {
  /** The identity this device answers for: a bare string (kind inferred) or `{ type, id }`. */
  identity: IdentityInput;
  /** `grpc` (default), `websocket`, or a custom {@link Transport}. */
  transport?: 'grpc' | 'websocket' | Transport;
  /** gRPC only: TLS credentials instead of the system roots. */
  channelCredentials?: ChannelCredentials;
  /** gRPC only: keepalive ping interval, ms. Default 30,000. */
  keepaliveMs?: number;
}

/**
 * Creates a Noxy device in Node: loads its keys for (app, identity) from `keyStore` — refusing
 * a tampered key pair — or creates and stores new ones. Does not connect; call `connect()`.
 * @throws NoxyError `INVALID_ARGUMENT` naming the bad option, `CRYPTO` for refused stored keys
 * @example
 * const device = await createNoxyDevice({
 *   relayUrl: 'http://127.0.0.1:50051', appId, identity: 'alice@example.com',
 *   pairingCode, keyStore: createFileKeyStore('./.noxy-device/keys'),
 * });
 * device.on('decision', (d) => device.decide(d.decisionId, 'approve'));
 * await device.connect();
 */
export async function createNoxyDevice(options: NoxyDeviceNodeOptions): Promise<NoxyDevice> {
  checkBaseOptions(options, 'desktop');
  const identity = parseIdentity(options.identity);
  const choice = options.transport ?? 'grpc';
  let transport: Transport;
  if (typeof choice === 'function') transport = choice;
  else if (choice === 'grpc') {
    transport = createGrpcTransport({
      relayUrl: options.relayUrl,
      ...(options.channelCredentials ? { channelCredentials: options.channelCredentials } : {}),
      ...(options.keepaliveMs !== undefined ? { keepaliveMs: options.keepaliveMs } : {}),
    });
  } else if (choice === 'websocket') {
    transport = createWebSocketTransport({
      relayUrl: options.relayUrl,
      WebSocket: WebSocket as unknown as WebSocketConstructor,
    });
  } else {
    throw new NoxyError('INVALID_ARGUMENT', '"transport" expected "grpc", "websocket" or a transport function', {
      field: 'transport',
    });
  }
  return buildDevice(options, identity, transport, 'desktop', options.aead ?? nodeAead, nodeEd25519Sign);
}
