/**
 * A strict JSON parser for decrypted decision payloads (RFC 8259), stricter than `JSON.parse`
 * where the difference could mislead the human who approves:
 *
 * - a **duplicate key** is an error: `{"to":"alice","to":"mallory"}` would otherwise show one
 *   value while another consumer of the same text may use the other;
 * - an integer outside the safe range becomes a `bigint`, so `12345678901234567890` is shown
 *   as sent, not rounded (the official SDKs decode with json-with-bigint for the same reason);
 * - nesting is capped (default 64) so a hostile payload cannot exhaust the stack.
 *
 * Objects are plain objects; a `__proto__` key is an ordinary own property.
 * @module
 */
import { NoxyError } from '@noxy-approval/core/portable';

/** A parsed JSON value (numbers may be `bigint`). */
export type StrictJson = null | boolean | number | bigint | string | StrictJson[] | { [key: string]: StrictJson };

const WS = new Set([0x20, 0x09, 0x0a, 0x0d]);
const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Parses `text` strictly.
 * @param maxDepth deepest nesting of arrays/objects accepted
 * @throws NoxyError `PROTOCOL` with the position of the problem
 */
export function parseStrictJson(text: string, maxDepth = 64): StrictJson {
  let i = 0;
  const fail = (why: string): never => {
    throw new NoxyError('PROTOCOL', `decision payload is not valid JSON: ${why} at offset ${i}`);
  };
  const skip = () => {
    while (i < text.length && WS.has(text.charCodeAt(i))) i++;
  };
  const string = (): string => {
    i++; // opening quote
    let out = '';
    let start = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(start, i++);
        return out;
      }
      if (c < 0x20) fail('raw control character in string');
      if (c !== 0x5c) {
        i++;
        continue;
      }
      out += text.slice(start, i);
      const e = text[i + 1];
      if (e === 'u') {
        const hex = text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
      } else if (e !== undefined && ESCAPES[e] !== undefined) {
        out += ESCAPES[e];
        i += 2;
      } else fail('bad escape');
      start = i;
    }
  };
  const value = (depth: number): StrictJson => {
    skip();
    const c = text[i];
    if (c === '"') return string();
    if (c === '{' || c === '[') {
      if (depth >= maxDepth) fail(`nesting deeper than ${maxDepth}`);
      return c === '{' ? object(depth + 1) : array(depth + 1);
    }
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return v;
      }
    }
    NUMBER.lastIndex = i;
    const m = NUMBER.exec(text);
    if (!m) return fail('unexpected character');
    i += m[0].length;
    const lexeme = m[0];
    const n = Number(lexeme);
    if (/^-?\d+$/.test(lexeme) && !Number.isSafeInteger(n)) return BigInt(lexeme);
    return n;
  };
  const array = (depth: number): StrictJson[] => {
    i++;
    const out: StrictJson[] = [];
    skip();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(value(depth));
      skip();
      if (text[i] === ',') i++;
      else if (text[i] === ']') {
        i++;
        return out;
      } else fail('expected , or ]');
    }
  };
  const object = (depth: number): { [key: string]: StrictJson } => {
    i++;
    const out: { [key: string]: StrictJson } = {};
    const seen = new Set<string>();
    skip();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      skip();
      if (text[i] !== '"') fail('expected a key');
      const key = string();
      // The key itself is not quoted: error messages must not carry decrypted content.
      if (seen.has(key)) fail('duplicate key');
      seen.add(key);
      skip();
      if (text[i] !== ':') fail('expected :');
      i++;
      // defineProperty: a "__proto__" key must become data, not the object's prototype.
      Object.defineProperty(out, key, { value: value(depth), enumerable: true, writable: true, configurable: true });
      skip();
      if (text[i] === ',') i++;
      else if (text[i] === '}') {
        i++;
        return out;
      } else fail('expected , or }');
    }
  };
  const result = value(0);
  skip();
  if (i !== text.length) fail('trailing characters');
  return result;
}
