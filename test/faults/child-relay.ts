/**
 * The real `noxy-relay` CLI as a child process on a file store, for the chaos rows (C1, F1) and
 * the soak: `app create` once, then `start` / `kill` (SIGKILL, no shutdown) / `start` again on
 * the same ports and data folder, as a supervisor restarting a crashed relay does. Every child
 * runs with `GRPC_TRACE=all` and `GRPC_VERBOSITY=DEBUG`, and everything each life printed is
 * kept, so F1 can look for secrets in all of it.
 * @module
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCommand, startCommand, type RunningCommand } from '@noxy-approval/testing';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'packages/relay/bin/noxy-relay.js');

/** What every spawned process of the suite gets: grpc-js's full trace, at its most verbose. */
export const TRACE_ENV = { GRPC_TRACE: 'all', GRPC_VERBOSITY: 'DEBUG' } as const;

/** The app `noxy-relay app create --json` made. */
export interface ChildApp {
  appId: string;
  appToken: string;
  signingSecret: string;
}

/** A relay child process that can be killed and restarted. */
export class ChildRelay {
  private running: RunningCommand | undefined;
  private readonly lives: { stdout: string; stderr: string }[] = [];
  /** gRPC and HTTP ports, fixed after the first start. */
  grpcPort = 0;
  httpPort = 0;
  /** Number of starts so far. */
  starts = 0;

  private constructor(
    /** The data folder (deleted by `dispose`). */
    readonly dataDir: string,
    readonly app: ChildApp,
    private readonly env: NodeJS.ProcessEnv,
  ) {}

  /**
   * Makes a data folder and an app in it (the relay is not started).
   * @param options.trace false: no GRPC_TRACE (benchmarks, where the trace's cost would be measured)
   */
  static async create(name = 'faults', options: { trace?: boolean } = {}): Promise<ChildRelay> {
    const env = { ...process.env, ...(options.trace === false ? {} : TRACE_ENV) };
    const dataDir = await mkdtemp(join(tmpdir(), 'noxy-faults-'));
    const made = await runCommand(
      [process.execPath, BIN, 'app', 'create', '--name', name, '--json', '--data', dataDir],
      {
        cwd: ROOT,
        env,
        timeoutMs: 20_000,
      },
    );
    if (made.code !== 0) throw new Error(`noxy-relay app create exited ${made.code}: ${made.stderr}`);
    const app = JSON.parse(made.stdout) as ChildApp;
    return new ChildRelay(dataDir, app, env);
  }

  /** `http://127.0.0.1:<grpcPort>` (valid after the first start). */
  get grpcUrl(): string {
    return `http://127.0.0.1:${this.grpcPort}`;
  }

  /** Whether a child is running now. */
  get alive(): boolean {
    return this.running !== undefined;
  }

  /** Starts the relay (ports 0 the first time, then the same ports); resolves once it is ready. */
  async start(): Promise<void> {
    if (this.running) throw new Error('relay already running');
    const child = startCommand(
      [
        process.execPath,
        BIN,
        'start',
        '--data',
        this.dataDir,
        '--grpc-port',
        String(this.grpcPort),
        '--http-port',
        String(this.httpPort),
        '--log-level',
        'debug',
      ],
      // A whole life is bounded; the suite's runs are far shorter.
      { cwd: ROOT, env: this.env, timeoutMs: 3 * 60 * 60_000 },
    );
    this.running = child;
    this.starts++;
    try {
      const grpc = await child.waitFor(/^grpc\s+http:\/\/127\.0\.0\.1:(\d+)$/m, 20_000);
      const http = await child.waitFor(/^http\s+http:\/\/127\.0\.0\.1:(\d+)$/m, 1_000);
      this.grpcPort = Number(grpc[1]);
      this.httpPort = Number(http[1]);
    } catch (err) {
      await this.kill();
      throw err;
    }
  }

  /** SIGKILL: no shutdown, no flush beyond what SQLite already committed. */
  async kill(): Promise<void> {
    const child = this.running;
    if (!child) return;
    this.running = undefined;
    child.child.kill('SIGKILL');
    const result = await child.exited;
    this.lives.push({ stdout: result.stdout, stderr: result.stderr });
  }

  /** Stops the relay with SIGTERM (its clean shutdown). */
  async stop(): Promise<void> {
    const child = this.running;
    if (!child) return;
    this.running = undefined;
    const result = await child.stop(5_000);
    this.lives.push({ stdout: result.stdout, stderr: result.stderr });
  }

  /** The running child's pid (for /proc reads), if any. */
  get pid(): number | undefined {
    return this.running?.child.pid;
  }

  /** The running child's resident memory in bytes (Linux /proc), or NaN. */
  async rss(): Promise<number> {
    const pid = this.pid;
    if (pid === undefined) return Number.NaN;
    const text = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    return Number(/^VmRSS:\s+(\d+) kB/m.exec(text)?.[1] ?? Number.NaN) * 1024;
  }

  /** Everything every life printed (the running one so far included). */
  output(): string {
    const now = this.running?.output();
    return [...this.lives, ...(now ? [now] : [])].map((l) => `${l.stdout}\n${l.stderr}`).join('\n');
  }

  /** Every file of the data folder (the SQLite database, its WAL, the run file), as latin1 text. */
  async storeFiles(): Promise<{ name: string; text: string }[]> {
    const names = await readdir(this.dataDir);
    return Promise.all(
      names.map(async (name) => ({ name, text: (await readFile(join(this.dataDir, name))).toString('latin1') })),
    );
  }

  /** Kills the child if running and deletes the data folder. */
  async dispose(): Promise<void> {
    await this.kill();
    await rm(this.dataDir, { recursive: true, force: true });
  }
}
