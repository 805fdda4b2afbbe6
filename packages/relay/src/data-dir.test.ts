/**
 * The data folder and the files around it (issue 13 item 6): an existing 0755 `--data` folder
 * is made 0700, a corrupt `relay.json` gives `status` and `pair` a clear error naming the file
 * and the fix, and a `--web-root` that does not exist is refused at start.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NoxyError } from '@noxy-approval/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from './admin.js';
import { readRunFile, secureDataDir } from './data-dir.js';
import { silentLogger } from './logger.js';
import { startRelay } from './server.js';
import { RelayStore } from './store/index.js';

const bin = fileURLToPath(new URL('../bin/noxy-relay.js', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'noxy-relay-data-'));
  dirs.push(d);
  return d;
}
const modeOf = (p: string) => statSync(p).mode & 0o777;

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Bounded: a start that was not refused is killed (and the test then fails on its code).
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('the data folder (POSIX modes)', () => {
  it('an existing 0755 folder is made 0700 (library and CLI), and says so', async () => {
    const lib = join(tempDir(), 'lib');
    mkdirSync(lib, { mode: 0o755 });
    chmodSync(lib, 0o755);
    expect(secureDataDir(lib)).toEqual({ tightenedFrom: 0o755 });
    expect(modeOf(lib)).toBe(0o700);
    expect(secureDataDir(lib)).toEqual({});

    const cli = join(tempDir(), 'cli');
    mkdirSync(cli);
    chmodSync(cli, 0o755);
    const created = await run(['app', 'create', '--name', 'modes', '--data', cli, '--json']);
    expect(created.code).toBe(0);
    expect(modeOf(cli)).toBe(0o700);
    expect(created.stderr).toContain('had mode 0755; made it 0700');

    const relayDir = join(tempDir(), 'relay');
    mkdirSync(relayDir);
    chmodSync(relayDir, 0o775);
    const relay = await startRelay({ dataDir: relayDir, grpcPort: 0, httpPort: 0, logger: silentLogger });
    await relay.close();
    expect(modeOf(relayDir)).toBe(0o700);
  }, 30_000);
});

describe('a corrupt relay.json', () => {
  it('reads the file start writes, and refuses anything else naming the file and the fix', () => {
    const dir = tempDir();
    const file = join(dir, 'relay.json');
    expect(readRunFile(file)).toEqual({});
    writeFileSync(file, JSON.stringify({ grpcUrl: 'http://127.0.0.1:1', pid: 42 }));
    expect(readRunFile(file)).toEqual({ grpcUrl: 'http://127.0.0.1:1', pid: 42 });
    for (const bad of ['{"grpcUrl": "http://', '[1]', '{"grpcUrl": 7}', '{"pid": "x"}']) {
      writeFileSync(file, bad);
      let caught: unknown;
      try {
        readRunFile(file);
      } catch (error) {
        caught = error;
      }
      expect(NoxyError.isInstance(caught)).toBe(true);
      expect((caught as Error).message).toContain(file);
      expect((caught as Error).message).toContain(`rm ${file}`);
    }
  });

  it('gives `status` and `pair` a clear error naming the file and the fix', async () => {
    const dir = tempDir();
    const admin = RelayStore.open(dir);
    const app = createApp(admin, Date.now(), { name: 'corrupt' });
    admin.close();
    const file = join(dir, 'relay.json');
    writeFileSync(file, '{"grpcUrl": "http://127.0.0.1:70');
    for (const args of [
      ['status', '--data', dir],
      ['pair', '--app', app.appId, '--identity', 'a@example.com', '--data', dir],
    ]) {
      const r = await run(args);
      expect(r.code, args[0]).toBe(1);
      expect(r.stderr).toContain(`${file} is not valid JSON`);
      expect(r.stderr).toContain(`delete it (\`rm ${file}\`)`);
      expect(r.stderr).not.toContain('SyntaxError');
    }
  }, 30_000);
});

describe('--web-root', () => {
  it('a missing folder is refused at start, by the CLI and by startRelay', async () => {
    const missing = join(tempDir(), 'no-such-page');
    const r = await run(['start', '--data', tempDir(), '--grpc-port', '0', '--http-port', '0', '--web-root', missing]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`"--web-root" expected an existing folder to serve, got ${missing} (missing)`);
    expect(r.stdout).not.toContain('noxy-relay ready');

    const file = join(tempDir(), 'index.html');
    writeFileSync(file, '<p>hi</p>');
    for (const webRoot of [missing, file]) {
      let caught: unknown;
      try {
        const relay = await startRelay({
          dataDir: ':memory:',
          grpcPort: 0,
          httpPort: 0,
          webRoot,
          logger: silentLogger,
        });
        await relay.close();
      } catch (error) {
        caught = error;
      }
      expect(NoxyError.isInstance(caught)).toBe(true);
      expect((caught as NoxyError).message).toContain('"webRoot" expected an existing folder');
    }
  }, 30_000);
});
