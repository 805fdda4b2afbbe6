import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { agent } from '@noxy-approval/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { silentLogger } from './logger.js';
import { startRelay, type Relay } from './server.js';

const fixture = (name: string) => readFileSync(new URL(`../test-fixtures/${name}`, import.meta.url));
const cert = fixture('localhost-cert.pem');

let relay: Relay;
beforeAll(async () => {
  relay = await startRelay({
    dataDir: ':memory:',
    logger: silentLogger,
    tls: { cert, key: fixture('localhost-key.pem') },
  });
});
afterAll(async () => {
  await relay.close();
});

describe('TLS', () => {
  it('serves the Agent API over TLS (https:// URL) and refuses plaintext clients', async () => {
    expect(relay.grpcUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const app = relay.createApp({ name: 'tls-app' });
    const md = new Metadata();
    md.set('authorization', `Bearer ${app.appToken}`);
    const target = new URL(relay.grpcUrl).host;
    const secure = new agent.AgentServiceClient(target, credentials.createSsl(cert), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    const quota = await new Promise<agent.GetQuotaResponse>((resolve, reject) =>
      secure.getQuota({ requestId: randomUUID() }, md, (e, r) => (e ? reject(e) : resolve(r))),
    );
    expect(quota.appName).toBe('tls-app');
    secure.close();
    const plain = new agent.AgentServiceClient(target, credentials.createInsecure());
    const error = await new Promise<ServiceError>((resolve) =>
      plain.getQuota({ requestId: randomUUID() }, md, { deadline: Date.now() + 3000 }, (e) => resolve(e!)),
    );
    expect(error.code).not.toBe(0);
    plain.close();
  });

  it('serves the WebSocket API as wss://', async () => {
    expect(relay.wsUrl).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/$/);
    // `servername` is passed through to tls.connect; ws's typings omit it.
    const ws = new WebSocket(relay.wsUrl, { ca: cert, servername: 'localhost' } as WebSocket.ClientOptions);
    const frame = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('not json'));
      ws.once('message', (d) => resolve(d.toString()));
      ws.once('error', reject);
    });
    ws.close();
    expect(JSON.parse(frame)).toMatchObject({ status: 'ERROR', error: { code: 'INVALID_REQUEST' } });
  });
});
