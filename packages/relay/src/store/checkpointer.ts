/**
 * WAL checkpoints off the event loop.
 *
 * SQLite's automatic checkpoint runs inside the COMMIT that crosses its threshold (1,000 pages):
 * it copies the WAL into `relay.db` and syncs both, on the calling thread. better-sqlite3 calls
 * SQLite on the event loop, so under a stream of large decisions (512 KiB each) every few
 * commits blocked every client of the relay for tens of milliseconds. Here the main connection
 * never checkpoints (`wal_autocheckpoint=0`); a worker thread with its own connection runs
 * `PRAGMA wal_checkpoint(PASSIVE)` whenever the WAL has grown past a threshold. A passive
 * checkpoint never blocks writers, and it is the same operation SQLite would run, with the same
 * syncs: durability is unchanged (commits still sync the WAL under `synchronous=FULL`,
 * docs/protocol.md §9.5).
 *
 * Under a steady write load the worker never quite catches up (commits append while it copies),
 * and SQLite reuses the WAL from its start only once every frame is copied. So when a worker
 * checkpoint ends with frames left, the main connection copies that tail itself after its next
 * commit (the few frames written meanwhile, not the bulk), and the WAL is reused from then on.
 * If the WAL still reaches a hard limit (or the worker is gone) the main connection
 * checkpoints in full, as SQLite would have.
 * @module
 */
import { statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Db } from './db.js';

/** WAL size from which the worker is asked to checkpoint (SQLite's default: 1,000 4 KiB pages). */
export const CHECKPOINT_WAL_BYTES = 4 << 20;
/**
 * Least time between two background checkpoints. The WAL file keeps its size when SQLite reuses
 * it from the start, so its size alone does not say how much is new; this spaces checkpoints out.
 */
export const CHECKPOINT_INTERVAL_MS = 250;
/** WAL size at which the main connection checkpoints itself, worker or not. */
export const HARD_WAL_BYTES = 256 << 20;
/** After a checkpoint the WAL file is truncated to this size (`journal_size_limit`). */
const WAL_SIZE_LIMIT = 16 << 20;

// CommonJS, evaluated in the worker: its own connection, checkpoints on request, closes on 'close'.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const done = new Int32Array(workerData.closed);
let db;
try {
  db = new Database(workerData.path, { fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = FULL');
} catch (error) {
  parentPort.postMessage({ error: String(error && error.message) });
}
parentPort.on('message', (m) => {
  if (m === 'close') {
    try { if (db) db.close(); } catch {}
    Atomics.store(done, 0, 1);
    Atomics.notify(done, 0);
    parentPort.close();
    return;
  }
  try {
    const r = db.pragma('wal_checkpoint(PASSIVE)')[0];
    parentPort.postMessage({ busy: r.busy, log: r.log, checkpointed: r.checkpointed });
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message) });
  }
});
`;

/** Checkpoints so far (for tests and the bench). */
export interface CheckpointStats {
  /** Checkpoints the worker completed. */
  background: number;
  /** Tails the main connection copied after a worker checkpoint that left frames. */
  tail: number;
  /** Full checkpoints the main connection ran itself (hard limit, or no worker). */
  foreground: number;
  /** Worker checkpoint failures (each falls back to the hard limit). */
  failures: number;
}

/** Drives checkpoints of one file database from a worker thread. */
export class Checkpointer {
  readonly #db: Db;
  readonly #path: string;
  readonly #walPath: string;
  #worker: Worker | undefined;
  #closedFlag: Int32Array | undefined;
  #busy = false;
  #broken = false;
  #lastDone = 0;
  #tailPending = false;
  // Commits since the worker was asked: frames it may not have seen.
  #commitsSinceAsk = 0;
  readonly stats: CheckpointStats = { background: 0, tail: 0, foreground: 0, failures: 0 };

  /**
   * Turns off the main connection's automatic checkpoint. The worker starts the first time the
   * WAL passes {@link CHECKPOINT_WAL_BYTES}, so short CLI commands never start one.
   * @param db the main connection (WAL mode)
   * @param path the database file
   */
  constructor(db: Db, path: string) {
    this.#db = db;
    this.#path = path;
    this.#walPath = `${path}-wal`;
    db.pragma('wal_autocheckpoint = 0');
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
  }

  /** Called after every commit: asks for a checkpoint when the WAL has grown enough. */
  afterCommit(): void {
    this.#commitsSinceAsk++;
    if (this.#tailPending) {
      this.#tailPending = false;
      this.#db.pragma('wal_checkpoint(PASSIVE)');
      this.stats.tail++;
      return;
    }
    let size: number;
    try {
      size = statSync(this.#walPath).size;
    } catch {
      return;
    }
    if (size >= HARD_WAL_BYTES && (this.#busy || this.#broken)) {
      this.checkpointHere();
      return;
    }
    if (size < CHECKPOINT_WAL_BYTES || this.#busy || Date.now() - this.#lastDone < CHECKPOINT_INTERVAL_MS) return;
    if (this.#broken) return this.checkpointHere();
    const worker = this.#worker ?? this.#start();
    if (!worker) return this.checkpointHere();
    this.#busy = true;
    this.#commitsSinceAsk = 0;
    worker.postMessage('checkpoint');
  }

  /** Checkpoints on the calling thread (what SQLite's automatic checkpoint does). */
  checkpointHere(): void {
    this.#db.pragma('wal_checkpoint(PASSIVE)');
    this.stats.foreground++;
  }

  #start(): Worker | undefined {
    try {
      const closed = new SharedArrayBuffer(4);
      this.#closedFlag = new Int32Array(closed);
      const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
      const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { sqlite, path: this.#path, closed } });
      worker.unref();
      worker.on('message', (m: { error?: string; log?: number; checkpointed?: number }) => {
        this.#busy = false;
        this.#lastDone = Date.now();
        if (m.error !== undefined) {
          this.stats.failures++;
          this.#broken = true;
          return;
        }
        this.stats.background++;
        // Frames appended while it copied (it left some, or commits came after the ask): the
        // main connection copies them after its next commit, so the WAL can be reused.
        if ((m.log ?? 0) > (m.checkpointed ?? 0) || this.#commitsSinceAsk > 0) this.#tailPending = true;
      });
      worker.on('error', () => {
        this.#busy = false;
        this.#broken = true;
      });
      worker.on('exit', () => {
        this.#worker = undefined;
      });
      this.#worker = worker;
      return worker;
    } catch {
      this.#broken = true;
      return undefined;
    }
  }

  /**
   * Closes the worker's connection before the main one closes (so the main close, the last
   * connection, checkpoints and removes the WAL as before). Waits at most 2 s.
   */
  close(): void {
    const worker = this.#worker;
    if (!worker || !this.#closedFlag) return;
    worker.postMessage('close');
    Atomics.wait(this.#closedFlag, 0, 0, 2_000);
    this.#worker = undefined;
  }
}
