import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { agent } from '@noxy-approval/proto';
import { syntheticDeviceKeys, RawAgent, RawGrpcDevice } from '@noxy-approval/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from './admin.js';
import { RelayStore } from './store/index.js';

// The CLI runs from source through tsx, with workspace packages mapped to their sources too.
const root = fileURLToPath(new URL('../../..', import.meta.url));
const cli = fileURLToPath(new URL('./cli.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../tsconfig.tsx-source.json', import.meta.url));
const env = { ...process.env, TSX_TSCONFIG_PATH: tsconfig };

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'noxy-relay-cli-'));
  dirs.push(d);
  return d;
}

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Running {
  child: ChildProcess;
  grpcUrl: string;
  store: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(data: string): Promise<Running> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', cli, 'start', '--data', data, '--grpc-port', '0', '--http-port', '0', '--log-level', 'warn'],
    {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${stderr}`)), 15_000);
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const grpc = /^grpc\s+(\S+)$/m.exec(stdout);
      const store = /^store\s+(.+)$/m.exec(stdout);
      if (grpc?.[1] && store?.[1]) {
        clearTimeout(timer);
        resolve({ child, grpcUrl: grpc[1], store: store[1], exited });
      }
    });
    child.on('exit', () => reject(new Error(`relay exited early: ${stderr}`)));
  });
}

describe('noxy-relay CLI', () => {
  it('creates an app, pairs a device, reports status, and refuses bad usage', async () => {
    const data = tempDir();
    const created = await run(['app', 'create', '--name', 'cli-app', '--quota', '50', '--data', data, '--json']);
    expect(created.code).toBe(0);
    const app = JSON.parse(created.stdout) as { appId: string; appToken: string; signingSecret: string };
    expect(app.appToken).toMatch(/^noxy_at_/);
    const paired = await run(['pair', '--app', app.appId, '--identity', 'alice@example.com', '--data', data]);
    expect(paired.code).toBe(0);
    expect(paired.stdout).toMatch(/code {2}[A-Z2-9]{10}/);
    expect(paired.stdout).toContain('noxy://pair?relay=http%3A%2F%2F127.0.0.1%3A7070');
    // The web page link carries the code only after '#', and a QR code of it is drawn.
    const web = /^ {2}web {3}(\S+)$/m.exec(paired.stdout)?.[1] ?? '';
    const code = /code {2}([A-Z2-9]{10})/.exec(paired.stdout)?.[1] ?? '';
    expect(web).toMatch(/^http:\/\/127\.0\.0\.1:7071\/#pair=/);
    expect(web.slice(0, web.indexOf('#'))).not.toContain(code);
    expect(new URLSearchParams(web.slice(web.indexOf('#') + 1)).get('pair')).toBe(code);
    expect(paired.stdout).toMatch(/[▀▄█]{10}/);
    const status = await run(['status', '--data', data, '--json']);
    expect(JSON.parse(status.stdout)).toMatchObject({
      apps: [{ appId: app.appId, quotaTotal: 50, quotaUsed: 0 }],
      devices: { total: 0 },
      decisions: { total: 0 },
      running: null,
    });
    expect(status.stdout).not.toContain(app.appToken);
    const usage = await run(['pair', '--identity', 'alice@example.com', '--data', data]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--app');
    expect(usage.stderr).toContain('Usage:');
  }, 30_000);

  it('loses nothing across SIGKILL and shuts down gracefully on SIGTERM (WAL, synchronous=FULL)', async () => {
    const data = tempDir();
    // The app is made in this process (the CLI's `app create` is covered above).
    const admin = RelayStore.open(data);
    const app = createApp(admin, Date.now(), { name: 'durable' });
    admin.close();
    let relay = await start(data);
    expect(relay.store).toBe('journal_mode=wal synchronous=2');

    const agentA = new RawAgent(relay.grpcUrl, app.appToken);
    const keysA = syntheticDeviceKeys();
    const keysB = syntheticDeviceKeys();
    const a = new RawGrpcDevice(relay.grpcUrl, app.appId);
    const b = new RawGrpcDevice(relay.grpcUrl, app.appId);
    await a.register(app.signingSecret, {
      identityType: 'email',
      identityId: 'owner@example.com',
      ...keysA,
      deviceType: 'telegram',
    });
    await b.register(app.signingSecret, {
      identityType: 'email',
      identityId: 'owner@example.com',
      ...keysB,
      deviceType: 'android',
    });
    await a.subscribe(); // b stays offline
    const [approved, pendingAcked, queued] = [randomUUID(), randomUUID(), randomUUID()];
    const ev1 = a.nextEvent(approved);
    expect((await agentA.route({ targetDeviceId: a.deviceId!, decisionId: approved })).status).toBe(
      agent.DeliveryStatus.DELIVERED,
    );
    expect((await agentA.route({ targetDeviceId: b.deviceId!, decisionId: approved })).status).toBe(
      agent.DeliveryStatus.QUEUED,
    );
    await ev1;
    const ev2 = a.nextEvent(pendingAcked);
    await agentA.route({ targetDeviceId: a.deviceId!, decisionId: pendingAcked });
    await ev2;
    await a.ack(pendingAcked);
    expect((await agentA.route({ targetDeviceId: b.deviceId!, decisionId: queued })).status).toBe(
      agent.DeliveryStatus.QUEUED,
    );
    expect((await a.outcome(approved, 'APPROVE')).payload?.$case).toBe('decisionOutcome');
    for (const c of [a, b]) c.close();
    agentA.close();

    relay.child.kill('SIGKILL');
    expect((await relay.exited).signal).toBe('SIGKILL');

    relay = await start(data);
    const agentB = new RawAgent(relay.grpcUrl, app.appToken);
    try {
      expect(await agentB.outcome(approved, 'owner@example.com')).toMatchObject({
        pending: false,
        outcome: agent.DecisionOutcome.DECISION_OUTCOME_APPROVED,
      });
      expect(await agentB.outcome(pendingAcked, 'owner@example.com')).toMatchObject({ pending: true });
      expect(await agentB.outcome(queued, 'owner@example.com')).toMatchObject({ pending: true });
      expect((await agentB.quota()).quotaRemaining).toBe(10_000n - 3n);
      // Devices reconnect with their keys and get what is still open for them.
      const a2 = new RawGrpcDevice(relay.grpcUrl, app.appId);
      const b2 = new RawGrpcDevice(relay.grpcUrl, app.appId);
      expect((await a2.authenticate(keysA)).payload).toMatchObject({ value: { requiresRegistration: false } });
      expect((await b2.authenticate(keysB)).payload).toMatchObject({ value: { requiresRegistration: false } });
      await a2.subscribe();
      await b2.subscribe();
      expect((await a2.nextEvent(pendingAcked)).messageId).toBe(pendingAcked);
      expect((await b2.nextEvent(queued)).messageId).toBe(queued);
      expect(b2.events('decisionEvent').map((e) => e.messageId)).not.toContain(approved);
      await b2.outcome(queued, 'REJECT');
      a2.close();
      b2.close();
    } finally {
      agentB.close();
    }

    relay.child.kill('SIGTERM');
    expect(await relay.exited).toEqual({ code: 0, signal: null });
    expect(existsSync(join(data, 'relay.json'))).toBe(false);

    const db = new Database(join(data, 'relay.db'), { readonly: true });
    try {
      const count = (sql: string) => db.prepare(sql).pluck().get() as number;
      expect(count('SELECT COUNT(*) FROM decisions')).toBe(3);
      expect(count('SELECT COUNT(*) FROM deliveries')).toBe(4);
      expect(db.prepare('SELECT decision_id, outcome FROM outcomes ORDER BY outcome').all()).toEqual([
        { decision_id: approved, outcome: 'APPROVED' },
        { decision_id: queued, outcome: 'REJECTED' },
      ]);
      expect(
        db.prepare('SELECT status FROM deliveries WHERE decision_id = ? ORDER BY status').pluck().all(approved),
      ).toEqual(['CANCELLED', 'DELIVERED']);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  }, 45_000);

  it('start --lan --host 127.0.0.1 --tls-self-signed: warns, serves HTTPS with a kept certificate', async () => {
    const data = tempDir();
    const args = ['start', '--lan', '--host', '127.0.0.1', '--tls-self-signed', '--grpc-port', '0', '--http-port', '0'];
    const child = spawn(process.execPath, ['--import', 'tsx', cli, ...args, '--data', data, '--log-level', 'error'], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`relay did not start: ${stderr}`)), 15_000);
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        if (/^data /m.test(stdout)) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    expect(stderr).toContain('WARNING: the relay listens on 127.0.0.1');
    expect(stderr).toContain('SELF-SIGNED');
    expect(stdout).toMatch(/^http {2}https:\/\/127\.0\.0\.1:\d+$/m);
    expect(stdout).toMatch(/^page {2}https:\/\/127\.0\.0\.1:\d+\//m);
    expect(stdout).toMatch(/^cert {2}self-signed, SHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}$/m);
    expect(existsSync(join(data, 'tls-self-signed.cert.pem'))).toBe(true);
    child.kill('SIGTERM');
    await new Promise((resolve) => child.on('exit', resolve));
  }, 30_000);
});
