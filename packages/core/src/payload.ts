/**
 * Serialises a decision to the UTF-8 JSON plaintext of the envelope (protocol.md §2.1).
 *
 * Same output as the official Node SDK's `JSONStringify` (json-with-bigint) for the values it
 * accepts: compact JSON, BigInt as bare digits. Unlike `JSON.stringify`, nothing is dropped or
 * changed silently — a value that cannot be represented faithfully (function, symbol,
 * `undefined`, NaN/Infinity, a cycle) is refused with the path of the offending field, so the
 * human never approves something other than what the agent meant.
 * @module
 */
import { describe, NoxyError } from './errors.js';

/** Largest accepted plaintext, well inside gRPC's 4 MiB message limit. */
export const MAX_DECISION_BYTES = 256 * 1024;

function fail(path: string, expected: string, value: unknown): never {
  throw new NoxyError('INVALID_ARGUMENT', `"${path}" expected ${expected}, got ${describe(value)}`, { field: path });
}

function write(value: unknown, path: string, seen: Set<object>, out: string[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      if (!Number.isFinite(value)) fail(path, 'a finite number', value);
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'bigint':
      out.push(value.toString());
      return;
    case 'object':
      break;
    default:
      fail(path, 'a JSON value', value);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  const obj = value as object;
  if (seen.has(obj)) fail(path, 'no circular reference', value);
  seen.add(obj);
  if (typeof (obj as { toJSON?: unknown }).toJSON === 'function') {
    // In `seen` meanwhile, so a toJSON that returns its own object is a cycle, not a stack overflow.
    write((obj as { toJSON(): unknown }).toJSON(), path, seen, out);
  } else if (Array.isArray(obj)) {
    out.push('[');
    // An index loop, not forEach: a hole must be refused like `undefined`, not skipped (which
    // would produce invalid JSON such as `[,1]`).
    for (let i = 0; i < obj.length; i++) {
      if (i > 0) out.push(',');
      write(obj[i], `${path}[${i}]`, seen, out);
    }
    out.push(']');
  } else {
    const proto = Object.getPrototypeOf(obj) as unknown;
    if (proto !== Object.prototype && proto !== null) fail(path, 'a plain object', value);
    out.push('{');
    let first = true;
    for (const [key, item] of Object.entries(obj)) {
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(key), ':');
      write(item, `${path}.${key}`, seen, out);
    }
    out.push('}');
  }
  seen.delete(obj);
}

/**
 * Canonical-free, faithful JSON of a decision object.
 * @param decision a plain JSON object (devices such as iOS require an object at the top)
 * @param field the argument name used in error messages
 * @throws NoxyError `INVALID_ARGUMENT` naming the offending path
 */
export function serializeDecision(decision: unknown, field = 'decision'): Uint8Array {
  if (typeof decision !== 'object' || decision === null || Array.isArray(decision)) {
    fail(field, 'a plain JSON object', decision);
  }
  const out: string[] = [];
  try {
    write(decision, field, new Set(), out);
  } catch (err) {
    // Nesting deep enough to exhaust the stack (or a toJSON that never ends): a typed error.
    if (err instanceof RangeError) fail(field, `a JSON value that can be serialised (${err.message})`, decision);
    throw err;
  }
  // A top-level toJSON (a Date, say) may turn the object into a string or an array.
  if (out[0] !== '{') fail(field, 'a plain JSON object', decision);
  const bytes = new TextEncoder().encode(out.join(''));
  if (bytes.length > MAX_DECISION_BYTES) {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      `"${field}" expected at most ${MAX_DECISION_BYTES} bytes of JSON, got ${bytes.length}`,
      { field },
    );
  }
  return bytes;
}
