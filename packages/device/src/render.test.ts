import { computeActionHash } from '@noxy-approval/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { renderDecision, renderValue } from './render.js';

const NOW = Date.parse('2026-05-01T10:00:00.000Z');

const base = {
  v: 1,
  kind: 'propose_tool_call',
  decision_id: 'd-123',
  tool: 'transfer_funds',
  args: { to: '0x000000000000000000000000000000000000dEaD', amountWei: '1', memo: { z: 1, a: [true, null] } },
  title: 'Transfer 1 wei',
  summary: 'Sends 1 wei to the burn address.',
  requested_at: '2026-05-01T09:59:00.000Z',
  expires_at: '2026-05-01T10:10:00.000Z',
  agent: { name: 'demo-agent', host: 'laptop' },
};
// The hash core's approval engine would compute for this payload.
const v1 = { ...base, action_hash: computeActionHash(base) };
const FP = `${v1.action_hash.slice(0, 4)} ${v1.action_hash.slice(4, 8)}`;

/** Turns rendered JSON-like text back into JSON: `\u{X}` escapes become JSON escapes. */
function toJson(text: string): string {
  return text.replace(/\\(\\|"|u\{([0-9A-F]+)\})/g, (_m, what: string, hex: string | undefined) => {
    if (hex === undefined) return `\\${what}`;
    const cp = parseInt(hex, 16);
    if (cp <= 0xffff) return `\\u${cp.toString(16).padStart(4, '0')}`;
    const s = String.fromCodePoint(cp);
    return [0, 1].map((i) => `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
  });
}

/** Canonical form for comparing JSON values regardless of key order. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (typeof v === 'object' && v !== null) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return Object.is(v, -0) ? '-0' : JSON.stringify(v);
}

describe('renderDecision', () => {
  it('renders a v1 tool call: tool, sorted arguments, fingerprint, times, labelled agent text', () => {
    const lines = renderDecision(v1, { now: NOW });
    expect(lines).toEqual([
      'Approval request "d-123"',
      '  Tool:        "transfer_funds"',
      '  Arguments:   {',
      '                 "amountWei": "1",',
      '                 "memo": {',
      '                   "a": [',
      '                     true,',
      '                     null',
      '                   ],',
      '                   "z": 1',
      '                 },',
      '                 "to": "0x000000000000000000000000000000000000dEaD"',
      '               }',
      `  Fingerprint: ${FP} (matches the tool and arguments shown)`,
      '  Requested:   2026-05-01T09:59:00.000Z',
      '  Expires:     2026-05-01T10:10:00.000Z (in 10m 0s)',
      '  Agent:       "demo-agent" on "laptop" (as reported by the agent)',
      '  Agent says (unverified):',
      '    Title:     "Transfer 1 wei"',
      '    Summary:   "Sends 1 wei to the burn address."',
    ]);
  });

  it('cannot be made to print a forged line or hide characters', () => {
    const evil = {
      ...v1,
      tool: 'tr\u0430nsfer', // Cyrillic a
      args: { 'to\u202E': 'x\r\n  Tool:        "noop"', amount: '1\u200B0' },
      summary: 'harmless\n  Agent says (unverified):\n/approve\u001b[2K',
    };
    const lines = renderDecision(evil, { now: NOW });
    for (const line of lines) expect(line).not.toMatch(/[\r\n\u001b\u200b\u202e]/);
    const text = lines.join('\n');
    expect(text).toContain('"to\\u{202E}": "x\\u{000D}\\u{000A}  Tool:        \\"noop\\""');
    expect(text).toContain('"1\\u{200B}0"');
    expect(text).toContain('harmless\\u{000A}  Agent says (unverified):\\u{000A}/approve\\u{001B}[2K');
    expect(text).toContain('! the tool name contains non-ASCII characters');
    expect(lines.filter((l) => l.startsWith('  Tool:'))).toHaveLength(1);
  });

  it('marks an expired decision and an unreadable time', () => {
    const lines = renderDecision(
      { ...v1, expires_at: '2026-05-01T09:58:00Z', requested_at: 'yesterday' },
      { now: NOW },
    );
    expect(lines).toContain('  Expires:     2026-05-01T09:58:00.000Z (EXPIRED 2m 0s ago)');
    expect(lines).toContain('  Requested:   "yesterday" (unreadable time)');
  });

  it('recomputes the action_hash and warns loudly when it does not cover what is shown', () => {
    const swapped = renderDecision(
      { ...v1, args: { ...v1.args, to: '0x1111111111111111111111111111111111111111' } },
      { now: NOW },
    );
    expect(swapped).toContain(`  Fingerprint: ${FP}`);
    expect(swapped).toContain('  ! action_hash does NOT match the tool and arguments shown: do not approve');
    expect(renderDecision({ ...v1, tool: 'other' }, { now: NOW })).toContain(
      '  ! action_hash does NOT match the tool and arguments shown: do not approve',
    );
  });

  it('warns when the arguments are not bound by an action_hash, or the hash is malformed', () => {
    const { action_hash: _h, ...noHash } = v1;
    expect(renderDecision(noHash, { now: NOW })).toContain(
      '  ! no action_hash: the arguments are not bound to this request',
    );
    expect(renderDecision({ ...v1, action_hash: 'zz' }, { now: NOW })).toContain(
      '  Fingerprint: "zz" (not a SHA-256 hash)',
    );
  });

  it('renders an official-SDK style payload generically, showing every field', () => {
    const lines = renderDecision(
      { title: 'Pay?', body: 'b', data: { x: 1 }, kind: 'other' },
      { decisionId: 'relay-id', now: NOW },
    );
    expect(lines).toEqual([
      'Decision request "relay-id"',
      '  Agent says (unverified):',
      '    Title:     "Pay?"',
      '    Body:      "b"',
      '  Other fields (unverified): {',
      '                               "data": {',
      '                                 "x": 1',
      '                               },',
      '                               "kind": "other"',
      '                             }',
    ]);
    expect(renderDecision('just text', { now: NOW })).toEqual([
      'Decision request (unrecognised format)',
      '  Payload (unverified): "just text"',
    ]);
  });

  it('shows big integers exactly', () => {
    expect(renderValue({ n: 12345678901234567890n })).toEqual(['{', '  "n": 12345678901234567890', '}']);
  });
});

describe('renderValue properties', () => {
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom('\u202e', '\n', '\\', '"', '\u{e0041}', '\u200b', '\u001b'),
      fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    ),
    maxLength: 12,
  });
  const json = fc.letrec((tie) => ({
    value: fc.oneof(
      { depthSize: 'small' },
      fc.constant(null),
      fc.boolean(),
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      text,
      tie('array'),
      tie('object'),
    ),
    array: fc.array(tie('value'), { maxLength: 4 }),
    object: fc.dictionary(text, tie('value'), { maxKeys: 4 }),
  })).value;

  it(
    'round-trips: the rendering parses back to the same value, ' +
      'so distinct values render distinctly (10,000 cases)',
    () => {
      fc.assert(
        fc.property(json, json, (a, b) => {
          const ra = renderValue(a);
          for (const line of ra) expect(line).not.toMatch(/[\n\r\u2028\u2029\u001b]/);
          expect(canonical(JSON.parse(toJson(ra.join('\n'))))).toBe(canonical(a));
          if (canonical(a) !== canonical(b)) expect(ra.join('\n')).not.toBe(renderValue(b).join('\n'));
        }),
        { numRuns: 10_000 },
      );
    },
  );
});
