/**
 * `noxy-mcp` configuration from environment variables, checked at start with one clear
 * message per problem (and never echoing the token).
 *
 * | variable | meaning |
 * |---|---|
 * | NOXY_ENDPOINT | relay URL (https://…, or http:// to a loopback local relay) |
 * | NOXY_AUTH_TOKEN | the app token |
 * | NOXY_IDENTITY | who to ask: 0x wallet, email, +E.164 phone, or a user id (`user_id:alice` forces the kind) |
 * | NOXY_DECISION_TTL_SECONDS | lifetime of each approval request (default 600) |
 * | NOXY_HOLD_SECONDS | how long one tool call waits before answering `pending` (default 45) |
 * | NOXY_HANDLE_SECRET | keys decision handles (≥ 16 characters; default: derived from the app token) |
 * | NOXY_REQUIRE_DEVICE_SIGNATURE | `1`/`true`: only approvals signed by the user's device count (default off) |
 * @module
 */
import {
  assertAuthToken,
  IDENTITY_TYPES,
  MAX_TTL_SECONDS,
  NoxyError,
  parseEndpoint,
  parseIdentity,
  type Identity,
  type IdentityType,
} from '@noxy-approval/core';

/** Validated configuration. */
export interface McpConfig {
  endpoint: string;
  authToken: string;
  identity: Identity;
  ttlSeconds: number;
  holdSeconds: number;
  /**
   * Keys the decision handles, so a restarted server or a replica with the same configuration
   * resumes pending decisions. The app token by default (HKDF-separated from its other use).
   */
  handleSecret: string;
  /** Only device-signed approvals count (docs/security.md §10). */
  requireDeviceSignature: boolean;
}

/** Result of {@link loadConfig}: either a config or the list of problems. */
export type ConfigResult = { ok: true; config: McpConfig } | { ok: false; problems: string[] };

function intIn(
  raw: string | undefined,
  name: string,
  fallback: number,
  min: number,
  max: number,
  problems: string[],
): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min || n > max) {
    problems.push(`${name} must be a whole number of seconds between ${min} and ${max} (got "${raw}")`);
    return fallback;
  }
  return n;
}

/** Accepts `kind:id` to force a kind (e.g. `user_id:+123` for an id that looks like a phone). */
function identityFrom(raw: string): Identity {
  const m = /^(wallet|email|phone|user_id):(.*)$/s.exec(raw);
  if (m && IDENTITY_TYPES.includes(m[1] as IdentityType))
    return parseIdentity({ type: m[1] as IdentityType, id: m[2]! }, 'NOXY_IDENTITY');
  return parseIdentity(raw, 'NOXY_IDENTITY');
}

/**
 * Reads and validates the configuration.
 * @param env usually `process.env` (only the CLI passes it)
 */
export function loadConfig(env: Record<string, string | undefined>): ConfigResult {
  const problems: string[] = [];
  const endpoint = env.NOXY_ENDPOINT?.trim() ?? '';
  if (endpoint === '')
    problems.push(
      'NOXY_ENDPOINT is not set: the relay URL, ' +
        'e.g. https://relay.noxy.network or http://127.0.0.1:7070 for a local relay',
    );
  else {
    try {
      parseEndpoint(endpoint);
    } catch (err) {
      problems.push(`NOXY_ENDPOINT is invalid: ${(err as Error).message}`);
    }
  }
  const authToken = env.NOXY_AUTH_TOKEN ?? '';
  if (authToken === '')
    problems.push(
      'NOXY_AUTH_TOKEN is not set: the app token of your Noxy app ' +
        '(`noxy-relay app create` prints one for a local relay)',
    );
  else {
    try {
      assertAuthToken(authToken);
    } catch {
      problems.push('NOXY_AUTH_TOKEN contains spaces, line breaks or non-ASCII characters');
    }
  }
  const rawIdentity = env.NOXY_IDENTITY ?? '';
  let identity: Identity | undefined;
  if (rawIdentity === '')
    problems.push('NOXY_IDENTITY is not set: who approves, e.g. alice@example.com, +15551234567, 0x… or a user id');
  else {
    try {
      identity = identityFrom(rawIdentity);
    } catch (err) {
      problems.push(`NOXY_IDENTITY is invalid: ${NoxyError.isInstance(err) ? err.message : String(err)}`);
    }
  }
  const ttlSeconds = intIn(
    env.NOXY_DECISION_TTL_SECONDS,
    'NOXY_DECISION_TTL_SECONDS',
    600,
    1,
    MAX_TTL_SECONDS,
    problems,
  );
  const holdSeconds = intIn(env.NOXY_HOLD_SECONDS, 'NOXY_HOLD_SECONDS', 45, 1, 3600, problems);
  // Without a secret of its own, the handle key comes from the app token: every replica with the
  // same configuration resumes the same decisions, and whoever has the token could poll them anyway.
  const handleSecret = env.NOXY_HANDLE_SECRET ?? `noxy-mcp decision handles, keyed by app token:${authToken}`;
  if (env.NOXY_HANDLE_SECRET !== undefined && env.NOXY_HANDLE_SECRET.length < 16) {
    problems.push('NOXY_HANDLE_SECRET must be at least 16 characters (use a long random string)');
  }
  const rawRequire = (env.NOXY_REQUIRE_DEVICE_SIGNATURE ?? '').trim().toLowerCase();
  const requireDeviceSignature = ['1', 'true', 'yes'].includes(rawRequire);
  if (!requireDeviceSignature && !['', '0', 'false', 'no'].includes(rawRequire)) {
    problems.push('NOXY_REQUIRE_DEVICE_SIGNATURE must be 1/true/yes or 0/false/no (default off)');
  }
  if (problems.length > 0 || !identity) return { ok: false, problems };
  return {
    ok: true,
    config: { endpoint, authToken, identity, ttlSeconds, holdSeconds, handleSecret, requireDeviceSignature },
  };
}

/**
 * An identity for logs: its kind and enough of the id to spot a typo, never all of it
 * (`email alice@example.com` → `email al…e@example.com`).
 */
export function maskIdentity(identity: Identity): string {
  const { type, id } = identity;
  const cut = (text: string, head: number, tail: number) =>
    text.length <= head + tail + 1 ? `${text.slice(0, 1)}…` : `${text.slice(0, head)}…${text.slice(-tail)}`;
  if (type === 'email') {
    const at = id.lastIndexOf('@');
    return `email ${cut(id.slice(0, at), 2, 1)}${id.slice(at)}`;
  }
  if (type === 'wallet') return `wallet ${cut(id, 6, 4)}`;
  return `${type} ${cut(id, type === 'phone' ? 3 : 2, type === 'phone' ? 4 : 2)}`;
}

/** Problems worth a warning that do not stop the server. */
export function configWarnings(config: McpConfig): string[] {
  return config.holdSeconds > 55
    ? [
        `NOXY_HOLD_SECONDS=${config.holdSeconds} is above 55: most MCP hosts cut a tool call at about 60 s, ` +
          'so the call may be cut before it can answer "pending" (45 is the default)',
      ]
    : [];
}
