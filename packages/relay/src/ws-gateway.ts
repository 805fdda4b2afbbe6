/**
 * The device Client API over WebSocket JSON (docs/protocol.md §5.4), on any path of the HTTP port.
 * One {@link DeviceSession} per socket; frames are converted by ws-json.ts.
 * @module
 */
import type { Server } from 'node:http';
import { WebSocketServer, WebSocket, type RawData } from 'ws';
import { DeviceSession, type SessionContext } from './device-session.js';
import { Outbox } from './outbox.js';
import { OwnOrigins, ownOriginsOf } from './own-origins.js';
import { isJsonProblem, parseWsRequest, wsResponseJson } from './ws-json.js';

/** Largest accepted frame (a registration with its 1184-byte key is ~2 KiB of JSON). */
export const WS_MAX_FRAME_BYTES = 1 << 20;
const HEARTBEAT_MS = 30_000;

/** Options of {@link attachWsGateway}. */
export interface WsGatewayOptions {
  /** Origins allowed besides the relay's own (normalised `URL.origin` strings). */
  allowedOrigins?: readonly string[];
  /** Whether the HTTP server is HTTPS (the relay's own origin is then `https://<Host>`). */
  tls?: boolean;
}

/**
 * Whether a WebSocket upgrade's `Origin` may connect. Browsers always send one; SDKs and CLIs
 * send none. Allowed: no Origin, the relay's own origin (the page it serves: same scheme and
 * `Host`), and the configured extra origins. Anything else is another site's page trying to use
 * this browser's network position (cross-site WebSocket hijacking) and gets 403.
 *
 * `host` must already be one of the relay's own names ({@link OwnOrigins.hostAllowed}, which the
 * gateway checks first): compared with the request's `Host` alone, a DNS-rebinding page
 * (`Origin` and `Host` both `evil.example:7071`) would pass.
 */
export function originAllowed(
  origin: string | undefined,
  host: string | undefined,
  options: WsGatewayOptions = {},
): boolean {
  if (origin === undefined) return true;
  let o: URL;
  try {
    o = new URL(origin);
  } catch {
    return false; // includes the opaque "null" origin of sandboxed frames and file: pages
  }
  if (options.allowedOrigins?.includes(o.origin)) return true;
  if (host === undefined) return false;
  const own = `${options.tls ? 'https' : 'http'}://${host}`;
  try {
    return new URL(own).origin === o.origin;
  } catch {
    return false;
  }
}

/** The running gateway. */
export interface WsGateway {
  /** Closes every socket (code 1001) and stops accepting upgrades. */
  close(): Promise<void>;
  /** Open sockets. */
  readonly size: number;
}

/**
 * Attaches the WebSocket gateway to an HTTP server.
 * @param server the relay's HTTP server
 * @param ctx shared session state
 * @param options the `Origin` allow-list
 */
export function attachWsGateway(server: Server, ctx: SessionContext, options: WsGatewayOptions = {}): WsGateway {
  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_MAX_FRAME_BYTES });
  const alive = new WeakMap<WebSocket, boolean>();
  let counter = 0;
  let closing = false;

  const own =
    ownOriginsOf(server) ??
    new OwnOrigins({ allowedOrigins: options.allowedOrigins ?? [], tls: options.tls ?? false }, () => server.address());

  server.on('upgrade', (req, socket, head) => {
    if (closing) return void socket.destroy();
    // Before the Origin check, which trusts Host: a foreign name is DNS rebinding (own-origins.ts).
    if (!own.hostAllowed(req.headers.host)) {
      ctx.logger.warn("WebSocket upgrade refused: Host is not one of the relay's names", {
        host: String(req.headers.host).slice(0, 100),
      });
      socket.end('HTTP/1.1 421 Misdirected Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    if (!originAllowed(req.headers.origin, req.headers.host, options)) {
      ctx.logger.warn('WebSocket upgrade refused: Origin not allowed', { origin: String(req.headers.origin) });
      socket.end('HTTP/1.1 403 Forbidden\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  wss.on('connection', (ws: WebSocket) => {
    alive.set(ws, true);
    // A client that does not read its socket is cut off at the bound (outbox.ts) before it
    // costs the relay unbounded memory; the send callback says the frame left the process.
    const outbox = new Outbox();
    const label = `ws#${++counter}`;
    const session = new DeviceSession(
      ctx,
      {
        write(response) {
          if (ws.readyState !== WebSocket.OPEN) return;
          const frame = wsResponseJson(response);
          const bytes = Buffer.byteLength(frame);
          if (!outbox.reserve(bytes)) {
            ctx.logger.warn('device socket closed: it does not read what the relay sends', { connection: label });
            return void ws.terminate();
          }
          ws.send(frame, () => outbox.release(bytes));
        },
        whenWritable: (fn) => outbox.whenLow(fn),
        close: () => ws.terminate(),
      },
      label,
    );
    ctx.logger.debug('device socket opened', { connection: session.label });
    ws.on('pong', () => alive.set(ws, true));
    ws.on('message', (data: RawData) => {
      const text = Array.isArray(data)
        ? Buffer.concat(data).toString('utf8')
        : Buffer.from(data as ArrayBuffer).toString('utf8');
      const parsed = parseWsRequest(text);
      if (isJsonProblem(parsed)) session.malformed(parsed.requestId, parsed.message);
      else session.handle(parsed);
    });
    ws.on('error', () => ws.terminate());
    ws.on('close', () => {
      outbox.clear();
      session.close();
      ctx.logger.debug('device socket closed', { connection: session.label });
    });
  });

  // Half-open sockets (a phone that lost the network) are dropped after one missed pong.
  const heartbeat = setInterval(() => {
    for (const ws of wss.clients) {
      if (alive.get(ws) === false) {
        ws.terminate();
        continue;
      }
      alive.set(ws, false);
      ws.ping();
    }
  }, HEARTBEAT_MS);
  heartbeat.unref();

  return {
    get size() {
      return wss.clients.size;
    },
    close: () =>
      new Promise<void>((done) => {
        closing = true;
        clearInterval(heartbeat);
        for (const ws of wss.clients) ws.close(1001, 'relay shutting down');
        // Sockets that do not finish the closing handshake promptly are cut.
        const force = setTimeout(() => {
          for (const ws of wss.clients) ws.terminate();
        }, 1000);
        force.unref();
        wss.close(() => {
          clearTimeout(force);
          done();
        });
      }),
  };
}
