/**
 * The relay's HTTP port: WebSocket upgrades (ws-gateway.ts), `GET /healthz`, and static files
 * from the `webRoot` folder — by default the device web approval page (`webPageDir()` of
 * `@noxy-approval/device`), at `/`.
 *
 * Static files are sent with a strict Content-Security-Policy (only this origin: the page loads
 * its own script and stylesheet and opens a WebSocket back to the relay, nothing else) and
 * `Cache-Control: no-store`, so a phone never runs a stale page after the relay is updated.
 *
 * A request whose `Host` is not one of the relay's own names (own-origins.ts) gets 421 before
 * anything is served: a DNS-rebinding page (`evil.example` re-pointed at this address) can then
 * neither load the page as its own origin nor read what the port serves. `/healthz` is exempt
 * (it tells nothing, and container health checks use whatever name they have).
 * @module
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { extname, join, resolve, sep } from 'node:path';
import { OwnOrigins, setOwnOrigins } from './own-origins.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.wasm': 'application/wasm',
  '.webmanifest': 'application/manifest+json',
};

/** The Content-Security-Policy of every static file. */
export const WEB_CSP =
  "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; base-uri 'none'; " +
  "form-action 'none'; frame-ancestors 'none'; object-src 'none'";

/** Options of {@link createHttpServer}. */
export interface HttpServerOptions {
  tls?: { cert: string | Buffer; key: string | Buffer };
  /** Folder served as static files (GET/HEAD only); `index.html` for `/`. */
  webRoot?: string;
  /** Whether `webRoot` is the built-in page (changes the hint when it was not built). */
  defaultWebRoot?: boolean;
  /** The configured bind host (a name such as `localhost` is one of the relay's own names). */
  host?: string;
  /** Configured extra origins: their hosts are own names too (a reverse proxy in front). */
  allowedOrigins?: readonly string[];
}

function send(res: ServerResponse, code: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(code, { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(body);
}

// Resolves a URL path inside `root`, or undefined when it would escape it or is not a file.
function staticFile(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const base = resolve(root);
  const path = resolve(join(base, decoded.endsWith('/') ? `${decoded}index.html` : decoded));
  if (path !== base && !path.startsWith(base + sep)) return undefined;
  try {
    return statSync(path).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}

/** The body of a 421: the own names are not listed (a rebinding page could read them). */
export const MISDIRECTED_BODY =
  'misdirected request: this relay answers only to its own addresses; open the URL noxy-relay printed\n';

function handle(options: HttpServerOptions, own: OwnOrigins, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://relay.invalid');
  if (url.pathname === '/healthz' && (req.method === 'GET' || req.method === 'HEAD'))
    return send(res, 200, '{"ok":true}\n', 'application/json');
  if (!own.hostAllowed(req.headers.host)) return send(res, 421, MISDIRECTED_BODY);
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
  const file = options.webRoot ? staticFile(options.webRoot, url.pathname) : undefined;
  if (!file) {
    const unbuilt = options.defaultWebRoot && url.pathname === '/' && !staticFile(options.webRoot ?? '', '/');
    const hint = unbuilt
      ? 'noxy local relay: the web approval page is not built; run `npm run build`\n'
      : options.webRoot
        ? 'not found\n'
        : 'noxy local relay: WebSocket Client API on this port; no web root configured\n';
    return send(res, 404, hint);
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    'content-security-policy': WEB_CSP,
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'x-frame-options': 'DENY',
  });
  if (req.method === 'HEAD') return void res.end();
  createReadStream(file)
    .on('error', () => res.destroy())
    .pipe(res);
}

/**
 * Creates (does not start) the HTTP or HTTPS server. Its own names (for the `Host` check, here
 * and in the WebSocket gateway, `ownOriginsOf(server)`) follow the address it is bound to.
 * @param options TLS material, web root, and the configured host and origins
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const config = {
    tls: options.tls !== undefined,
    ...(options.host !== undefined ? { host: options.host } : {}),
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
  };
  const own = new OwnOrigins(config, () => server.address());
  const listener = (req: IncomingMessage, res: ServerResponse) => handle(options, own, req, res);
  const server: Server = options.tls
    ? createHttps({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createHttp(listener);
  setOwnOrigins(server, own);
  // Slow-loris guard: a request must arrive within 30 s.
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  return server;
}
