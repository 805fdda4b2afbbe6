/**
 * `npm run soak -- --minutes N` — the long version of the fault suite (matrix D1 and D4 of the
 * reliability bar), not run in CI: the real `noxy-relay` in its own process (file store,
 * GRPC_TRACE off) SIGKILLed and restarted periodically, three devices of one identity answering
 * after a random delay (or never: those expire), a steady stream of sends each followed by a
 * wait, and a GetQuota probe. At the end, one line per figure: decisions sent and settled, RPC
 * p99, client RSS and heap growth after warm-up (heap after a forced GC), the relay's RSS, the
 * recovery after each kill, and the reconciler's E1–E5 counts. Exits 1 when a figure misses.
 *
 * Options: --minutes N (default 2), --kill-every S seconds (default 60; 0 = never),
 * --rate R sends per second (default 2), --ttl S for the expiring ones (default 20).
 * Run it with `node --expose-gc` (the npm script does) for the heap figure.
 * @module
 */
import { parseArgs } from 'node:util';
import { createNoxyClient, type DecisionOutcome } from '@noxy-approval/core';
import { createMemoryKeyStore, createNoxyDevice, type NoxyDevice } from '@noxy-approval/device';
import { ChildRelay } from '../faults/child-relay.js';
import { clientLookup } from '../faults/lookup.js';
import { Ledger, percentile, seeded } from '../faults/reconciler.js';

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '2' },
    'kill-every': { type: 'string', default: '60' },
    rate: { type: 'string', default: '2' },
    ttl: { type: 'string', default: '20' },
    seed: { type: 'string', default: String(Date.now() % 1e9) },
  },
});
const num = (name: keyof typeof values, min: number) => {
  const n = Number(values[name]);
  if (!Number.isFinite(n) || n < min) {
    process.stderr.write(`soak: --${name} expected a number ≥ ${min}, got ${values[name]}\n`);
    process.exit(2);
  }
  return n;
};
const MINUTES = num('minutes', 0.1);
const KILL_EVERY_MS = num('kill-every', 0) * 1000;
const RATE = num('rate', 0.1);
const TTL = num('ttl', 5);
const SEED = num('seed', 0);
const IDENTITY = 'alice@example.com';
const MB = 1024 * 1024;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const line = (name: string, value: string, target?: string) =>
  process.stdout.write(`[soak] ${name}: ${value}${target ? `  (target ${target})` : ''}\n`);
const gc = (globalThis as { gc?: () => void }).gc;
const heap = () => {
  gc?.();
  return process.memoryUsage().heapUsed;
};

const random = seeded(SEED);
line('seed', String(SEED));
const relay = await ChildRelay.create('soak', { trace: false });
await relay.start();
const { app } = relay;
const ledger = new Ledger();
const timers = new Set<ReturnType<typeof setTimeout>>();

// Three phones of one identity: each send fans out to 3 (matrix D1's "× 3 devices").
const devices: NoxyDevice[] = [];
const answering = new Set<string>();
for (let i = 0; i < 3; i++) {
  const device = await createNoxyDevice({
    relayUrl: relay.grpcUrl,
    appId: app.appId,
    identity: IDENTITY,
    signingSecret: app.signingSecret,
    keyStore: createMemoryKeyStore(),
  });
  device.on('decision', (d) => {
    const n = Number(/#(\d+)$/.exec((d.payload as { title?: string }).title ?? '')?.[1] ?? -1);
    // Every 10th is never answered (it expires); the others by one device, after 0–5 s.
    if (n % 10 === 9 || n % 3 !== i || answering.has(d.decisionId)) return;
    answering.add(d.decisionId);
    const choice = n % 2 === 0 ? 'approve' : 'reject';
    const attempt = async (k: number): Promise<void> => {
      try {
        ledger.acked(d.decisionId, (await device.decide(d.decisionId, choice)).outcome);
        answering.delete(d.decisionId);
      } catch {
        if (k < 40) await sleep(250).then(() => attempt(k + 1));
      }
    };
    const timer = setTimeout(
      () => {
        timers.delete(timer);
        void attempt(0);
      },
      Math.floor(random() * 5_000),
    );
    timers.add(timer);
  });
  await device.connect();
  devices.push(device);
}

const client = createNoxyClient({ endpoint: relay.grpcUrl, authToken: app.appToken, kem: 'mlkem' });
await client.getQuota();

const end = Date.now() + MINUTES * 60_000;
const warmUpEnd = Date.now() + Math.min(60_000, (MINUTES * 60_000) / 4);
let sent = 0;
let settled = 0;
let wrong = 0;
let failedSends = 0;
const waitErrors = new Map<string, number>();
const rpc: number[] = [];
const recoveries: number[] = [];
const relayRss: number[] = [];
let rssAtWarmUp = 0;
let heapAtWarmUp = 0;
const waits: Promise<void>[] = [];

const expectedOf = (n: number): DecisionOutcome => (n % 10 === 9 ? 'expired' : n % 2 === 0 ? 'approved' : 'rejected');

async function sendAndWait(n: number): Promise<void> {
  const ttlSeconds = n % 10 === 9 ? TTL : 600;
  const decisionId = crypto.randomUUID();
  const title = `soak #${n}`;
  let out = await client.sendDecision(IDENTITY, { title }, { ttlSeconds, decisionId }).catch(() => undefined);
  // A send refused while the relay is down is resent under the same id (bounded).
  for (let k = 0; k < 80 && (out?.delivered ?? 0) === 0; k++) {
    await sleep(250);
    out = await client.sendDecision(IDENTITY, { title }, { ttlSeconds, decisionId }).catch(() => undefined);
  }
  if (!out || out.delivered === 0) {
    failedSends++;
    return;
  }
  ledger.sent(decisionId, IDENTITY, out.expiresAt);
  try {
    const r = await client.waitForDecisionOutcome({
      decisionId,
      identity: IDENTITY,
      expiresAt: out.expiresAt,
      onPoll: ({ outcome }) => ledger.observed(decisionId, outcome),
    });
    ledger.observed(decisionId, r.outcome);
    ledger.act(decisionId, r.outcome, Date.now());
    settled++;
    if (r.outcome !== expectedOf(n)) wrong++;
  } catch (e) {
    const key = String((e as Error).message).slice(0, 80);
    waitErrors.set(key, (waitErrors.get(key) ?? 0) + 1);
  }
}

// The killer.
const killer = (async () => {
  if (KILL_EVERY_MS === 0) return;
  while (Date.now() + KILL_EVERY_MS < end) {
    await sleep(KILL_EVERY_MS * (0.5 + random()));
    if (Date.now() >= end) break;
    await relay.kill();
    await sleep(100 + Math.floor(random() * 1_900));
    await relay.start();
    const back = performance.now();
    for (let k = 0; k < 500; k++) {
      if (
        await client.getQuota().then(
          () => true,
          () => false,
        )
      )
        break;
      await sleep(10);
    }
    recoveries.push(performance.now() - back);
  }
})();

// Load and probes, until the end.
let nextSend = Date.now();
let nextProbe = Date.now();
while (Date.now() < end) {
  const now = Date.now();
  if (now >= nextSend) {
    waits.push(sendAndWait(sent++));
    nextSend += 1000 / RATE;
  }
  if (now >= nextProbe && relay.alive) {
    nextProbe = now + 1_000;
    const t = performance.now();
    await client.getQuota().then(
      () => rpc.push(performance.now() - t),
      () => undefined,
    );
    relayRss.push(await relay.rss());
  }
  if (!rssAtWarmUp && now >= warmUpEnd) {
    rssAtWarmUp = process.memoryUsage().rss;
    heapAtWarmUp = heap();
  }
  await sleep(20);
}
await killer;
line('load', `${sent} sends over ${MINUTES} min, ${recoveries.length} relay kills`);
// Let the last waits finish (the expiring ones take TTL + grace).
const drained = await Promise.race([Promise.all(waits).then(() => true), sleep((TTL + 30) * 1000).then(() => false)]);
const rssEnd = process.memoryUsage().rss;
const heapEnd = heap();
const r = await ledger.reconcile(clientLookup(client));

line('sends delivered', `${sent - failedSends}/${sent}`, 'all');
line(
  'waits settled',
  `${settled}/${sent - failedSends}${drained ? '' : ' (some still running at the deadline)'}`,
  'all',
);
line('wrong terminal outcomes', String(wrong), '0');
for (const [k, n] of waitErrors) line(`waits that threw (${n})`, k);
line('GetQuota p99', `${percentile(rpc, 99).toFixed(1)} ms over ${rpc.length} probes`, '≤ 100 ms');
line(
  'client RSS growth after warm-up',
  rssAtWarmUp ? `${(((rssEnd - rssAtWarmUp) / rssAtWarmUp) * 100).toFixed(1)} %` : 'n/a (run longer)',
  '≤ 10 %',
);
line(
  'client heap after GC, growth after warm-up',
  gc && heapAtWarmUp ? `${((heapEnd - heapAtWarmUp) / MB).toFixed(1)} MB` : 'n/a (node --expose-gc, run longer)',
  '≤ +20 MB',
);
const rssOk = relayRss.filter(Number.isFinite);
line('relay RSS', rssOk.length ? `max ${(Math.max(...rssOk) / MB).toFixed(0)} MB` : 'n/a');
line(
  'recovery after each kill',
  recoveries.length
    ? `max ${Math.max(...recoveries).toFixed(0)} ms, p50 ${percentile(recoveries, 50).toFixed(0)} ms`
    : 'no kills',
  '≤ 5,000 ms',
);
line(
  'reconciler',
  `${r.checked} decisions; E1 ${r.e1Missing}, E2 ${r.e2Missing}, E3 ${r.e3Flips}, E4 ${r.e4Violations}, E5 ${r.e5Late}`,
  'all 0',
);

for (const t of timers) clearTimeout(t);
client.close();
for (const d of devices) d.close();
await relay.dispose();
const missed =
  failedSends + wrong + waitErrors.size + r.e1Missing + r.e2Missing + r.e3Flips + r.e4Violations + r.e5Late > 0 ||
  !drained ||
  recoveries.some((ms) => ms > 5_000);
process.exit(missed ? 1 : 0);
