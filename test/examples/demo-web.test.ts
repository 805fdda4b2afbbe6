/**
 * `npm run demo -- --web` end to end: the demo is spawned as a user runs it, prints the web
 * page's pairing link, and a person — here Debian chromium through playwright-core — opens it,
 * pairs and answers on the page. Loopback only. A missing chromium fails the run (as test/web).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeRun, startCommand } from '@noxy-approval/testing';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const env = {
  ...process.env,
  TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../examples/demo/tsconfig.tsx-source.json', import.meta.url)),
};
const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'];
const RUN_TIMEOUT_MS = 30_000;

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`the --web test needs Debian chromium at ${CHROMIUM}`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});
afterAll(async () => {
  await browser?.close();
});

describe('npm run demo -- --web (spawned, chromium)', { timeout: RUN_TIMEOUT_MS + 10_000 }, () => {
  it('prints the page link and a QR code, waits for the page to pair, and the answer there decides', async () => {
    const demo = startCommand([process.execPath, '--import', 'tsx', 'examples/demo/index.ts', '--web'], {
      cwd: root,
      env,
      timeoutMs: RUN_TIMEOUT_MS,
    });
    try {
      const [, link] = await demo.waitFor(/^\s+(http:\/\/127\.0\.0\.1:\d+\/#pair=\S+)$/m, RUN_TIMEOUT_MS);
      expect(new URLSearchParams(new URL(link!).hash.slice(1)).get('type')).toBe('email');
      await demo.waitFor(/waiting for the web page to pair/, RUN_TIMEOUT_MS);
      const page = await browser.newPage();
      await page.goto(link!);
      // The page shows the request rendered from the decrypted payload; the person rejects it.
      await page.locator('button.reject').first().click({ timeout: 20_000 });
      const run = await demo.exited;
      expect(run.code, describeRun('npm run demo -- --web', run)).toBe(0);
      await page.close();
    } finally {
      await demo.stop(0);
    }
    const { stdout } = demo.output();
    expect(stdout).toMatch(/serving the web approval page at http:\/\/127\.0\.0\.1:\d+\//);
    expect(stdout).toContain('\u001b['); // the QR code, drawn with terminal colours
    expect(stdout).toContain('the web page is paired and listening');
    expect(stdout).toMatch(/gate +outcome: rejected/);
    expect(stdout).toContain('Outcome: REJECTED');
    expect(stdout).toContain('Transfers executed: 0');
    expect(stdout).toContain('shut down cleanly');
  });
});
