/**
 * What the human sees (docs/security.md §2): the decision rendered **by code** from the decrypted
 * payload, never the agent's own wording alone.
 *
 * - the tool name and the canonical arguments (keys sorted by UTF-16 code units as in RFC 8785,
 *   JSON-like, one value per line) — the part the approval is bound to by `action_hash`;
 * - the agent-written `title` and `summary`, quoted and labelled `Agent says (unverified):`;
 * - a short fingerprint of `action_hash`, recomputed here over the tool and arguments shown
 *   (core's `checkActionHash`), and the request and expiry times;
 * - every string through {@link escapeText}, so no control, bidi, invisible or line-breaking
 *   character can hide or forge content, and each returned line is one physical line.
 *
 * Payloads of other shapes (official SDK examples carry only title/summary/...) are rendered
 * generically: agent text labelled, every other field shown JSON-like.
 * @module
 */
import { actionFingerprint, checkActionHash } from '@noxy-approval/core/portable';
import { quoteText } from './escape.js';

/** Options of {@link renderDecision}. */
export interface RenderOptions {
  /** The relay's id for the decision, shown when the payload carries none. */
  decisionId?: string;
  /** Clock for "expires in …" (ms since epoch); `Date.now()` when omitted. */
  now?: number;
}

const AGENT_TEXT_FIELDS = ['title', 'summary', 'body', 'message'] as const;
const MAX_DEPTH = 64;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Renders a JSON value over several lines, JSON-like, keys sorted, strings escaped.
 * Injective on JSON values: different values (up to key order) never render the same.
 * @param indent prefix of every line after the first
 */
export function renderValue(value: unknown, indent = '', depth = 0): string[] {
  if (depth > MAX_DEPTH) return ['…(nested too deeply)'];
  if (value === null) return ['null'];
  switch (typeof value) {
    case 'string':
      return [quoteText(value)];
    case 'number':
      return [Object.is(value, -0) ? '-0' : String(value)];
    case 'bigint':
    case 'boolean':
      return [String(value)];
    case 'object':
      break;
    default:
      return [`<${typeof value}>`];
  }
  const inner = `${indent}  `;
  const entries: [string | undefined, unknown][] = Array.isArray(value)
    ? value.map((v) => [undefined, v])
    : Object.keys(value as object)
        .sort()
        .map((k) => [k, (value as Record<string, unknown>)[k]]);
  const [open, close] = Array.isArray(value) ? ['[', ']'] : ['{', '}'];
  if (entries.length === 0) return [open + close];
  const lines = [open];
  entries.forEach(([key, v], i) => {
    const sub = renderValue(v, inner, depth + 1);
    const head = key === undefined ? '' : `${quoteText(key)}: `;
    const comma = i < entries.length - 1 ? ',' : '';
    sub[0] = `${inner}${head}${sub[0]}`;
    sub[sub.length - 1] += comma;
    lines.push(...sub);
  });
  lines.push(`${indent}${close}`);
  return lines;
}

function parseTime(v: unknown): Date | undefined {
  let ms: number | undefined;
  if (typeof v === 'number' && Number.isFinite(v))
    ms = v < 1e12 ? v * 1000 : v; // seconds or ms
  else if (typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v)) ms = Date.parse(v);
  if (ms === undefined || Number.isNaN(ms)) return undefined;
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

function span(ms: number): string {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}

function timeLine(label: string, v: unknown, now: number | undefined): string {
  const d = parseTime(v);
  if (!d) return `${label}${renderValue(v)[0]} (unreadable time)`;
  const iso = d.toISOString();
  if (now === undefined) return `${label}${iso}`;
  const left = d.getTime() - now;
  return `${label}${iso} (${left > 0 ? `in ${span(left)}` : `EXPIRED ${span(left)} ago`})`;
}

/** Renders a field whose value may be a nested structure, aligned after `label`. */
function field(label: string, v: unknown): string[] {
  const pad = ' '.repeat(label.length);
  const lines = renderValue(v, pad);
  lines[0] = label + lines[0];
  return lines;
}

/**
 * Renders a decrypted decision payload as lines of text for the human.
 * @param payload the parsed payload (any JSON value)
 * @example
 * for (const line of renderDecision(decision.payload, { now: Date.now() })) console.log(line);
 */
export function renderDecision(payload: unknown, options: RenderOptions = {}): string[] {
  const now = options.now ?? Date.now();
  if (!isRecord(payload)) {
    return ['Decision request (unrecognised format)', ...field('  Payload (unverified): ', payload)];
  }
  const p = payload;
  const isV1 = p.v === 1 && p.kind === 'propose_tool_call';
  const hasTool = typeof p.tool === 'string';
  const id = typeof p.decision_id === 'string' ? p.decision_id : options.decisionId;
  const lines = [`${hasTool ? 'Approval request' : 'Decision request'}${id === undefined ? '' : ` ${quoteText(id)}`}`];
  const warn = (text: string) => lines.push(`  ! ${text}`);
  const shown = new Set<string>();
  if (typeof p.decision_id === 'string') shown.add('decision_id');
  if (isV1) shown.add('v').add('kind');

  if (hasTool) {
    const tool = p.tool as string;
    lines.push(`  Tool:        ${quoteText(tool)}`);
    if (/[^\x20-\x7e]/.test(tool)) warn('the tool name contains non-ASCII characters (look-alike letters?)');
    lines.push(...field('  Arguments:   ', p.args === undefined ? {} : p.args));
    shown.add('tool').add('args');
  } else if (isV1) warn('malformed request: "tool" is missing');

  if ('action_hash' in p) {
    const fp = actionFingerprint(p.action_hash);
    const check = fp && isV1 ? checkActionHash(p) : 'unverifiable';
    const note = check === 'match' ? ' (matches the tool and arguments shown)' : '';
    lines.push(
      fp ? `  Fingerprint: ${fp}${note}` : `  Fingerprint: ${renderValue(p.action_hash)[0]} (not a SHA-256 hash)`,
    );
    if (check === 'mismatch') warn('action_hash does NOT match the tool and arguments shown: do not approve');
    shown.add('action_hash');
  } else if (hasTool) warn('no action_hash: the arguments are not bound to this request');
  if ('requested_at' in p) lines.push(timeLine('  Requested:   ', p.requested_at, undefined));
  if ('expires_at' in p) lines.push(timeLine('  Expires:     ', p.expires_at, now));
  shown.add('requested_at').add('expires_at');

  if (isRecord(p.agent) && typeof p.agent.name === 'string') {
    const host = typeof p.agent.host === 'string' ? ` on ${quoteText(p.agent.host)}` : '';
    lines.push(`  Agent:       ${quoteText(p.agent.name)}${host} (as reported by the agent)`);
    if (Object.keys(p.agent).some((k) => k !== 'name' && k !== 'host'))
      lines.push(...field('  Agent info:  ', p.agent));
    shown.add('agent');
  }

  const said = AGENT_TEXT_FIELDS.filter((k) => k in p);
  if (said.length > 0) {
    lines.push('  Agent says (unverified):');
    for (const k of said) {
      const label = `    ${k[0]!.toUpperCase()}${k.slice(1)}:`.padEnd(14);
      lines.push(...field(`${label} `, p[k]));
      shown.add(k);
    }
  }

  const rest = Object.keys(p).filter((k) => !shown.has(k));
  if (rest.length > 0) {
    const other: Record<string, unknown> = {};
    for (const k of rest) Object.defineProperty(other, k, { value: p[k], enumerable: true });
    lines.push(...field('  Other fields (unverified): ', other));
  }
  return lines;
}
