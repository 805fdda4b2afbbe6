/**
 * Administrative operations on a relay store, used by a running relay and by the CLI (which
 * may run them while `noxy-relay start` serves the same data folder — SQLite WAL allows it).
 * @module
 */
import { parseIdentity, type IdentityInput, type IdentityType } from '@noxy-approval/core';
import { invalidOption } from './errors.js';
import { newAppId, newAppToken, newPairingCode, newSigningSecret, sha256 } from './secrets.js';
import type { DecisionStatus, RelayStore } from './store/index.js';

/** Default monthly decision quota of a new app. */
export const DEFAULT_QUOTA_TOTAL = 10_000;
/** Default lifetime of a pairing code: 10 minutes (contract "Registration"). */
export const DEFAULT_PAIRING_TTL_SECONDS = 600;
const MAX_PAIRING_TTL_SECONDS = 7 * 24 * 3600;

/** Options of {@link createApp}. */
export interface CreateAppOptions {
  /** Display name, returned by GetQuota as `app_name`. */
  name: string;
  /** Decisions per calendar month (UTC); default {@link DEFAULT_QUOTA_TOTAL}. */
  quotaTotal?: number;
}

/** A new app's credentials. The token and secret are shown once and never again. */
export interface CreatedApp {
  appId: string;
  /** Bearer token of the Agent API. Only its hash is stored. */
  appToken: string;
  /** HMAC key of device registrations (docs/protocol.md §5.6). */
  signingSecret: string;
}

/**
 * Creates an app.
 * @throws NoxyError `INVALID_ARGUMENT` naming `name` or `quotaTotal`
 * @example
 * const { appId, appToken, signingSecret } = createApp(store, Date.now(), { name: 'demo' });
 */
export function createApp(store: RelayStore, nowMs: number, options: CreateAppOptions): CreatedApp {
  const name = typeof options?.name === 'string' ? options.name.trim() : '';
  if (name === '' || name.length > 100 || /[\u0000-\u001f\u007f]/.test(name)) {
    throw invalidOption('name', 'a non-empty name of at most 100 printable characters', options?.name);
  }
  const quotaTotal = options.quotaTotal ?? DEFAULT_QUOTA_TOTAL;
  if (!Number.isSafeInteger(quotaTotal) || quotaTotal < 0)
    throw invalidOption('quotaTotal', 'a non-negative integer', quotaTotal);
  const created: CreatedApp = { appId: newAppId(), appToken: newAppToken(), signingSecret: newSigningSecret() };
  store.transaction(() => {
    store.apps.insert(
      { appId: created.appId, name, signingSecret: created.signingSecret, quotaTotal, createdAt: nowMs },
      sha256(created.appToken),
    );
    store.decisions.audit(nowMs, created.appId, undefined, undefined, 'app.created', { name, quotaTotal });
  });
  // Credentials are handed out only once they are durable.
  store.commitNow();
  return created;
}

/** Options of {@link createPairing}. */
export interface CreatePairingOptions {
  appId: string;
  /** The identity the paired device will register as: a bare string (kind inferred) or `{ type, id }`. */
  identity: IdentityInput;
  /** Lifetime of the code; default 600 s. */
  ttlSeconds?: number;
}

/** A one-time pairing code and the link that carries it. */
export interface Pairing {
  code: string;
  /** `noxy://pair?relay=…&app=…&type=…&id=…&code=…` (contract "Registration"), for `noxy-device pair`. */
  link: string;
  /**
   * The web approval page link, `<http url>/#pair=<code>&app=…&type=…&id=…`, when the relay's
   * HTTP URL is known. The code is only in the URL fragment, which browsers never send to a server.
   */
  webLink?: string;
  /** ms since epoch. */
  expiresAt: number;
  identityType: IdentityType;
  identityId: string;
}

/**
 * Creates a one-time pairing code for (app, identity). A device proves it holds the code by
 * keying the §5.6 registration HMAC with it; the code itself never crosses the wire.
 * @param relayUrl the relay URL put in the link (the gRPC URL)
 * @param webUrl the relay's HTTP URL (serving the web page), for {@link Pairing.webLink}
 * @throws NoxyError `INVALID_ARGUMENT` naming `appId`, `identity` or `ttlSeconds`
 */
export function createPairing(
  store: RelayStore,
  nowMs: number,
  relayUrl: string,
  options: CreatePairingOptions,
  webUrl?: string,
): Pairing {
  if (typeof options?.appId !== 'string' || !store.apps.get(options.appId))
    throw invalidOption('appId', 'the id of an app on this relay', options?.appId);
  const identity = parseIdentity(options.identity, 'identity');
  const ttl = options.ttlSeconds ?? DEFAULT_PAIRING_TTL_SECONDS;
  if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_PAIRING_TTL_SECONDS) {
    throw invalidOption('ttlSeconds', `an integer 1..${MAX_PAIRING_TTL_SECONDS}`, ttl);
  }
  const code = newPairingCode();
  const expiresAt = nowMs + ttl * 1000;
  store.transaction(() => {
    const pairingId = store.apps.insertPairing({
      appId: options.appId,
      identityType: identity.type,
      identityId: identity.id,
      code,
      createdAt: nowMs,
      expiresAt,
    });
    store.decisions.audit(nowMs, options.appId, undefined, undefined, 'pairing.created', {
      pairingId,
      identityType: identity.type,
      expiresAt,
    });
  });
  store.commitNow();
  const query = new URLSearchParams({
    relay: relayUrl,
    app: options.appId,
    type: identity.type,
    id: identity.id,
    code,
  });
  const pairing: Pairing = {
    code,
    link: `noxy://pair?${query.toString()}`,
    expiresAt,
    identityType: identity.type,
    identityId: identity.id,
  };
  if (webUrl !== undefined) pairing.webLink = webPairingLink(webUrl, options.appId, identity, code);
  return pairing;
}

/**
 * The web page's pairing link: `<webUrl>/#pair=<code>&app=<appId>&type=<kind>&id=<identity>`.
 * Everything after `#` stays in the browser (never in a request line or a server log).
 * @param webUrl the relay's HTTP(S) URL, e.g. `http://192.168.1.20:7071`
 */
export function webPairingLink(
  webUrl: string,
  appId: string,
  identity: { type: IdentityType; id: string },
  code: string,
): string {
  const base = new URL(webUrl);
  if (base.protocol !== 'http:' && base.protocol !== 'https:')
    throw invalidOption('webUrl', 'an http(s):// URL', webUrl);
  const fragment = new URLSearchParams({ pair: code, app: appId, type: identity.type, id: identity.id });
  return `${base.origin}/#${fragment.toString()}`;
}

/** Counts reported by `noxy-relay status`. */
export interface RelayStatus {
  apps: Array<{ appId: string; name: string; quotaTotal: number; quotaUsed: number }>;
  devices: { total: number; active: number };
  decisions: Partial<Record<DecisionStatus, number>> & { total: number };
}

/**
 * Summarises the store: apps (with this month's quota use), devices and decisions by status.
 * @param nowMs relay clock (selects the quota month)
 */
export function relayStatus(store: RelayStore, nowMs: number): RelayStatus {
  const byStatus = store.decisions.statusCounts();
  const total = Object.values(byStatus).reduce((a, b) => a + (b ?? 0), 0);
  return {
    apps: store.apps.list().map((a) => ({
      appId: a.appId,
      name: a.name,
      quotaTotal: a.quotaTotal,
      quotaUsed: store.apps.quotaUsed(a.appId, nowMs),
    })),
    devices: store.devices.counts(),
    decisions: { ...byStatus, total },
  };
}
