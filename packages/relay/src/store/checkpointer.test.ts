import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CHECKPOINT_WAL_BYTES } from './checkpointer.js';
import { DB_FILE_NAME } from './db.js';
import { RelayStore } from './index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const until = async (cond: () => boolean, ms = 10_000): Promise<boolean> => {
  for (let waited = 0; waited < ms && !cond(); waited += 20) await new Promise((r) => setTimeout(r, 20));
  return cond();
};

// One large audit row per commit, each its own batch (commitNow), like routed decisions.
function writeBig(store: RelayStore, n: number, bytes: number, from = 0): void {
  for (let i = from; i < from + n; i++) {
    store.transaction(() =>
      store.decisions.audit(i, 'app-1', `d-${i}`, undefined, 'bench.big', { blob: 'x'.repeat(bytes) }),
    );
    store.commitNow();
  }
}

describe('WAL checkpoints in a worker thread', () => {
  it('the main connection never checkpoints; the worker does; durability and data unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'noxy-relay-ckpt-'));
    dirs.push(dir);
    const store = RelayStore.open(dir);
    expect(store.db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
    expect(store.durability()).toEqual({ journalMode: 'wal', synchronous: 2 });
    const wal = join(dir, `${DB_FILE_NAME}-wal`);
    const rows = Math.ceil((CHECKPOINT_WAL_BYTES * 2) / (256 << 10));
    writeBig(store, rows, 256 << 10);
    // SQLite's own automatic checkpoint would have run inside one of those commits: nothing here.
    expect(store.checkpoints()).toEqual({ background: 0, tail: 0, foreground: 0, failures: 0 });
    expect(statSync(wal).size).toBeGreaterThanOrEqual(CHECKPOINT_WAL_BYTES);
    expect(await until(() => (store.checkpoints()?.background ?? 0) >= 1)).toBe(true);
    // The checkpointed WAL is reused from its start: four more rounds of writes do not grow it.
    const before = statSync(wal).size;
    for (let round = 0; round < 4; round++) {
      await new Promise((r) => setTimeout(r, 300));
      writeBig(store, rows, 256 << 10, rows * (round + 1));
    }
    expect(await until(() => (store.checkpoints()?.background ?? 0) >= 2)).toBe(true);
    // Writes went on while the worker copied: the main connection copied the tails.
    expect(statSync(wal).size).toBeLessThanOrEqual(before * 1.5);
    expect(store.checkpoints()).toMatchObject({ foreground: 0, failures: 0 });
    expect(store.checkpoints()?.tail).toBeGreaterThanOrEqual(1);
    const count = store.db.prepare("SELECT count(*) FROM audit_events WHERE event = 'bench.big'").pluck().get();
    store.close();
    // The worker's connection closed first: the main close (the last) checkpoints and removes the WAL.
    expect(existsSync(wal)).toBe(false);
    const reopened = RelayStore.open(dir);
    expect(reopened.db.prepare("SELECT count(*) FROM audit_events WHERE event = 'bench.big'").pluck().get()).toBe(
      count,
    );
    expect(count).toBe(rows * 5);
    reopened.close();
  });

  it('an in-memory store has no checkpointer', () => {
    const store = RelayStore.open(':memory:');
    expect(store.checkpoints()).toBeUndefined();
    store.close();
  });
});
