import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { escapeText, isUnsafeCodePoint, quoteText } from './escape.js';

// An oracle written independently of escape.ts: the categories of docs/security.md §2.2.
const ORACLE = new RegExp(
  [
    /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]/u.source,
    /[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000\u2800]/u.source,
    /[\ud800-\udfff]/u.source,
  ].join('|'),
  'u',
);
const NAMED = [
  0x00, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x1b, 0x7f, 0x80, 0x85, 0x9b, 0x9f, 0xad, 0x061c, 0x180e, 0x200b,
  0x200c, 0x200d, 0x200e, 0x200f, 0x2028, 0x2029, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2060, 0x2061, 0x2062,
  0x2063, 0x2064, 0x2066, 0x2067, 0x2068, 0x2069, 0xfe0f, 0xfeff, 0xfff9, 0xfffa, 0xfffb, 0xe0001, 0xe0020, 0xe0041,
  0xe007f, 0x3164, 0xffa0, 0x115f, 0x1160, 0x034f, 0xe0100, 0x2800, 0x00a0, 0x3000, 0x1d173, 0xe000, 0xf8ff, 0x10fffd,
];

/** Independent decoder of the escape format: `\\` → `\`, `\"` → `"`, `\u{X}` → code point. */
function unescapeText(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; ) {
    if (text[i] !== '\\') {
      out += text[i++];
      continue;
    }
    const next = text[i + 1];
    if (next === '\\' || next === '"') {
      out += next;
      i += 2;
      continue;
    }
    const m = /^\\u\{([0-9A-F]{4,6})\}/.exec(text.slice(i));
    if (!m) throw new Error(`dangling backslash at ${i}`);
    const cp = parseInt(m[1]!, 16);
    // Lone surrogate halves were escaped one unit at a time.
    out += cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp);
    i += m[0].length;
  }
  return out;
}

const dangerous = fc.constantFrom(
  ...NAMED.map((cp) => String.fromCodePoint(cp)),
  '\\',
  '"',
  '\\u{202E}',
  '\r\n',
  '\u001b[31m',
);
const anyCodePoint = fc
  .integer({ min: 0, max: 0x10ffff })
  .map((cp) => (cp >= 0xd800 && cp <= 0xdfff ? String.fromCharCode(cp) : String.fromCodePoint(cp)));
const hostile = fc.string({
  unit: fc.oneof(dangerous, anyCodePoint, fc.constantFrom('a', 'Z', ' ', '0', '/', 'é', '😀')),
  maxLength: 40,
});

describe('escapeText', () => {
  it('shows bidi, zero-width, ESC and line breaks as visible escapes', () => {
    expect(escapeText('pay\u202Eevil')).toBe('pay\\u{202E}evil');
    expect(escapeText('a\u200Bb')).toBe('a\\u{200B}b');
    expect(escapeText('\u001b[2J')).toBe('\\u{001B}[2J');
    expect(escapeText('ok\r\n/approve')).toBe('ok\\u{000D}\\u{000A}/approve');
    expect(escapeText('tag\u{E0041}')).toBe('tag\\u{E0041}');
    expect(escapeText('back\\slash')).toBe('back\\\\slash');
    expect(escapeText('\ud800x')).toBe('\\u{D800}x');
    expect(escapeText('naïve 😀 text')).toBe('naïve 😀 text');
    expect(quoteText('say "hi"')).toBe('"say \\"hi\\""');
  });

  it('flags every code point named in docs/security.md §2.2', () => {
    for (const cp of NAMED) {
      if (cp === 0x0a) continue;
      expect(isUnsafeCodePoint(cp), cp.toString(16)).toBe(true);
      expect(escapeText(String.fromCodePoint(cp))).toMatch(/^\\u\{[0-9A-F]{4,6}\}$/);
    }
    expect(isUnsafeCodePoint(0x41)).toBe(false);
    expect(isUnsafeCodePoint(0x20)).toBe(false);
  });

  it('property: no unsafe code point or line break survives (10,000 cases)', () => {
    fc.assert(
      fc.property(hostile, (s) => {
        const out = escapeText(s, { quote: true });
        expect(ORACLE.test(out)).toBe(false);
        expect(out).not.toMatch(/[\r\n\u2028\u2029\u001b]/);
      }),
      { numRuns: 10_000 },
    );
  });

  it('property: injective — the original is recovered exactly, and distinct inputs differ (10,000 cases)', () => {
    fc.assert(
      fc.property(hostile, hostile, (a, b) => {
        expect(unescapeText(escapeText(a))).toBe(a);
        expect(unescapeText(escapeText(a, { quote: true }))).toBe(a);
        if (a !== b) expect(escapeText(a)).not.toBe(escapeText(b));
      }),
      { numRuns: 10_000 },
    );
  });
});
