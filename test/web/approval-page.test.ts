/**
 * The web approval page in a real browser (Debian chromium through playwright-core), against the
 * REAL relay (in-process, memory store, ports chosen by the OS) and the REAL agent client +
 * approval engine of core. Loopback only. Never skipped: a missing chromium fails the run.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  actionFingerprint,
  createApprovalEngine,
  createNoxyClient,
  loadKemBackend,
  type ApprovalResult,
  type NoxyClient,
} from '@noxy-approval/core';
import { silentLogger, startRelay, type Relay } from '@noxy-approval/relay';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
// dependencies.md §3.9
const FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const VIEWPORT = { width: 360, height: 640 };
const IDENTITY = 'alice@example.com';
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
// The hostile argument: a bidi override, a zero-width space and a newline.
const HOSTILE = 'report\u202Efdp.exe\u200B\nrm -rf ~';

let browser: Browser;
beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    const where =
      process.env.CI === 'true' ? 'CI must install it (.ci/run does)' : 'install it: apt-get install chromium';
    throw new Error(`the web page tests need Debian chromium at ${CHROMIUM}; ${where}`);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
});
afterAll(async () => {
  await browser?.close();
});

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function setup(): Promise<{ relay: Relay; appId: string; client: NoxyClient }> {
  const relay = await startRelay({ dataDir: ':memory:', logger: silentLogger });
  cleanup.push(() => relay.close());
  const app = relay.createApp({ name: 'web-page' });
  const client = createNoxyClient({
    endpoint: relay.grpcUrl,
    authToken: app.appToken,
    kem: await loadKemBackend('mlkem'),
  });
  cleanup.push(() => client.close());
  return { relay, appId: app.appId, client };
}

/** Opens a fresh pairing link of IDENTITY in a new browser context and waits until connected. */
async function pairedPage(
  relay: Relay,
  appId: string,
  init?: () => void,
): Promise<{ page: Page; context: BrowserContext; errors: string[] }> {
  const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
  cleanup.push(() => context.close());
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  const { webLink, code } = relay.createPairing({ appId, identity: IDENTITY });
  expect(webLink).toContain(`#pair=${code}`);
  await page.goto(webLink!);
  await page.locator('#status[data-state="ready"]').waitFor({ timeout: 15_000 });
  // The code left the address bar, and no request (page, script, stylesheet, socket) carried it.
  expect(page.url()).toBe(`${relay.httpUrl}/`);
  expect(requests.length).toBeGreaterThan(0);
  for (const url of requests) {
    expect(url).not.toContain(code);
    expect(new URL(url).host).toBe(new URL(relay.httpUrl).host);
  }
  return { page, context, errors };
}

const pendingCard = (page: Page) => page.locator('article.card[data-state="pending"]').first();
const cardOf = (page: Page, decisionId: string) => page.locator(`article.card[data-decision-id="${decisionId}"]`);

describe('web approval page (chromium, 360×640)', () => {
  it('pairs by link, escapes hostile text; approve, reject, expire; decided elsewhere on a 2nd device', async () => {
    const { relay, appId, client } = await setup();
    const first = await pairedPage(relay, appId);
    const second = await pairedPage(relay, appId);
    expect(relay.status().devices.active).toBe(2);
    const engine = createApprovalEngine({ client, agent: { name: 'test-agent', host: 'build-box' } });

    // 1. Approve from the first page; the second shows "decided elsewhere".
    const approved = engine.request(
      { tool: 'delete_file', args: { path: HOSTILE, force: true }, title: 'Delete the old report', summary: HOSTILE },
      { identity: IDENTITY },
    );
    const card = pendingCard(first.page);
    await card.waitFor();
    await pendingCard(second.page).waitFor();
    const text = (await card.textContent()) ?? '';
    expect(text).toContain('"delete_file"');
    expect(text).toContain('report\\u{202E}fdp.exe\\u{200B}\\u{000A}rm -rf ~');
    expect(text).not.toMatch(/[\u202E\u200B]/);
    expect(text).not.toContain('exe\u200B\nrm');
    expect(text).toContain('Written by the agent (unverified)');
    expect(text).toContain('"test-agent" on "build-box"');
    expect(text).toContain('✓ matches the tool and arguments shown');
    expect(text).toMatch(/expires in \d/);
    // No horizontal scrolling at 360 px, even with the long arguments.
    const widths = await first.page.evaluate('[document.documentElement.scrollWidth, window.innerWidth]');
    expect((widths as number[])[0]).toBeLessThanOrEqual((widths as number[])[1]!);
    mkdirSync(ARTIFACTS, { recursive: true });
    await first.page.screenshot({ path: `${ARTIFACTS}web-approval-pending-360x640.png` });

    await card.locator('button[data-action="approve"]').click();
    const r1: ApprovalResult = await approved;
    expect(r1.outcome).toBe('approved');
    // The page signed its answer; the agent verified it against the page's pinned key (issue 12).
    expect(r1.verification).toEqual({ verified: true, deviceId: expect.any(String) });
    expect(text).toContain(actionFingerprint(r1.actionHash)!);
    await cardOf(first.page, r1.decisionId).and(first.page.locator('[data-state="approved"]')).waitFor();
    const elsewhere = cardOf(second.page, r1.decisionId);
    await elsewhere.and(second.page.locator('[data-state="elsewhere"]')).waitFor();
    expect(await elsewhere.textContent()).toContain('Decided elsewhere');
    expect(await elsewhere.locator('button[data-action="approve"]').isDisabled()).toBe(true);
    await second.page.screenshot({ path: `${ARTIFACTS}web-approval-elsewhere-360x640.png` });
    await first.page.screenshot({ path: `${ARTIFACTS}web-approval-approved-360x640.png` });

    // 2. Reject from the page.
    const rejected = engine.request(
      { tool: 'send_email', args: { to: 'bob@example.com' }, title: 'Email Bob' },
      { identity: IDENTITY },
    );
    await pendingCard(first.page).locator('button[data-action="reject"]').click();
    const r2 = await rejected;
    expect(r2.outcome).toBe('rejected');
    expect(r2.verification?.verified).toBe(true);
    await cardOf(first.page, r2.decisionId).and(first.page.locator('[data-state="rejected"]')).waitFor();

    // 3. A 2-second decision nobody answers: the page shows it expired and cannot answer it.
    const short = createApprovalEngine({ client, agent: { name: 'test-agent' }, ttlSeconds: 2 });
    const expiring = short.request({ tool: 'noop', args: {}, title: 'Expires' }, { identity: IDENTITY });
    await pendingCard(first.page).waitFor();
    const r3 = await expiring;
    expect(r3.outcome).toBe('expired');
    const expired = cardOf(first.page, r3.decisionId);
    await expired.and(first.page.locator('[data-state="expired"]')).waitFor({ timeout: 5_000 });
    expect(await expired.textContent()).toContain('Expired');
    expect(await expired.locator('button[data-action="approve"]').isDisabled()).toBe(true);
    await first.page.screenshot({ path: `${ARTIFACTS}web-approval-list-360x640.png`, fullPage: true });
    expect(first.errors).toEqual([]);
    expect(second.errors).toEqual([]);
  }, 30_000);

  it('works without crypto.subtle (plain http on a phone); keys survive a reload; a second tab', async () => {
    const { relay, appId, client } = await setup();
    const { page, context, errors } = await pairedPage(relay, appId, () => {
      Object.defineProperty(globalThis.crypto, 'subtle', { value: undefined });
    });
    expect(await page.evaluate('typeof crypto.subtle')).toBe('undefined');
    const engine = createApprovalEngine({ client, agent: { name: 'phone-test' } });
    const pending = engine.request(
      { tool: 'transfer', args: { amount: 5, to: 'carol' }, title: 'Pay Carol' },
      { identity: IDENTITY },
    );
    const card = pendingCard(page);
    await card.waitFor();
    expect(await card.textContent()).toContain('"transfer"');
    await card.locator('button[data-action="approve"]').click();
    expect((await pending).outcome).toBe('approved');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: `${ARTIFACTS}web-approval-no-subtle-360x640.png` });

    // Reload (no pairing link any more): the keys come back from IndexedDB, same device.
    await page.reload();
    await page.locator('#status[data-state="ready"]').waitFor({ timeout: 15_000 });
    // A second tab of the same browser is the same device; the first answer in one tab closes it in the other.
    const tab = await context.newPage();
    await tab.goto(`${relay.httpUrl}/`);
    await tab.locator('#status[data-state="ready"]').waitFor({ timeout: 15_000 });
    expect(relay.status().devices.total).toBe(1);
    const again = engine.request({ tool: 'transfer', args: { amount: 7 }, title: 'Pay again' }, { identity: IDENTITY });
    await pendingCard(tab).waitFor();
    await pendingCard(page).locator('button[data-action="reject"]').click();
    const r = await again;
    expect(r.outcome).toBe('rejected');
    await cardOf(tab, r.decisionId).and(tab.locator('[data-state="elsewhere"]')).waitFor();
    expect(errors).toEqual([]);
  }, 30_000);
});
