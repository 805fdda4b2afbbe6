#!/usr/bin/env node
// `noxy-mcp`: the built CLI (dist/cli.js). In a source checkout where only `npm ci` ran, the
// CLI runs from its TypeScript source instead (this shim exists before any build, so npm links
// the bin at install time and `npx --no-install noxy-mcp` never falls back to the registry).
import { existsSync } from 'node:fs';

const built = new URL('../dist/cli.js', import.meta.url);
if (existsSync(built)) await import(built.href);
else {
  const { runFromSource } = await import('../../../scripts/run-from-source.mjs');
  await runFromSource(new URL('../src/cli.ts', import.meta.url), 'noxy-mcp');
}
