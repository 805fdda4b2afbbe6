/**
 * The TCP fault proxy itself (packages/testing fault-proxy.ts), against a loopback echo server:
 * each toxic does what it says, bytes keep their order under jitter, and `close()` leaves no
 * socket open.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import { startFaultProxy, type FaultProxy } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { seeded } from './reconciler.js';

const cleanup: (() => unknown)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

async function echo(): Promise<{ port: number; server: Server }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
    s.pipe(s);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanup.push(() => {
    for (const s of sockets) s.destroy();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { port: (server.address() as { port: number }).port, server };
}

/** Sends `chunks` through the proxy, resolving with what came back and how the socket ended. */
function exchange(proxy: FaultProxy, chunks: Buffer[], expectBytes: number) {
  return new Promise<{ data: Buffer; end: 'complete' | 'reset' | 'closed' }>((resolve) => {
    const got: Buffer[] = [];
    let size = 0;
    const s = connect({ host: '127.0.0.1', port: proxy.port }, () => {
      for (const c of chunks) s.write(c);
    });
    const timer = setTimeout(() => finish('closed'), 3_000);
    const finish = (end: 'complete' | 'reset' | 'closed') => {
      clearTimeout(timer);
      s.destroy();
      resolve({ data: Buffer.concat(got), end });
    };
    s.on('data', (b: Buffer) => {
      got.push(b);
      size += b.length;
      if (size >= expectBytes) finish('complete');
    });
    s.on('error', (e: NodeJS.ErrnoException) => finish(e.code === 'ECONNRESET' ? 'reset' : 'closed'));
    s.on('close', () => finish('closed'));
  });
}

describe('the TCP fault proxy', () => {
  it('latency + jitter: delays the round trip and keeps every byte in order', async () => {
    const { port } = await echo();
    const proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port },
      toxics: { latencyMs: 30, jitterMs: 40 },
      random: seeded(1),
    });
    cleanup.push(() => proxy.close());
    const chunks = Array.from({ length: 50 }, (_, i) => Buffer.from(`chunk-${String(i).padStart(3, '0')};`));
    const t = performance.now();
    const r = await exchange(proxy, chunks, Buffer.concat(chunks).length);
    expect(r.end).toBe('complete');
    expect(r.data.toString()).toBe(Buffer.concat(chunks).toString());
    // Two delayed hops (there and back), each ≥ 30 ms.
    expect(performance.now() - t).toBeGreaterThanOrEqual(60);
  });

  it('blackhole: accepts, never connects upstream, never answers', async () => {
    const { port, server } = await echo();
    let upstream = 0;
    server.on('connection', () => upstream++);
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port }, toxics: { blackhole: true } });
    cleanup.push(() => proxy.close());
    const r = await Promise.race([
      exchange(proxy, [Buffer.from('hello')], 5),
      new Promise<'silent'>((res) => setTimeout(() => res('silent'), 300)),
    ]);
    expect(r).toBe('silent');
    expect(proxy.accepted).toBe(1);
    expect(upstream).toBe(0);
  });

  it('resetAfterBytes: RST once that many bytes went upstream; closeAfterBytes: FIN after N bytes back', async () => {
    const { port } = await echo();
    const proxy = await startFaultProxy({
      target: { host: '127.0.0.1', port },
      toxics: (i) => (i === 0 ? { resetAfterBytes: 10 } : { closeAfterBytes: 6 }),
    });
    cleanup.push(() => proxy.close());
    const reset = await exchange(proxy, [Buffer.from('12345'), Buffer.from('6789012345')], 15);
    expect(reset.end).toBe('reset');
    expect(proxy.resets).toBe(1);
    const closed = await exchange(proxy, [Buffer.from('abc'), Buffer.from('defghi')], 9);
    expect(closed.end).toBe('closed');
    expect(closed.data.length).toBeLessThan(9);
    expect(proxy.closes).toBe(1);
  });

  it('close() ends every connection and the listener', async () => {
    const { port } = await echo();
    const proxy = await startFaultProxy({ target: { host: '127.0.0.1', port } });
    const s = connect({ host: '127.0.0.1', port: proxy.port });
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.once('connect', () => r()));
    for (let i = 0; i < 50 && proxy.open < 2; i++) await new Promise((r) => setTimeout(r, 10));
    expect(proxy.open).toBe(2);
    await proxy.close();
    expect(proxy.open).toBe(0);
    const refused = await new Promise<string>((resolve) => {
      const again = connect({ host: '127.0.0.1', port: proxy.port });
      again.on('connect', () => resolve('connected'));
      again.on('error', (e: NodeJS.ErrnoException) => resolve(String(e.code)));
    });
    expect(refused).toBe('ECONNREFUSED');
    s.destroy();
  });

  it('refuses a target that is not loopback', async () => {
    await expect(startFaultProxy({ target: { host: '10.0.0.1', port: 1 } })).rejects.toThrow(/loopback/);
  });
});
