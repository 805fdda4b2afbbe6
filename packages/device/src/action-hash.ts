/**
 * Device-side check of a v1 approval payload's `action_hash` (design.md §2): the agent's
 * approval engine (core `computeActionHash`) hashes
 *
 *   SHA-256(RFC 8785 canonical JSON of { v: 1, kind: "propose_tool_call", decision_id, tool,
 *                                        args, expires_at, agent: agent ?? null })
 *
 * and the device recomputes it over what it is about to show, so the fingerprint the human
 * reads is known to cover exactly the tool and arguments on screen. A mismatch means the
 * payload was built wrongly or altered: the display says so loudly. Browser-safe.
 * @module
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';

/** Result of {@link checkActionHash}. */
export type ActionHashCheck = 'match' | 'mismatch' | 'absent' | 'unverifiable';

/**
 * RFC 8785 (JCS) canonical JSON: keys sorted by UTF-16 code units, no whitespace, numbers as
 * ECMAScript prints them, strings as `JSON.stringify` escapes them. `bigint` is written as its
 * digits (it only arises from integers too large for a double).
 * @returns `undefined` for values JSON cannot express (functions, NaN, …)
 */
export function canonicalJson(value: unknown): string | undefined {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'boolean':
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : undefined;
    case 'bigint':
      return value.toString();
    case 'object': {
      const parts: string[] = [];
      if (Array.isArray(value)) {
        for (const v of value) {
          const c = canonicalJson(v);
          if (c === undefined) return undefined;
          parts.push(c);
        }
        return `[${parts.join(',')}]`;
      }
      for (const k of Object.keys(value).sort()) {
        const c = canonicalJson((value as Record<string, unknown>)[k]);
        if (c === undefined) return undefined;
        parts.push(`${JSON.stringify(k)}:${c}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      return undefined;
  }
}

/**
 * Recomputes the `action_hash` of a v1 `propose_tool_call` payload and compares it.
 * @returns `absent` when the payload has no `action_hash`, `unverifiable` when it is not a v1
 *   tool call (or holds values JSON cannot express), else `match` / `mismatch`
 */
export function checkActionHash(payload: unknown): ActionHashCheck {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) return 'unverifiable';
  const p = payload as Record<string, unknown>;
  if (!('action_hash' in p)) return 'absent';
  if (p.v !== 1 || p.kind !== 'propose_tool_call' || typeof p.action_hash !== 'string') return 'unverifiable';
  const input = {
    v: 1,
    kind: 'propose_tool_call',
    decision_id: p.decision_id,
    tool: p.tool,
    args: p.args,
    expires_at: p.expires_at,
    agent: p.agent ?? null,
  };
  if (Object.values(input).some((v) => v === undefined)) return 'mismatch';
  const canonical = canonicalJson(input);
  if (canonical === undefined) return 'unverifiable';
  const expected = bytesToHex(sha256(utf8ToBytes(canonical)));
  return expected === p.action_hash.replace(/^sha256:/, '').toLowerCase() ? 'match' : 'mismatch';
}
