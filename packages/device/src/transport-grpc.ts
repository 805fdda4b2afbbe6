/**
 * The gRPC transport: one bidirectional `noxy.device.DeviceService/HandleMessage` stream per
 * connection (docs/protocol.md §5.1, §5.3). Node only.
 *
 * Each connection gets its own channel, closed with it: the device's reconnect loop (with its
 * own 30 s cap) decides when to try again, instead of a reused channel's internal backoff,
 * which grows to 120 s in grpc-js.
 * @module
 */
import { credentials, type ChannelCredentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { NoxyError } from '@noxy-approval/core';
import { device } from '@noxy-approval/proto';
import { fromProtoResponse, toProtoRequest } from './grpc-codec.js';
import { isLoopbackHost, type Transport } from './transport.js';

/** Where and how to connect, derived from a relay URL. */
export interface GrpcTarget {
  /** `host:port` for grpc-js. */
  address: string;
  /** True for TLS (`https://`). */
  tls: boolean;
}

/**
 * Parses a relay URL for gRPC: `https://host[:port]` → TLS (default port 443);
 * `http://host[:port]` → plaintext, only for loopback hosts (default port 80), as the official
 * Node device SDK does (§10.7). Anything else is refused.
 * @throws NoxyError `INVALID_ARGUMENT` (field `relayUrl`)
 */
export function grpcTarget(relayUrl: string): GrpcTarget {
  let url: URL;
  try {
    url = new URL(relayUrl);
  } catch {
    throw new NoxyError('INVALID_ARGUMENT', '"relayUrl" expected an https:// URL (or http:// for localhost)', {
      field: 'relayUrl',
    });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      `"relayUrl" expected https:// (or http:// for localhost), got ${url.protocol}`,
      { field: 'relayUrl' },
    );
  }
  const tls = url.protocol === 'https:';
  if (!tls && !isLoopbackHost(url.hostname)) {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      '"relayUrl" must use https://; plaintext http:// is only allowed for localhost',
      { field: 'relayUrl' },
    );
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.username || url.password) {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      '"relayUrl" for gRPC must be scheme://host[:port] without path, query or credentials',
      { field: 'relayUrl' },
    );
  }
  return { address: `${url.hostname}:${url.port || (tls ? '443' : '80')}`, tls };
}

/** Options of {@link createGrpcTransport}. */
export interface GrpcTransportOptions {
  relayUrl: string;
  /** TLS credentials to use instead of the system roots (e.g. a private CA). */
  channelCredentials?: ChannelCredentials;
  /** Keepalive ping interval in ms. Default 30,000 (the official SDK's value). */
  keepaliveMs?: number;
}

/**
 * Creates the gRPC transport.
 * @throws NoxyError `INVALID_ARGUMENT` for a bad URL
 */
export function createGrpcTransport(options: GrpcTransportOptions): Transport {
  const target = grpcTarget(options.relayUrl);
  const creds = target.tls ? (options.channelCredentials ?? credentials.createSsl()) : credentials.createInsecure();
  const keepalive = options.keepaliveMs ?? 30_000;
  return async (handlers) => {
    const client = new device.DeviceServiceClient(target.address, creds, {
      'grpc.keepalive_time_ms': keepalive,
      'grpc.keepalive_timeout_ms': 10_000,
    });
    let call: ClientDuplexStream<device.DeviceRequest, device.DeviceResponse>;
    try {
      call = client.handleMessage();
    } catch (cause) {
      client.close();
      throw new NoxyError('RELAY_UNAVAILABLE', 'could not open the gRPC stream to the relay', {
        cause,
        retryable: true,
      });
    }
    let open = true;
    const finish = (error?: Error) => {
      if (!open) return;
      open = false;
      client.close();
      handlers.onClose(error);
    };
    call.on('data', (message: device.DeviceResponse) => {
      if (!open) return;
      let response: ReturnType<typeof fromProtoResponse>;
      try {
        response = fromProtoResponse(message);
      } catch (error) {
        handlers.onFrameError(
          NoxyError.isInstance(error) ? error : new NoxyError('PROTOCOL', 'undecodable gRPC message', { cause: error }),
        );
        return;
      }
      handlers.onResponse(response);
    });
    call.on('error', (error: Error & { code?: number; details?: string }) => {
      finish(
        new NoxyError('RELAY_UNAVAILABLE', `gRPC stream to the relay failed: ${error.details ?? error.message}`, {
          cause: error,
          grpcCode: error.code,
          retryable: true,
        }),
      );
    });
    call.on('end', () =>
      finish(new NoxyError('RELAY_UNAVAILABLE', 'the relay ended the gRPC stream', { retryable: true })),
    );
    return {
      send(request) {
        if (!open)
          throw new NoxyError('RELAY_UNAVAILABLE', 'the gRPC stream to the relay is closed', { retryable: true });
        call.write(toProtoRequest(request));
      },
      close() {
        if (!open) return;
        open = false;
        call.removeAllListeners('data');
        // Keep an error listener: cancel() emits CANCELLED, which must not be unhandled.
        call.on('error', () => {});
        call.cancel();
        client.close();
      },
    };
  };
}
