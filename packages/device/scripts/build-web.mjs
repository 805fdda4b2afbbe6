#!/usr/bin/env node
/**
 * Builds the web approval page into packages/device/dist/web/: `index.html`, `page.css` and one
 * browser bundle `page.js` (esbuild, ESM, minified, no source map). Run after `tsc --build` (the
 * page imports `@noxy-approval/core/portable`, resolved to core's dist/). Type-checks the page
 * first (src/web/tsconfig.json: DOM types) unless `--no-check` is given.
 *
 *   node packages/device/scripts/build-web.mjs [--no-check]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const web = `${pkg}src/web/`;
const out = `${pkg}dist/web/`;

if (!process.argv.includes('--no-check')) {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '-p', `${web}tsconfig.json`], { stdio: 'inherit' });
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
await build({
  entryPoints: [`${web}page.ts`],
  outfile: `${out}page.js`,
  bundle: true,
  platform: 'browser',
  format: 'esm',
  target: ['es2022'],
  minify: true,
  legalComments: 'none',
  logLevel: 'warning',
  // The liboqs backend is never used by the page (kem: 'mlkem'); its dynamic import stays unresolved.
  external: ['@oqs/liboqs-js'],
});
for (const file of ['index.html', 'page.css']) copyFileSync(`${web}${file}`, `${out}${file}`);
