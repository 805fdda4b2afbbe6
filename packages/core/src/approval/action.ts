/**
 * The one owner of the approval payload's canonical form, its `action_hash` and the short
 * fingerprint a human compares (docs/protocol.md §3, docs/approvals.md). Browser-safe: the agent
 * hashes with it, the devices (Node, browser page) recompute with it, and the gate re-checks
 * with it just before a tool runs — one implementation, so the three can never disagree.
 *
 * `action_hash = SHA-256(RFC 8785 canonical JSON of { v, kind, decision_id, tool, args,
 * expires_at, agent })`, hex. Canonical JSON (not `JSON.stringify`) makes the hash
 * reproducible by any device or executor in any language; the decision id and expiry bind it
 * to one decision, so an approval cannot be replayed for a second call or after its deadline.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import { NoxyError } from '../errors.js';
import { jsonText } from '../json-text.js';

/** Largest accepted serialised arguments (64 KiB): what a human can review, and far below gRPC limits. */
export const MAX_ACTION_BYTES = 64 * 1024;

/** Who is asking, shown to the human. */
export interface AgentInfo {
  name: string;
  host?: string;
}

/** The plaintext decision sent to the devices. */
export interface ApprovalPayload {
  v: 1;
  kind: 'propose_tool_call';
  decision_id: string;
  tool: string;
  args: Record<string, unknown>;
  title: string;
  summary?: string;
  action_hash: string;
  requested_at: string;
  expires_at: string;
  agent?: AgentInfo;
}

/** The fields `action_hash` covers. */
export type HashedAction = Pick<ApprovalPayload, 'decision_id' | 'tool' | 'args' | 'expires_at' | 'agent'>;

/**
 * RFC 8785 (JCS) canonical JSON of a plain JSON value.
 * @param field the name used in error messages
 * @throws NoxyError `INVALID_ARGUMENT` naming the offending path for values JSON cannot express
 *   faithfully (functions, `undefined`, NaN, cycles, Dates and other non-plain objects)
 * @example canonicalJson({ b: 1, a: [true, null] }) // '{"a":[true,null],"b":1}'
 */
export function canonicalJson(value: unknown, field = 'args'): string {
  return jsonText(value, field, true);
}

/** The object the hash covers, in one place so devices and executors can recompute it. */
export function actionHashInput(p: HashedAction): unknown {
  return {
    v: 1,
    kind: 'propose_tool_call',
    decision_id: p.decision_id,
    tool: p.tool,
    args: p.args,
    expires_at: p.expires_at,
    agent: p.agent ?? null,
  };
}

/**
 * SHA-256 hex of the canonical action.
 * @throws NoxyError `INVALID_ARGUMENT` when the arguments are not plain JSON
 */
export function computeActionHash(p: HashedAction): string {
  return bytesToHex(sha256(utf8ToBytes(canonicalJson(actionHashInput(p)))));
}

/** Result of {@link checkActionHash}. */
export type ActionHashCheck = 'match' | 'mismatch' | 'absent' | 'unverifiable';

/**
 * Recomputes the `action_hash` of a received v1 `propose_tool_call` payload and compares it:
 * what a device does before it shows the fingerprint, so the fingerprint is known to cover
 * exactly the tool and arguments on screen.
 * @returns `absent` when the payload has no `action_hash`, `unverifiable` when it is not a v1
 *   tool call (or holds values JSON cannot express), else `match` / `mismatch`
 */
export function checkActionHash(payload: unknown): ActionHashCheck {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'unverifiable';
  const p = payload as Record<string, unknown>;
  if (!('action_hash' in p)) return 'absent';
  if (p.v !== 1 || p.kind !== 'propose_tool_call' || typeof p.action_hash !== 'string') return 'unverifiable';
  const fields = [p.decision_id, p.tool, p.args, p.expires_at];
  if (fields.some((v) => v === undefined)) return 'mismatch';
  let expected: string;
  try {
    expected = computeActionHash(p as unknown as HashedAction);
  } catch {
    return 'unverifiable';
  }
  return expected === p.action_hash.replace(/^sha256:/, '').toLowerCase() ? 'match' : 'mismatch';
}

/**
 * A short fingerprint of an `action_hash` (64 hex digits, optionally `sha256:`-prefixed): the
 * first 8 hex digits in two groups, e.g. `3f2a 91c0`, which the human compares between the
 * agent's screen and the device; `undefined` when it is not such a hash.
 */
export function actionFingerprint(actionHash: unknown): string | undefined {
  if (typeof actionHash !== 'string') return undefined;
  const m = /^(?:sha256:)?([0-9a-fA-F]{64})$/.exec(actionHash);
  if (!m) return undefined;
  const hex = m[1]!.toLowerCase();
  return `${hex.slice(0, 4)} ${hex.slice(4, 8)}`;
}

/** Inputs of {@link buildApprovalPayload}. */
export interface BuildPayloadInput {
  decisionId: string;
  tool: string;
  args: Record<string, unknown>;
  title: string;
  summary?: string | undefined;
  /** ms since the epoch */
  requestedAt: number;
  /** ms since the epoch */
  expiresAt: number;
  agent?: AgentInfo | undefined;
}

/**
 * Builds the decision payload and checks the action's size.
 * @throws NoxyError `INVALID_ARGUMENT` when args are not plain JSON or exceed 64 KiB
 */
export function buildApprovalPayload(input: BuildPayloadInput): ApprovalPayload {
  const size = utf8ToBytes(canonicalJson(input.args)).length;
  if (size > MAX_ACTION_BYTES) {
    throw new NoxyError('INVALID_ARGUMENT', `"args" expected at most ${MAX_ACTION_BYTES} bytes of JSON, got ${size}`, {
      field: 'args',
    });
  }
  const base = {
    decision_id: input.decisionId,
    tool: input.tool,
    args: input.args,
    expires_at: new Date(input.expiresAt).toISOString(),
    ...(input.agent ? { agent: input.agent } : {}),
  };
  return {
    v: 1,
    kind: 'propose_tool_call',
    ...base,
    title: input.title,
    ...(input.summary ? { summary: input.summary } : {}),
    action_hash: computeActionHash(base),
    requested_at: new Date(input.requestedAt).toISOString(),
  };
}
