/**
 * The one JSON writer of core, in two modes: **faithful** (the envelope plaintext: key order
 * kept, `toJSON` honoured, BigInt as bare digits — what the official Node SDK writes) and
 * **canonical** (RFC 8785 for `action_hash`: keys sorted by UTF-16 code units, only plain
 * values). Unlike `JSON.stringify`, nothing is dropped or changed silently: a value that cannot
 * be written faithfully (function, symbol, `undefined`, NaN/Infinity, a hole, a cycle, a class
 * instance) is refused with the path of the offending field, so the human never approves
 * something other than what the agent meant. Browser-safe.
 * @module
 */
import { describe, NoxyError } from './errors.js';

/** Throws the typed error for a value at `path`. */
export function refuseJson(path: string, expected: string, value: unknown): never {
  throw new NoxyError('INVALID_ARGUMENT', `"${path}" expected ${expected}, got ${describe(value)}`, { field: path });
}

function write(value: unknown, path: string, canonical: boolean, seen: Set<object>, out: string[]): void {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      out.push(JSON.stringify(value));
      return;
    case 'number':
      // ECMAScript number printing is also RFC 8785's (§3.2.2.3).
      if (!Number.isFinite(value)) refuseJson(path, 'a finite number', value);
      out.push(JSON.stringify(value));
      return;
    case 'bigint':
      // Only arises from integers too large for a double; written as the exact digits.
      out.push(value.toString());
      return;
    case 'object':
      break;
    default:
      refuseJson(path, 'a JSON value', value);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (seen.has(value)) refuseJson(path, 'no circular reference', value);
  seen.add(value);
  if (!canonical && typeof (value as { toJSON?: unknown }).toJSON === 'function') {
    // In `seen` meanwhile, so a toJSON that returns its own object is a cycle, not a stack overflow.
    write((value as { toJSON(): unknown }).toJSON(), path, canonical, seen, out);
  } else if (Array.isArray(value)) {
    out.push('[');
    // An index loop, not forEach: a hole must be refused like `undefined`, not skipped.
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out.push(',');
      write(value[i], `${path}[${i}]`, canonical, seen, out);
    }
    out.push(']');
  } else {
    // Only plain objects: a Date, Map or class instance has no one JSON form to hash or show.
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) refuseJson(path, 'a plain object', value);
    const keys = canonical ? Object.keys(value).sort() : Object.keys(value);
    out.push('{');
    keys.forEach((key, i) => {
      if (i > 0) out.push(',');
      out.push(JSON.stringify(key), ':');
      write((value as Record<string, unknown>)[key], `${path}.${key}`, canonical, seen, out);
    });
    out.push('}');
  }
  seen.delete(value);
}

/**
 * Writes `value` as JSON text.
 * @param field the name used in error messages (the root of every path)
 * @param canonical RFC 8785 canonical form (sorted keys, no `toJSON`) instead of faithful
 * @throws NoxyError `INVALID_ARGUMENT` naming the offending path
 */
export function jsonText(value: unknown, field: string, canonical: boolean): string {
  const out: string[] = [];
  try {
    write(value, field, canonical, new Set(), out);
  } catch (err) {
    // Nesting deep enough to exhaust the stack (or a toJSON that never ends): a typed error.
    if (err instanceof RangeError) refuseJson(field, `a JSON value that can be serialised (${err.message})`, value);
    throw err;
  }
  return out.join('');
}
