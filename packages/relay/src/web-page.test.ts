import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { get as httpsGet } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { webPageDir } from '@noxy-approval/device';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { webPairingLink } from './admin.js';
import { bindPlan, selfSignedCert } from './lan.js';
import { silentLogger } from './logger.js';
import { startRelay, type Relay } from './server.js';
import { originAllowed } from './ws-gateway.js';

const relays: Relay[] = [];
const dirs: string[] = [];
afterAll(async () => {
  for (const r of relays) await r.close();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function relay(options: Partial<Parameters<typeof startRelay>[0]> = {}): Promise<Relay> {
  const r = await startRelay({ dataDir: ':memory:', logger: silentLogger, ...options });
  relays.push(r);
  return r;
}

function wsOpen(url: string, origin?: string): Promise<'open' | number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, origin ? { origin } : {});
    ws.on('open', () => {
      ws.close();
      resolve('open');
    });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(0));
  });
}

describe('the relay serves the web approval page', () => {
  it('at / by default, with a strict CSP and no caching', async () => {
    const r = await relay();
    const res = await fetch(`${r.httpUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('cache-control')).toBe('no-store');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("connect-src 'self' ws: wss:");
    expect(await res.text()).toBe(readFileSync(join(webPageDir(), 'index.html'), 'utf8'));
    const js = await fetch(`${r.httpUrl}/page.js`);
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toContain('text/javascript');
  });

  it('--web-root overrides it; webRoot false serves nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'noxy-web-'));
    dirs.push(dir);
    const own = await relay({ webRoot: dir });
    expect((await fetch(`${own.httpUrl}/`)).status).toBe(404);
    const none = await relay({ webRoot: false });
    expect(await (await fetch(`${none.httpUrl}/`)).text()).toContain('no web root');
  });

  it('pairing links keep the code in the fragment', async () => {
    const r = await relay();
    const app = r.createApp({ name: 'web' });
    const p = r.createPairing({ appId: app.appId, identity: 'alice@example.com' });
    expect(p.webLink).toBe(
      `${r.httpUrl}/#pair=${p.code}&app=${encodeURIComponent(app.appId)}&type=email&id=alice%40example.com`,
    );
    expect(webPairingLink('https://192.168.1.20:7071/x', 'a', { type: 'user_id', id: 'u 1' }, 'C')).toBe(
      'https://192.168.1.20:7071/#pair=C&app=a&type=user_id&id=u+1',
    );
  });
});

describe('WebSocket Origin check', () => {
  it('allows no Origin, the relay’s own origin and configured ones; refuses other sites', async () => {
    const r = await relay({ allowedOrigins: ['https://approve.example'] });
    expect(await wsOpen(r.wsUrl)).toBe('open');
    expect(await wsOpen(r.wsUrl, r.httpUrl)).toBe('open');
    expect(await wsOpen(r.wsUrl, 'https://approve.example')).toBe('open');
    expect(await wsOpen(r.wsUrl, 'https://evil.example')).toBe(403);
    expect(await wsOpen(r.wsUrl, 'null')).toBe(403);
    expect(originAllowed('https://h:1', 'h:1', { tls: false })).toBe(false);
    expect(originAllowed('https://h:1', 'h:1', { tls: true })).toBe(true);
  });
});

describe('--lan and --tls-self-signed', () => {
  it('bindPlan: --lan binds the LAN address (or --host), TLS flags are checked', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'noxy-lan-'));
    dirs.push(dir);
    expect((await bindPlan({ lan: true }, dir, () => '192.168.1.20')).host).toBe('192.168.1.20');
    expect((await bindPlan({ lan: true, host: '10.0.0.5' }, dir, () => '192.168.1.20')).host).toBe('10.0.0.5');
    await expect(bindPlan({ lan: true }, dir, () => undefined)).rejects.toThrow(/--host/);
    await expect(bindPlan({ 'tls-cert': 'x' }, dir)).rejects.toThrow(/go together/);
    const a = await bindPlan({ 'tls-self-signed': true }, dir);
    const b = await bindPlan({ 'tls-self-signed': true }, dir);
    expect(a.tlsKind).toBe('self-signed');
    expect(b.fingerprint).toBe(a.fingerprint); // reused from the data folder
  });

  it('serves the page over HTTPS on 127.0.0.1 with a self-signed certificate', async () => {
    const c = await selfSignedCert(['127.0.0.1']);
    const r = await relay({ tls: { cert: c.cert, key: c.key } });
    expect(r.httpUrl).toMatch(/^https:\/\/127\.0\.0\.1:/);
    const body = await new Promise<{ status: number; csp: unknown; text: string }>((resolve, reject) => {
      httpsGet(`${r.httpUrl}/`, { ca: c.cert }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, csp: res.headers['content-security-policy'], text }),
        );
      }).on('error', reject);
    });
    expect(body.status).toBe(200);
    expect(String(body.csp)).toContain("default-src 'self'");
    expect(body.text).toContain('Noxy approvals');
  });
});
