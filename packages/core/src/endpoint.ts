/**
 * Endpoint and token rules (docs/protocol.md §1.3, §1.4; docs/security.md §5.1):
 * `https://host[:port]` or a bare `host[:port]` → TLS (port 443 by default), except that a bare
 * loopback address is refused with both spellings to choose from;
 * `http://host[:port]` → plaintext, only when the host is loopback (the local relay);
 * anything else → a clear error before any connection is made.
 * @module
 */
import { invalidArgument } from './errors.js';

/** A parsed relay endpoint. */
export interface RelayEndpoint {
  /** grpc-js target, `host:port` (IPv6 in brackets). */
  target: string;
  /** False only for `http://` to a loopback host. */
  tls: boolean;
  host: string;
  port: number;
}

/** True for `localhost`, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Parses the relay endpoint option.
 * @throws NoxyError `INVALID_ARGUMENT` (field `endpoint`)
 */
export function parseEndpoint(endpoint: unknown): RelayEndpoint {
  if (typeof endpoint !== 'string' || endpoint.trim() === '') {
    throw invalidArgument(
      'endpoint',
      'a relay URL such as https://relay.noxy.network or http://127.0.0.1:7070',
      typeof endpoint,
    );
  }
  const hasScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint);
  let url: URL;
  try {
    url = new URL(hasScheme ? endpoint : `https://${endpoint}`);
  } catch {
    throw invalidArgument('endpoint', 'a valid URL or host[:port]', `"${endpoint}"`);
  }
  const scheme = url.protocol.toLowerCase();
  if (scheme !== 'https:' && scheme !== 'http:') {
    throw invalidArgument(
      'endpoint',
      'an https:// URL, a bare host, or http:// to a loopback host',
      `scheme ${scheme}`,
    );
  }
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw invalidArgument('endpoint', 'scheme, host and port only (no credentials, path or query)', `"${url.origin}…"`);
  }
  const host = url.hostname;
  // A bare loopback address is almost always the local relay typed without its scheme; TLS to
  // it fails with an opaque "wrong version number". Say which of the two was meant instead.
  if (!hasScheme && isLoopbackHost(host)) {
    throw invalidArgument(
      'endpoint',
      `a scheme: http://${endpoint} for the local relay (plaintext, loopback only), or https://${endpoint} ` +
        'for a relay with TLS',
      `"${endpoint}"`,
    );
  }
  const tls = scheme === 'https:';
  if (!tls && !isLoopbackHost(host)) {
    throw invalidArgument(
      'endpoint',
      'https:// for any non-loopback host (plaintext http:// is allowed only for localhost, 127.0.0.0/8 and ::1)',
      `http://${host}`,
    );
  }
  const port = url.port ? Number(url.port) : tls ? 443 : 80;
  return { target: `${host}:${port}`, tls, host: host.replace(/^\[|\]$/g, ''), port };
}

/**
 * Checks a bearer token: non-empty printable ASCII without spaces, so it cannot inject
 * headers (CR/LF) or be silently mangled.
 * @throws NoxyError `INVALID_ARGUMENT` (field `authToken`; the token itself is never echoed)
 */
export function assertAuthToken(token: unknown): asserts token is string {
  if (typeof token !== 'string' || token.length === 0) {
    throw invalidArgument(
      'authToken',
      'the non-empty app token from your Noxy app',
      token === '' ? 'an empty string' : typeof token,
    );
  }
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw invalidArgument('authToken', 'printable ASCII without spaces, CR or LF', 'a token with forbidden characters');
  }
}
