#!/usr/bin/env node
/**
 * Fails when any line in the repo is wider than 120 columns.
 *
 * Why: Biome formats code to `lineWidth: 120` but does not break long strings, comments, Markdown or JSON
 * values, so wide lines creep back in. This script enforces the limit everywhere, for every file type.
 *
 * What it checks: every file tracked by git (`git ls-files`), or, when git or the repository is not
 * available, every file under the repo root except dependencies, build output and local state
 * (node_modules, dist, coverage, .git, .noxy, .env, *.tsbuildinfo).
 *
 * Not checked:
 *   - generated code: packages/proto/src/gen/**
 *   - test vectors: test/vectors/**
 *   - lockfiles: package-lock.json
 *   - binary files (a NUL byte, or content that is not valid UTF-8) and symlinks
 *
 * Columns are counted in Unicode code points, not bytes or UTF-16 units, so "—" or "é" is one column.
 * A tab counts as one column; a trailing "\r" (CRLF endings) and a leading byte-order mark do not count.
 *
 * Output: `path:line: N columns (max 120)` for each offending line and exit code 1, or a one-line OK and 0.
 *
 * Usage: node scripts/check-line-length.mjs
 */
import { execFileSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAX_COLUMNS = 120;

const root = fileURLToPath(new URL('..', import.meta.url));

/** Paths (relative to the repo root, '/'-separated) that are allowed to have long lines. */
const EXCLUDED_DIRS = ['packages/proto/src/gen/', 'test/vectors/'];
const EXCLUDED_NAMES = new Set(['package-lock.json']);

/** What the directory-walk fallback skips: the same things .gitignore keeps out of git. */
const WALK_SKIP_NAMES = new Set(['.git', 'node_modules', 'dist', 'coverage', '.noxy', '.env']);
const WALK_SKIP_SUFFIXES = ['.tsbuildinfo'];

/** @returns {string[] | null} tracked files relative to the root, or null when git cannot list them. */
function gitFiles() {
  try {
    const out = execFileSync('git', ['ls-files', '-z'], {
      cwd: root,
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    return out.split('\0').filter((path) => path !== '');
  } catch {
    return null;
  }
}

/** @returns {string[]} every file under `dir`, relative to the root, minus WALK_SKIP_*. */
function walkFiles(dir = root) {
  /** @type {string[]} */
  const files = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (WALK_SKIP_NAMES.has(entry.name)) continue;
    if (WALK_SKIP_SUFFIXES.some((suffix) => entry.name.endsWith(suffix))) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...walkFiles(path));
    else if (entry.isFile()) files.push(relative(root, path).split(sep).join('/'));
  }
  return files;
}

/** @param {string} path relative, '/'-separated */
function isExcluded(path) {
  if (EXCLUDED_DIRS.some((dir) => path.startsWith(dir))) return true;
  const name = path.slice(path.lastIndexOf('/') + 1);
  return EXCLUDED_NAMES.has(name);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * @param {string} path relative to the root
 * @returns {string | null} the file's text, or null for binaries, symlinks and files missing from the worktree.
 */
function readText(path) {
  const full = join(root, path);
  let bytes;
  try {
    if (!lstatSync(full).isFile()) return null;
    bytes = readFileSync(full);
  } catch {
    return null; // tracked but deleted in the worktree
  }
  if (bytes.includes(0)) return null;
  try {
    return utf8.decode(bytes); // TextDecoder drops a leading BOM by default
  } catch {
    return null; // not UTF-8: treat as binary
  }
}

const listed = gitFiles() ?? walkFiles();
const files = listed.filter((path) => !isExcluded(path)).sort();

let checked = 0;
let offenders = 0;
for (const path of files) {
  const text = readText(path);
  if (text === null) continue;
  checked++;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.length <= MAX_COLUMNS) continue; // UTF-16 length is never less than the code-point count
    let columns = 0;
    for (const _ of line) columns++;
    if (columns > MAX_COLUMNS) {
      offenders++;
      console.log(`${path}:${i + 1}: ${columns} columns (max ${MAX_COLUMNS})`);
    }
  }
}

if (offenders > 0) {
  console.error(`check-line-length: ${offenders} line(s) over ${MAX_COLUMNS} columns`);
  process.exit(1);
}
console.log(`check-line-length: OK, ${checked} files, no line over ${MAX_COLUMNS} columns`);
