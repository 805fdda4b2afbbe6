/**
 * What every framework wrapper (LangChain, AI SDK) takes and derives the same way, so they stay
 * thin adapters: the common options (a client, or an endpoint and token), the engine built from
 * them, and the default text a gated call shows on the phone.
 * @module
 */
import { createNoxyClient, type NoxyClient } from '../client.js';
import { describe, invalidArgument } from '../errors.js';
import type { AgentInfo } from './action.js';
import { createApprovalEngine, type ApprovalEngine } from './engine.js';
import { checkIdentitySource, type IdentitySource } from './identity-source.js';
import type { PendingHint } from './messages.js';
import type { ApprovalStore } from './store.js';
import type { Clock } from '../clock.js';

/** The options every wrapper accepts. */
export interface ApprovalWrapperOptions<Context = unknown> {
  /** A Noxy client; or give `endpoint` and `authToken` and the wrapper creates one. */
  client?: NoxyClient;
  /** Relay URL (`https://…`; `http://` only to loopback). With `authToken`, instead of `client`. */
  endpoint?: string;
  /** The app token. With `endpoint`, instead of `client`. */
  authToken?: string;
  /** Who is asked: a fixed identity, or a resolver of the call's context — never the model. */
  identity: IdentitySource<Context>;
  /** Lifetime of each approval request, seconds (default: the client's, 600). */
  ttlSeconds?: number;
  /** Shown to the human as the requester; part of the hashed action. */
  agent?: AgentInfo;
  /** Longest wait of one call before it answers `pending` (default: until the decision expires). */
  holdMs?: number;
  /** Keys decision handles, so another process with the same secret can resume (≥ 16 bytes). */
  handleSecret?: string | Uint8Array;
  store?: ApprovalStore;
  clock?: Clock;
  /**
   * Only device-signed approvals count (docs/security.md §10): an approval that is
   * unsigned, badly signed, by an unknown or wrong device, or for another decision or action is
   * not approved, the tool does not run and the model is told why. Default: the client's
   * setting (false for a client the wrapper creates).
   */
  requireDeviceSignature?: boolean;
}

/** What a wrapper works with, built once from its options. */
export interface WrapperSetup<Context> {
  engine: ApprovalEngine;
  client: NoxyClient;
  identity: IdentitySource<Context>;
  holdMs: number | undefined;
  /** Closes the client if the wrapper created it (not a client the caller passed). */
  close(): void;
}

/**
 * Validates the common options and builds the engine.
 * @param pendingHint how to keep waiting, for wrappers that can answer `pending`
 * @throws NoxyError `INVALID_ARGUMENT` naming the bad option
 */
export function setupWrapper<C>(options: ApprovalWrapperOptions<C>, pendingHint?: PendingHint): WrapperSetup<C> {
  if (typeof options !== 'object' || options === null) throw invalidArgument('options', 'an object', describe(options));
  const { client: given, endpoint, authToken } = options;
  if (given && (endpoint !== undefined || authToken !== undefined)) {
    throw invalidArgument('client', 'either a client or endpoint + authToken, not both', 'both');
  }
  if (!given && (endpoint === undefined || authToken === undefined)) {
    throw invalidArgument('endpoint', 'a client, or endpoint and authToken together', 'neither');
  }
  if (options.holdMs !== undefined && !(Number.isFinite(options.holdMs) && options.holdMs > 0)) {
    throw invalidArgument('holdMs', 'a positive number of ms', describe(options.holdMs));
  }
  const identity = checkIdentitySource(options.identity);
  if (options.requireDeviceSignature !== undefined && typeof options.requireDeviceSignature !== 'boolean') {
    throw invalidArgument('requireDeviceSignature', 'true or false', describe(options.requireDeviceSignature));
  }
  const require = options.requireDeviceSignature;
  const client =
    given ??
    createNoxyClient({
      endpoint: endpoint!,
      authToken: authToken!,
      ...(require ? { requireDeviceSignature: true } : {}),
    });
  const engine = createApprovalEngine({
    client,
    ...(require !== undefined ? { requireDeviceSignature: require } : {}),
    ...(options.ttlSeconds !== undefined ? { ttlSeconds: options.ttlSeconds } : {}),
    ...(options.agent ? { agent: options.agent } : {}),
    ...(options.handleSecret !== undefined ? { handleSecret: options.handleSecret } : {}),
    ...(options.store ? { store: options.store } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(pendingHint ? { pendingHint } : {}),
  });
  return { engine, client, identity, holdMs: options.holdMs, close: () => (given ? undefined : client.close()) };
}

const MAX_TITLE = 140;

/**
 * The default title of a gated call on the phone, derived from the tool name and arguments,
 * e.g. `Run transfer_funds (to: "bob", amount: 25)`, cut to the 140 characters a title allows.
 * The device shows the exact arguments anyway, rendered by code; this is only the headline.
 */
export function defaultTitle(tool: string, args: Record<string, unknown>): string {
  const parts = Object.entries(args).map(([k, v]) => {
    let text: string;
    try {
      text = JSON.stringify(v) ?? String(v);
    } catch {
      text = String(v); // a BigInt or a cycle: the headline need not be exact, the device view is
    }
    return `${k}: ${text.length > 40 ? `${text.slice(0, 39)}…` : text}`;
  });
  const title = parts.length > 0 ? `Run ${tool} (${parts.join(', ')})` : `Run ${tool}`;
  return title.length > MAX_TITLE ? `${title.slice(0, MAX_TITLE - 1)}…` : title;
}
