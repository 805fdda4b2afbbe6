import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);
const BINS = [
  ['noxy-relay', 'relay'],
  ['noxy-device', 'device'],
  ['noxy-mcp', 'mcp'],
] as const;
const pkgOf = (pkg: string) =>
  JSON.parse(readFileSync(`${root}packages/${pkg}/package.json`, 'utf8')) as {
    version: string;
    bin: Record<string, string>;
  };

describe('every bin answers --version with its package version', () => {
  it.each(BINS)('%s, through the bin shim npm links', async (bin, pkg) => {
    const { version, bin: bins } = pkgOf(pkg);
    const { stdout } = await run(process.execPath, [`${root}packages/${pkg}/${bins[bin]}`, '--version'], {
      timeout: 15_000,
    });
    expect(stdout.trim()).toBe(version);
  });

  it.each(BINS)('%s, from the TypeScript source (a checkout where only npm ci ran)', async (bin, pkg) => {
    const fixture = fileURLToPath(new URL('./fixtures/run-source-bin.mjs', import.meta.url));
    const { stdout } = await run(process.execPath, [fixture, pkg, bin, '--version'], { timeout: 30_000, cwd: root });
    expect(stdout.trim()).toBe(pkgOf(pkg).version);
  });
});
