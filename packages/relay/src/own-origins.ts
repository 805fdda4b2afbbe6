/**
 * The names the relay's HTTP port answers to, derived from its configuration — never from the
 * request. A DNS-rebinding page (`http://evil.example:7071`, whose name the attacker re-points
 * at 127.0.0.1) is same-origin with itself, so an `Origin` check that compares `Origin` with the
 * request's own `Host` lets it through. Checking `Host` against the relay's own names first
 * closes that: such a request names `evil.example:7071` and is refused (421) before the page is
 * served or the socket upgraded (docs/security.md §5).
 *
 * Own names, each with the bound HTTP port: the bind address; `localhost`, `127.0.0.1` and
 * `[::1]` for a loopback bind; every local address and this machine's host name for a wildcard
 * bind (`0.0.0.0`, `::`); the configured host name and the machine's name for a LAN bind. Plus
 * the hosts of the configured origins as they are written (a reverse proxy in front).
 * @module
 */
import type { AddressInfo } from 'node:net';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';

/** What the relay was configured with. */
export interface OwnOriginsConfig {
  /** The `host` option as given (a name such as `localhost` is kept; the socket only knows the address). */
  host?: string;
  /** Configured extra origins (normalised `URL.origin` strings). */
  allowedOrigins?: readonly string[];
  /** Whether the port speaks HTTPS. */
  tls?: boolean;
}

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];
// A Host header is a name or an address with an optional port: nothing else is looked at.
const HOST_SHAPE = /^(?:[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?|\[[0-9a-f:.]+\])(?::\d{1,5})?$/i;

const bracket = (address: string): string => (isIP(address) === 6 ? `[${address}]` : address);
const isLoopback = (address: string): boolean =>
  address === '::1' || address.startsWith('127.') || address === 'localhost' || address === '::ffff:127.0.0.1';
const isWildcard = (address: string): boolean => address === '0.0.0.0' || address === '::';

/** The relay's own names (without port) for a bound address. */
export function ownHostNames(bound: string, configured?: string): string[] {
  const names = new Set<string>();
  const add = (n: string | undefined) => {
    if (n) names.add(bracket(n.replace(/^\[|\]$/g, '')).toLowerCase());
  };
  // A wildcard is no name: `http://0.0.0.0:port` reaches loopback in some browsers, never the page.
  if (!isWildcard(bound)) add(bound);
  if (configured && !isWildcard(configured)) add(configured);
  if (isLoopback(bound)) for (const n of LOOPBACK_NAMES) names.add(n);
  else {
    // Reached from the network by address or by this machine's name (mDNS `.local` too).
    const me = hostname().toLowerCase();
    if (me) {
      names.add(me);
      if (!me.includes('.')) names.add(`${me}.local`);
    }
    if (isWildcard(bound)) {
      for (const n of LOOPBACK_NAMES) names.add(n);
      for (const infos of Object.values(networkInterfaces()))
        for (const info of infos ?? []) add(info.address.split('%')[0]);
    }
  }
  return [...names];
}

/** The relay's own hosts and origins for the HTTP server's bound address. */
export class OwnOrigins {
  readonly #config: OwnOriginsConfig;
  readonly #address: () => AddressInfo | string | null;
  readonly #scheme: 'http' | 'https';
  #cache: { key: string; hosts: Set<string>; at: number } | undefined;

  /**
   * @param config what the relay was configured with
   * @param address the server's bound address (`server.address()`; read when a request comes)
   */
  constructor(config: OwnOriginsConfig, address: () => AddressInfo | string | null) {
    this.#config = config;
    this.#address = address;
    this.#scheme = config.tls ? 'https' : 'http';
  }

  /** Canonical `host[:port]` (lower case, default port elided) of a Host header, or undefined. */
  canonical(host: string): string | undefined {
    if (!HOST_SHAPE.test(host)) return undefined;
    try {
      return new URL(`${this.#scheme}://${host}`).host.toLowerCase();
    } catch {
      return undefined;
    }
  }

  /** Every accepted `host[:port]`, canonical. Interfaces are re-read at most once a second. */
  hosts(): Set<string> {
    const a = this.#address();
    if (a === null || typeof a === 'string') return new Set();
    const key = `${a.address}|${a.port}`;
    const now = Date.now();
    if (this.#cache && this.#cache.key === key && now - this.#cache.at < 1000) return this.#cache.hosts;
    const hosts = new Set<string>();
    for (const name of ownHostNames(a.address, this.#config.host)) {
      const c = this.canonical(`${name}:${a.port}`);
      if (c) hosts.add(c);
    }
    for (const origin of this.#config.allowedOrigins ?? []) {
      try {
        hosts.add(new URL(origin).host.toLowerCase());
      } catch {
        // Options are validated as origins; nothing to add for one that is not.
      }
    }
    this.#cache = { key, hosts, at: now };
    return hosts;
  }

  /** Whether a request's `Host` header names this relay. Absent or malformed → false. */
  hostAllowed(host: string | undefined): boolean {
    if (host === undefined) return false;
    const c = this.canonical(host);
    return c !== undefined && this.hosts().has(c);
  }
}

const registry = new WeakMap<object, OwnOrigins>();

/** Remembers the own-origins object of an HTTP server (the WebSocket gateway reuses it). */
export function setOwnOrigins(server: object, own: OwnOrigins): void {
  registry.set(server, own);
}

/** The own-origins object of an HTTP server made by `createHttpServer`, if any. */
export function ownOriginsOf(server: object): OwnOrigins | undefined {
  return registry.get(server);
}
