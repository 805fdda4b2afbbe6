/**
 * The relay never prints a token or signing secret, even with grpc-js's full trace on
 * (issue 13 item 2): the spawned `noxy-relay start` (the bin shim) gets `GRPC_TRACE=all
 * GRPC_VERBOSITY=DEBUG`, agents call it with the right token and a wrong canary token, a device
 * registers with the signing secret, and no byte of stdout or stderr holds any of them.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RawAgent, RawGrpcDevice, syntheticDeviceKeys } from '@noxy-approval/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { createApp } from './admin.js';
import { redactGrpcLog } from './grpc-log.js';
import { RelayStore } from './store/index.js';

const bin = fileURLToPath(new URL('../bin/noxy-relay.js', import.meta.url));
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('redactGrpcLog', () => {
  it('removes bearer tokens, credential headers and the relay token formats, keeping the rest', () => {
    const token = 'noxy_at_Zm9vYmFyYmF6cXV4';
    const line = `received headers {"authorization":["Bearer ${token}"],"x-api-key":["k1"],"user-agent":["grpc"]}`;
    const out = redactGrpcLog(line);
    expect(out).not.toContain(token);
    expect(out).not.toContain('k1');
    expect(out).toContain('"user-agent":["grpc"]');
    expect(redactGrpcLog('authorization: Bearer abc.def')).toBe('authorization: [redacted]');
    expect(redactGrpcLog('secret noxy_ss_abc-DEF_1 here')).toBe('secret noxy_ss_[redacted] here');
    expect(redactGrpcLog('Bearer canary-123, next')).toBe('Bearer [redacted], next');
  });
});

describe('noxy-relay start with GRPC_TRACE=all', () => {
  it('prints no token and no signing secret, right or wrong, on stdout or stderr', async () => {
    const data = mkdtempSync(join(tmpdir(), 'noxy-relay-trace-'));
    dirs.push(data);
    const admin = RelayStore.open(data);
    const app = createApp(admin, Date.now(), { name: 'trace' });
    admin.close();
    const wrong = 'noxy_at_CANARYwrongTOKEN0123456789abcdefABCDEF';
    const plain = 'canary-plain-token-6f1d2c';

    const child = spawn(
      process.execPath,
      [bin, 'start', '--data', data, '--grpc-port', '0', '--http-port', '0', '--log-level', 'debug'],
      { env: { ...process.env, GRPC_TRACE: 'all', GRPC_VERBOSITY: 'DEBUG' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const chunks: Buffer[] = [];
    child.stdout.on('data', (d: Buffer) => chunks.push(d));
    child.stderr.on('data', (d: Buffer) => chunks.push(d));
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      let grpcUrl: string | undefined;
      for (let i = 0; i < 300 && !grpcUrl; i++) {
        grpcUrl = /^grpc\s+(\S+)$/m.exec(Buffer.concat(chunks).toString())?.[1];
        if (!grpcUrl) await new Promise((r) => setTimeout(r, 50));
      }
      if (!grpcUrl) throw new Error(`relay did not start: ${Buffer.concat(chunks).toString()}`);

      for (const token of [app.appToken, wrong, plain]) {
        const agent = new RawAgent(grpcUrl, token);
        await agent.quota().catch(() => undefined);
        await agent.route({ targetDeviceId: 'nobody' }).catch(() => undefined);
        agent.close();
      }
      const dev = new RawGrpcDevice(grpcUrl, app.appId);
      const reg = await dev.register(app.signingSecret, {
        identityType: 'email',
        identityId: 'trace@example.com',
        ...syntheticDeviceKeys(),
        deviceType: 'telegram',
      });
      expect(reg.payload?.$case).toBe('registerDevice');
      dev.close();
      await new Promise((r) => setTimeout(r, 200));
    } finally {
      child.kill('SIGTERM');
      await exited;
    }
    const output = Buffer.concat(chunks);
    // The trace really ran (so the assertions below can fail): grpc-js logged the calls' headers.
    expect(output.toString()).toMatch(
      /server_call \| Request to \/noxy\.agent\.AgentService\/GetQuota received headers/,
    );
    for (const secret of [app.appToken, app.signingSecret, wrong, plain]) {
      expect(output.includes(Buffer.from(secret)), `output holds ${secret.slice(0, 8)}…`).toBe(false);
    }
  }, 30_000);
});
