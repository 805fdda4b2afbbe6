/**
 * The web approval page in a real browser (Debian chromium through playwright-core, 360×640)
 * against the REAL relay (in-process, memory store) and the REAL agent client + approval engine:
 * (1) start (before `startRelay`) → the first decision an agent sends is shown on the page,
 * target ≤ 3 s; (2) Approve click → the agent's `request` resolves approved, median of 5,
 * target ≤ 1 s, against one bare GetQuota round trip measured in the same run. Loopback only.
 * @module
 */
import { performance } from 'node:perf_hooks';
import { createApprovalEngine, createNoxyClient, loadKemBackend, type NoxyClient } from '@noxy-approval/core';
import { silentLogger, startRelay, type Relay } from '@noxy-approval/relay';
import { chromium, type Browser, type Page } from 'playwright-core';
import { median, report } from './report.js';

const CHROMIUM = '/usr/bin/chromium';
// The flags of test/web/approval-page.test.ts (dependencies.md §3.9).
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
const ROUNDS = 5;

const pendingCard = (page: Page) => page.locator('article.card[data-state="pending"]').first();
const cardOf = (page: Page, decisionId: string) => page.locator(`article.card[data-decision-id="${decisionId}"]`);

/** Runs the web page benchmark. */
export async function benchWebPage(): Promise<void> {
  let relay: Relay | undefined;
  let client: NoxyClient | undefined;
  let browser: Browser | undefined;
  try {
    const start = performance.now();
    relay = await startRelay({ dataDir: ':memory:', logger: silentLogger });
    const app = relay.createApp({ name: 'web-page-bench' });
    client = createNoxyClient({
      endpoint: relay.grpcUrl,
      authToken: app.appToken,
      kem: await loadKemBackend('mlkem'),
    });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    const context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1 });
    const page = await context.newPage();
    const { webLink } = relay.createPairing({ appId: app.appId, identity: IDENTITY });
    if (!webLink) throw new Error('the relay gave no web pairing link');
    await page.goto(webLink);
    await page.locator('#status[data-state="ready"]').waitFor({ timeout: 15_000 });

    const engine = createApprovalEngine({ client, agent: { name: 'bench-agent', host: 'bench-box' } });
    const ask = (i: number) =>
      engine.request(
        { tool: 'transfer_funds', args: { to: 'carol', amount: 5 + i }, title: `Pay Carol #${i}` },
        { identity: IDENTITY },
      );
    let pending = ask(0);
    await pendingCard(page).waitFor({ timeout: 15_000 });
    const firstShown = performance.now() - start;

    const resumes: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      if (i > 0) {
        pending = ask(i);
        await pendingCard(page).waitFor({ timeout: 15_000 });
      }
      const t = performance.now();
      await pendingCard(page).locator('button[data-action="approve"]').click();
      const r = await pending;
      resumes.push(performance.now() - t);
      if (r.outcome !== 'approved') throw new Error(`the page's Approve did not approve: ${r.outcome}`);
      // Untimed: the card has left the pending state before the next decision is looked for.
      await cardOf(page, r.decisionId).and(page.locator('[data-state="approved"]')).waitFor();
    }

    // Baseline: one bare unary round trip on the same client and relay (after a warm-up).
    for (let i = 0; i < 5; i++) await client.getQuota();
    const quota: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t = performance.now();
      await client.getQuota();
      quota.push(performance.now() - t);
    }

    const resume = median(resumes);
    console.log(`      Approve click → resumed, each: ${resumes.map((ms) => ms.toFixed(1)).join(', ')} ms`);
    report({
      name: 'start → first decision shown (relay, browser, pairing, first request)',
      value: firstShown,
      unit: 'ms',
      target: '≤ 3 000 ms',
      ok: firstShown <= 3000,
    });
    report({
      name: `Approve click → agent resumes (median of ${ROUNDS})`,
      value: resume,
      unit: 'ms',
      baseline: { label: `one bare GetQuota round trip (median of ${ROUNDS})`, value: median(quota) },
      target: '≤ 1 000 ms',
      ok: resume <= 1000,
    });
  } finally {
    await browser?.close();
    client?.close();
    await relay?.close();
  }
}
