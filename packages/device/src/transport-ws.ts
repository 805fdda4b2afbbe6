/**
 * The WebSocket JSON transport (docs/protocol.md §5.4). Works with any WHATWG-style WebSocket
 * constructor: the browser's global one, or the `ws` package in Node (injected by the Node
 * entry, so this module stays browser-safe).
 * @module
 */
import { NoxyError } from '@noxy-approval/core/portable';
import { isLoopbackHost, type Transport } from './transport.js';
import { decodeWsResponse, encodeWsRequest } from './ws-codec.js';

/** The slice of the WebSocket API used here (browser WebSocket and `ws` both provide it). */
export interface WebSocketLike {
  binaryType: string;
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code?: number; reason?: string }) => void) | null;
}

/** A WebSocket constructor. */
export type WebSocketConstructor = new (url: string) => WebSocketLike;

const OPEN = 1;

/**
 * The WebSocket URL for a relay URL: `https://`/`wss://` → `wss://`; `http://`/`ws://` only for
 * loopback hosts (plaintext never leaves the machine) unless `allowPlaintext` is set; anything
 * else is refused.
 * @param allowPlaintext also allow `http://`/`ws://` to other hosts (the web page served by a
 *   relay bound to a LAN address: the page itself already came over that plaintext connection)
 * @throws NoxyError `INVALID_ARGUMENT` (field `relayUrl`)
 */
export function webSocketUrl(relayUrl: string, allowPlaintext = false): string {
  let url: URL;
  try {
    url = new URL(relayUrl);
  } catch {
    throw new NoxyError('INVALID_ARGUMENT', '"relayUrl" expected an http(s):// or ws(s):// URL', { field: 'relayUrl' });
  }
  if (url.protocol === 'https:' || url.protocol === 'wss:') url.protocol = 'wss:';
  else if (url.protocol === 'http:' || url.protocol === 'ws:') {
    if (!allowPlaintext && !isLoopbackHost(url.hostname)) {
      throw new NoxyError(
        'INVALID_ARGUMENT',
        '"relayUrl" must use https:// (or wss://); plaintext is only allowed for localhost',
        { field: 'relayUrl' },
      );
    }
    url.protocol = 'ws:';
  } else {
    throw new NoxyError('INVALID_ARGUMENT', `"relayUrl" expected an http(s):// or ws(s):// URL, got ${url.protocol}`, {
      field: 'relayUrl',
    });
  }
  return url.toString();
}

/** Options of {@link createWebSocketTransport}. */
export interface WebSocketTransportOptions {
  /** The relay URL (see {@link webSocketUrl}). */
  relayUrl: string;
  /** The constructor; the global `WebSocket` when omitted. */
  WebSocket?: WebSocketConstructor;
  /** How long to wait for the socket to open, in ms. Default 10,000. */
  connectTimeoutMs?: number;
  /** Allow `http://`/`ws://` to a non-loopback host (see {@link webSocketUrl}). Default false. */
  allowPlaintext?: boolean;
}

/** The text of a frame; synchronous so frames are handled in arrival order, before a close. */
function frameText(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new TextDecoder('utf-8', { fatal: true }).decode(data);
  if (ArrayBuffer.isView(data)) return new TextDecoder('utf-8', { fatal: true }).decode(data as Uint8Array);
  if (Array.isArray(data)) {
    // `ws` may deliver a fragmented message as an array of Buffers.
    const parts = data as Uint8Array[];
    const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const p of parts) {
      all.set(p, offset);
      offset += p.length;
    }
    return new TextDecoder('utf-8', { fatal: true }).decode(all);
  }
  throw new NoxyError('PROTOCOL', 'unsupported WebSocket frame type');
}

/**
 * Creates the WebSocket transport.
 * @throws NoxyError `INVALID_ARGUMENT` for a bad URL or when no WebSocket is available
 */
export function createWebSocketTransport(options: WebSocketTransportOptions): Transport {
  const url = webSocketUrl(options.relayUrl, options.allowPlaintext === true);
  const Ctor = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (!Ctor) {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      '"WebSocket" expected a WebSocket constructor ' +
        '(none is global here; in Node use the package entry, which passes `ws`)',
      {
        field: 'WebSocket',
      },
    );
  }
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  return (handlers) =>
    new Promise((resolve, reject) => {
      const socket = new Ctor(url);
      socket.binaryType = 'arraybuffer'; // never Blob, which could only be read asynchronously
      let state: 'opening' | 'open' | 'closed' = 'opening';
      const timer = setTimeout(
        () =>
          fail(
            new NoxyError('RELAY_UNAVAILABLE', `WebSocket to the relay did not open within ${connectTimeoutMs} ms`, {
              retryable: true,
            }),
          ),
        connectTimeoutMs,
      );
      const detach = () => {
        socket.onopen = socket.onmessage = socket.onerror = socket.onclose = null;
      };
      const fail = (error: NoxyError) => {
        clearTimeout(timer);
        if (state === 'closed') return;
        const wasOpen = state === 'open';
        state = 'closed';
        detach();
        try {
          socket.close();
        } catch {
          // already closing
        }
        if (wasOpen) handlers.onClose(error);
        else reject(error);
      };
      socket.onopen = () => {
        clearTimeout(timer);
        state = 'open';
        resolve({
          send(request) {
            if (state !== 'open' || socket.readyState !== OPEN)
              throw new NoxyError('RELAY_UNAVAILABLE', 'the WebSocket to the relay is closed', { retryable: true });
            socket.send(encodeWsRequest(request));
          },
          close() {
            if (state === 'closed') return;
            state = 'closed';
            detach();
            socket.close(1000, 'client closed');
          },
        });
      };
      socket.onmessage = (ev) => {
        if (state !== 'open') return;
        let response: ReturnType<typeof decodeWsResponse>;
        try {
          response = decodeWsResponse(frameText(ev.data));
        } catch (error) {
          handlers.onFrameError(
            NoxyError.isInstance(error)
              ? error
              : new NoxyError('PROTOCOL', 'undecodable WebSocket frame', { cause: error }),
          );
          return;
        }
        handlers.onResponse(response);
      };
      socket.onerror = () =>
        fail(new NoxyError('RELAY_UNAVAILABLE', 'WebSocket error talking to the relay', { retryable: true }));
      socket.onclose = (ev) =>
        fail(
          new NoxyError('RELAY_UNAVAILABLE', `the relay closed the WebSocket (code ${ev.code ?? 'unknown'})`, {
            retryable: true,
          }),
        );
    });
}
