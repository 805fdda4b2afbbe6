/**
 * Vitest global setup: runs `tsc --build` once before any test file, so the tests that spawn a
 * built CLI (dist/cli.js of noxy-device and noxy-mcp) pass on a fresh clone without a manual
 * build, then bundles the web approval page (packages/device/dist/web/, served by the relay and
 * opened by test/web). Up to date it takes a few seconds; a type error fails the run here.
 * @module
 */
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** Builds every project of the root tsconfig.json (incremental), then the web page. */
export function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, '--build'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, ['packages/device/scripts/build-web.mjs'], { cwd: root, stdio: 'inherit' });
}
