// Every committed vector file is pinned by SHA-256.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { groupsOf, hex, readPinned, sha256Hex, VECTOR_DIR, VECTOR_SHA256 } from './vectors.js';

const NOT_VECTORS = new Set(['README.md', 'trim.mjs']);

function listFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? listFiles(join(dir, e.name)) : [relative(VECTOR_DIR, join(dir, e.name)).split('\\').join('/')],
  );
}

describe('test/vectors pins', () => {
  const files = listFiles(VECTOR_DIR).filter((f) => !NOT_VECTORS.has(f));

  it('every committed file is pinned, and every pin has a file', () => {
    expect(files.sort()).toEqual(Object.keys(VECTOR_SHA256).sort());
  });

  it('every file matches its pin', () => {
    for (const rel of files) expect(sha256Hex(readFileSync(join(VECTOR_DIR, rel))), rel).toBe(VECTOR_SHA256[rel]);
    for (const rel of files) expect(() => readPinned(rel)).not.toThrow();
  });

  it('the README lists every pin', () => {
    const readme = readFileSync(join(VECTOR_DIR, 'README.md'), 'utf8');
    for (const [rel, sha] of Object.entries(VECTOR_SHA256)) {
      expect(readme, rel).toContain(rel);
      expect(readme, rel).toContain(sha);
    }
  });

  it('the committed total stays small (< 2 MB)', () => {
    const total = listFiles(VECTOR_DIR).reduce((n, rel) => n + readFileSync(join(VECTOR_DIR, rel)).length, 0);
    expect(total).toBeLessThan(2_000_000);
  });
});

describe('vector loading guards', () => {
  it('a file with no groups, or an empty group, fails loudly', () => {
    expect(() => groupsOf('x', {})).toThrow(/no test groups/);
    expect(() => groupsOf('x', { testGroups: [] })).toThrow(/no test groups/);
    expect(() => groupsOf('x', { testGroups: [{ tests: [] }] })).toThrow(/empty test group/);
  });

  it('malformed hex is never silently decoded (Buffer.from would truncate it)', () => {
    expect(() => hex('abc')).toThrow();
    expect(() => hex('zz')).toThrow();
    expect(hex('00FFaa')).toEqual(new Uint8Array([0, 255, 170]));
  });
});
