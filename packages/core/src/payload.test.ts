import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_DECISION_BYTES, serializeDecision } from './payload.js';

const text = (v: unknown) => new TextDecoder().decode(serializeDecision(v));

/** JSON.stringify, except that a bigint becomes bare digits (what json-with-bigint writes). */
function reference(value: unknown): string {
  const mark = '\u0000bigint:';
  const json = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${mark}${v}` : v));
  return json.replace(/"\\u0000bigint:(-?\d+)"/g, '$1');
}

const jsonWithBigint = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.string({ unit: 'grapheme-composite' }),
    fc.string({ unit: 'binary' }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.bigInt(),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(fc.string(), tie('value'), { maxKeys: 5 }),
  ),
})).value;

describe('serializeDecision', () => {
  it('equals JSON.stringify for JSON-safe objects', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { noNullPrototype: false }), (value) => {
        expect(text(value)).toBe(JSON.stringify(value));
      }),
      { numRuns: 1_000 },
    );
  });

  it('writes BigInt as bare digits and is otherwise JSON.stringify', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), jsonWithBigint, { maxKeys: 6 }), (value) => {
        expect(text(value)).toBe(reference(value));
      }),
      { numRuns: 1_000 },
    );
    expect(text({ n: 2n ** 64n, m: -7n })).toBe('{"n":18446744073709551616,"m":-7}');
  });

  it('output is UTF-8 of the JSON text, lone surrogates escaped like JSON.stringify', () => {
    const value = { s: 'é😀\ud800', t: '\u2028' };
    expect(Buffer.from(serializeDecision(value)).toString('utf8')).toBe(JSON.stringify(value));
  });

  it('accepts exactly MAX_DECISION_BYTES and refuses one byte more', () => {
    const overhead = '{"b":""}'.length;
    expect(serializeDecision({ b: 'x'.repeat(MAX_DECISION_BYTES - overhead) }).length).toBe(MAX_DECISION_BYTES);
    expect(() => serializeDecision({ b: 'x'.repeat(MAX_DECISION_BYTES - overhead + 1) })).toThrow(/256|262144/);
  });

  it('uses toJSON like JSON.stringify (Date inside an object)', () => {
    const value = { at: new Date(0), nested: [new Date(1)] };
    expect(text(value)).toBe(JSON.stringify(value));
  });

  it('a value shared by two fields is not a cycle', () => {
    const shared = { a: 1 };
    expect(text({ x: shared, y: [shared, shared] })).toBe('{"x":{"a":1},"y":[{"a":1},{"a":1}]}');
  });

  it.each([
    // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested
    ['a hole', { a: [1, , 3] }, 'decision.a[1]'],
    ['a sparse array', { a: new Array(3) }, 'decision.a[0]'],
    ['a Date at the top', new Date(0), 'decision'],
    ['an object whose toJSON returns an array', { toJSON: () => [1] }, 'decision'],
    [
      'a toJSON returning itself',
      {
        x: {
          toJSON(): unknown {
            return this;
          },
        },
      },
      'decision.x',
    ],
  ])('refuses %s (INVALID_ARGUMENT at %s), never emits invalid JSON', (_name, value, field) => {
    expect(() => serializeDecision(value)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field }));
  });

  it('deep nesting is a typed error, not a RangeError', () => {
    let v: unknown = 0;
    for (let i = 0; i < 100_000; i++) v = { v };
    expect(() => serializeDecision(v)).toThrow(
      expect.objectContaining({ name: 'NoxyError', code: 'INVALID_ARGUMENT', field: 'decision' }),
    );
  });

  it('whatever it accepts is valid JSON that parses back', () => {
    fc.assert(
      fc.property(
        fc.dictionary(
          fc.string(),
          fc.anything({
            withBigInt: false,
            withBoxedValues: true,
            withMap: true,
            withSet: true,
            withSparseArray: true,
            withNullPrototype: true,
          }),
        ),
        (value) => {
          let json: string;
          try {
            json = text(value);
          } catch (err) {
            expect(err).toMatchObject({ name: 'NoxyError', code: 'INVALID_ARGUMENT' });
            return;
          }
          expect(() => JSON.parse(json)).not.toThrow();
          expect(json).toBe(JSON.stringify(value));
        },
      ),
      { numRuns: 1_000 },
    );
  });
});
