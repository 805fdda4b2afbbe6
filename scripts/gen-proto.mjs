#!/usr/bin/env node
// Generates packages/proto/src/gen from proto/ with the pinned @bufbuild/buf + ts-proto.
// `--check` regenerates into a temporary copy and fails when the committed output is stale.
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const genDir = join(root, 'packages/proto/src/gen');
const buf = join(root, 'node_modules/.bin/buf');

function listFiles(dir) {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listFiles(path) : [path];
  });
}

function snapshot(dir) {
  const files = new Map();
  for (const file of listFiles(dir)) files.set(relative(dir, file), readFileSync(file, 'utf8'));
  return files;
}

const check = process.argv.includes('--check');
let saved;
if (check) {
  saved = mkdtempSync(join(tmpdir(), 'noxy-gen-'));
  cpSync(genDir, saved, { recursive: true });
}
execFileSync(buf, ['generate'], { cwd: root, stdio: 'inherit' });
if (check) {
  const before = snapshot(saved);
  const after = snapshot(genDir);
  rmSync(saved, { recursive: true, force: true });
  const stale = [...new Set([...before.keys(), ...after.keys()])].filter(
    (name) => before.get(name) !== after.get(name),
  );
  if (stale.length > 0) {
    console.error(`generated code is stale: ${stale.join(', ')} — run \`npm run gen:proto\` and commit`);
    process.exit(1);
  }
  console.log('generated code is up to date');
}
