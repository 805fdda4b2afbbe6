import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp, createPairing, relayStatus } from './admin.js';
import { silentLogger } from './logger.js';
import { startRelay } from './server.js';
import { RelayStore } from './store/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'noxy-relay-store-'));
  dirs.push(d);
  return d;
};

describe('store', () => {
  it('runs a file store with journal_mode=WAL and synchronous=FULL (2), owner-only', async () => {
    const dir = join(tempDir(), 'data');
    const relay = await startRelay({ dataDir: dir, logger: silentLogger });
    try {
      expect(relay.store.durability()).toEqual({ journalMode: 'wal', synchronous: 2 });
      expect(relay.store.path).toBe(join(dir, 'relay.db'));
      expect(statSync(relay.store.path).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);
    } finally {
      await relay.close();
    }
    expect(relay.store.closed).toBe(true);
  });

  it('keeps apps and pairings across reopen and refuses bad admin input naming the field', () => {
    const dir = tempDir();
    const store = RelayStore.open(dir);
    const app = createApp(store, 1_000, { name: 'kept', quotaTotal: 3 });
    expect(() => createApp(store, 1_000, { name: '' })).toThrow(/"name"/);
    expect(() => createApp(store, 1_000, { name: 'x', quotaTotal: -1 })).toThrow(/"quotaTotal"/);
    expect(() =>
      createPairing(store, 1_000, 'http://127.0.0.1:1', { appId: 'nope', identity: 'a@example.com' }),
    ).toThrow(/"appId"/);
    expect(() =>
      createPairing(store, 1_000, 'http://127.0.0.1:1', { appId: app.appId, identity: 'a@example.com', ttlSeconds: 0 }),
    ).toThrow(/"ttlSeconds"/);
    expect(() =>
      createPairing(store, 1_000, 'http://127.0.0.1:1', { appId: app.appId, identity: { type: 'phone', id: '555' } }),
    ).toThrow(/"identity.id"/);
    const p = createPairing(store, 1_000, 'http://127.0.0.1:1', { appId: app.appId, identity: '+15551230000' });
    store.close();
    const reopened = RelayStore.open(dir);
    try {
      expect(reopened.apps.get(app.appId)).toMatchObject({
        name: 'kept',
        quotaTotal: 3,
        signingSecret: app.signingSecret,
      });
      expect(reopened.apps.openPairings(app.appId, 'phone', '+15551230000', 2_000).map((x) => x.code)).toEqual([
        p.code,
      ]);
      expect(reopened.apps.openPairings(app.appId, 'phone', '+15551230000', p.expiresAt)).toEqual([]);
      expect(relayStatus(reopened, 1_000)).toMatchObject({
        apps: [{ appId: app.appId, quotaUsed: 0, quotaTotal: 3 }],
        devices: { total: 0, active: 0 },
        decisions: { total: 0 },
      });
    } finally {
      reopened.close();
    }
  });

  it('group-commits: answers wait for the commit, a failing unit rolls back alone, order is kept', async () => {
    const store = RelayStore.open(':memory:');
    const seen: string[] = [];
    const app = createApp(store, 1, { name: 'g' });
    store.transaction(() => store.decisions.audit(1, app.appId, 'd1', undefined, 'first'));
    store.afterCommit(() => seen.push('a'));
    expect(() =>
      store.transaction(() => {
        store.decisions.audit(1, app.appId, 'd1', undefined, 'doomed');
        throw new Error('unit failed');
      }),
    ).toThrow('unit failed');
    store.transaction(() => store.decisions.audit(1, app.appId, 'd1', undefined, 'second'));
    store.afterCommit(() => seen.push('b'));
    expect(seen).toEqual([]);
    expect(store.db.inTransaction).toBe(true);
    await new Promise((resolve) => setImmediate(resolve));
    expect(seen).toEqual(['a', 'b']);
    expect(store.db.inTransaction).toBe(false);
    expect(store.decisions.auditOf(app.appId, 'd1').map((e) => e.event)).toEqual(['first', 'second']);
    store.afterCommit(() => seen.push('now'));
    expect(seen).toEqual(['a', 'b', 'now']);
    store.close();
  });
});
