/**
 * Escaping of untrusted text for the approval display (docs/security.md §2.2). Every code point
 * that is invisible, reorders text, breaks lines or drives a terminal is **shown** as
 * `\u{XXXX}`, never stripped, so the human sees that something is there:
 *
 * - controls: C0, DEL, C1 (including ESC, the start of ANSI sequences, and CR/LF, so no
 *   forged line such as "/approve" can appear);
 * - format characters (`Cf`): bidi embeddings/overrides/isolates U+202A–202E, U+2066–2069,
 *   U+061C, zero-width U+200B–200F, U+FEFF, U+00AD, tag characters U+E0000–E007F, …;
 * - line/paragraph separators U+2028/2029 and every space other than U+0020 (padding tricks);
 * - every Default_Ignorable_Code_Point (variation selectors, Hangul fillers, CGJ, …) and
 *   U+2800 (braille blank, another invisible padder);
 * - surrogates (lone halves), private-use and unassigned code points.
 *
 * The mapping is injective: a backslash is written `\\`, so `\u{` in the output always starts
 * an escape and the original text can be recovered exactly.
 * @module
 */

const UNSAFE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\u2800]|(?! )\p{Zs}/u;

/** True when code point `cp` must be escaped for display. */
export function isUnsafeCodePoint(cp: number): boolean {
  // Surrogate halves are tested as lone units; String.fromCodePoint would refuse nothing here.
  return UNSAFE.test(String.fromCodePoint(cp));
}

/** `\u{XXXX}`: upper-case hex, at least four digits. */
export function codePointEscape(cp: number): string {
  return `\\u{${cp.toString(16).toUpperCase().padStart(4, '0')}}`;
}

/** Options of {@link escapeText}. */
export interface EscapeOptions {
  /** Also escape `"` as `\"` (for text shown between double quotes). */
  quote?: boolean;
}

/**
 * Makes untrusted text safe to show on one line of a terminal or web page (as text content).
 * @example escapeText('pay\u202Eevil') // 'pay\\u{202E}evil'
 */
export function escapeText(text: string, options: EscapeOptions = {}): string {
  let out = '';
  // for…of walks code points; a lone surrogate comes out as one unit and is escaped.
  for (const ch of text) {
    if (ch === '\\') out += '\\\\';
    else if (ch === '"' && options.quote) out += '\\"';
    else if (UNSAFE.test(ch)) out += codePointEscape(ch.codePointAt(0)!);
    else out += ch;
  }
  return out;
}

/** `"` + {@link escapeText}(text, quote) + `"`: shows where agent-written text begins and ends. */
export function quoteText(text: string): string {
  return `"${escapeText(text, { quote: true })}"`;
}
