/**
 * The relay's HTTP port: WebSocket upgrades (ws-gateway.ts), `GET /healthz`, and static files
 * from the `webRoot` folder — by default the device web approval page (`webPageDir()` of
 * `@noxy-approval/device`), at `/`.
 *
 * Static files are sent with a strict Content-Security-Policy (only this origin: the page loads
 * its own script and stylesheet and opens a WebSocket back to the relay, nothing else) and
 * `Cache-Control: no-store`, so a phone never runs a stale page after the relay is updated.
 * @module
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps } from 'node:https';
import { extname, join, resolve, sep } from 'node:path';

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

function handle(options: HttpServerOptions, req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://relay.invalid');
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
  if (url.pathname === '/healthz') return send(res, 200, '{"ok":true}\n', 'application/json');
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
 * Creates (does not start) the HTTP or HTTPS server.
 * @param options TLS material and web root
 */
export function createHttpServer(options: HttpServerOptions): Server {
  const listener = (req: IncomingMessage, res: ServerResponse) => handle(options, req, res);
  const server: Server = options.tls
    ? createHttps({ cert: options.tls.cert, key: options.tls.key }, listener)
    : createHttp(listener);
  // Slow-loris guard: a request must arrive within 30 s.
  server.requestTimeout = 30_000;
  server.headersTimeout = 20_000;
  return server;
}
