import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const run = promisify(execFile);

describe('every bin answers --version with its package version', () => {
  it.each([
    ['noxy-relay', 'relay'],
    ['noxy-device', 'device'],
    ['noxy-mcp', 'mcp'],
  ])('%s', async (_bin, pkg) => {
    const { version } = JSON.parse(readFileSync(`${root}packages/${pkg}/package.json`, 'utf8')) as { version: string };
    const { stdout } = await run(process.execPath, [`${root}packages/${pkg}/dist/cli.js`, '--version'], {
      timeout: 15_000,
    });
    expect(stdout.trim()).toBe(version);
  });
});
