/**
 * The decision payload of an approval (design.md §2) and its `action_hash`.
 *
 * `action_hash = SHA-256(RFC 8785 canonical JSON of { v, kind, decision_id, tool, args,
 * expires_at, agent })`, hex. Canonical JSON (not `JSON.stringify`) makes the hash
 * reproducible by any device or executor in any language (reliability.md §4.1.2); the
 * decision id and expiry bind it to one decision, so an approval cannot be replayed for a
 * second call or after its deadline.
 * @module
 */
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';
import { NoxyError } from '../errors.js';
import { MAX_ACTION_BYTES } from './tool-definition.js';

// canonicalize is CommonJS (`module.exports = serialize`) but its typings declare an ES default
// export, which NodeNext reads as a namespace: the import is the function at runtime.
const canonicalize = canonicalizeModule as unknown as (input: unknown) => string | undefined;

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

/**
 * RFC 8785 canonical JSON of a value.
 * @throws NoxyError `INVALID_ARGUMENT` when the value is not plain JSON (e.g. contains a BigInt)
 */
export function canonicalJson(value: unknown, field = 'args'): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (cause) {
    throw new NoxyError('INVALID_ARGUMENT', `"${field}" expected plain JSON values`, { field, cause });
  }
  if (text === undefined) throw new NoxyError('INVALID_ARGUMENT', `"${field}" expected a JSON value`, { field });
  return text;
}

/** The fields the hash covers, in one place so devices and executors can recompute it. */
export function actionHashInput(
  p: Pick<ApprovalPayload, 'decision_id' | 'tool' | 'args' | 'expires_at' | 'agent'>,
): unknown {
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

/** SHA-256 hex of the canonical action. */
export function computeActionHash(
  p: Pick<ApprovalPayload, 'decision_id' | 'tool' | 'args' | 'expires_at' | 'agent'>,
): string {
  return createHash('sha256')
    .update(canonicalJson(actionHashInput(p)))
    .digest('hex');
}

/** Inputs of {@link buildApprovalPayload}. */
export interface BuildPayloadInput {
  decisionId: string;
  tool: string;
  args: Record<string, unknown>;
  title: string;
  summary?: string | undefined;
  requestedAt: number;
  expiresAt: number;
  agent?: AgentInfo | undefined;
}

/**
 * Builds the decision payload and checks the action's size.
 * @throws NoxyError `INVALID_ARGUMENT` when args are not plain JSON or exceed 64 KiB
 */
export function buildApprovalPayload(input: BuildPayloadInput): ApprovalPayload {
  const size = Buffer.byteLength(canonicalJson(input.args));
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
