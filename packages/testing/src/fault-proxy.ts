/**
 * A TCP fault proxy for tests and benchmarks: it listens on loopback (port chosen by the OS) and
 * forwards each accepted connection to `target`, applying the "toxics" toxiproxy would (there is
 * no toxiproxy binary on the CI machine kind, and `tc netem` lacks its kernel module):
 *
 * - `latencyMs` ± `jitterMs` on every chunk, both directions, order kept per direction;
 * - `blackhole`: accept and read, never connect upstream nor answer (no HTTP/2 SETTINGS);
 * - `resetAfterBytes`: once that many bytes went upstream, RST both sides (`resetAndDestroy`);
 * - `closeAfterBytes`: once that many bytes came back downstream, FIN both sides.
 *
 * Toxics are chosen per connection by `toxics(index)`, so a test can fault e.g. 10 % of them,
 * and can be swapped at any time with `setToxics`. `close()` destroys every socket and resolves
 * once the listener is closed, so nothing outlives the test.
 * @module
 */
import { connect, createServer, type Socket } from 'node:net';

/** What the proxy does to one connection. */
export interface Toxics {
  /** Added delay per chunk in ms (both directions); default 0. */
  latencyMs?: number;
  /** Uniform extra delay 0 … jitterMs per chunk; default 0. Chunks stay in order. */
  jitterMs?: number;
  /** Accept, swallow whatever the client sends, never connect upstream. */
  blackhole?: boolean;
  /** RST both sides once this many client → target bytes were forwarded (0 = at accept). */
  resetAfterBytes?: number;
  /** Close (FIN) both sides once this many target → client bytes were forwarded. */
  closeAfterBytes?: number;
}

/** Picks the toxics of the `index`-th accepted connection (0-based). */
export type ToxicPlan = Toxics | ((index: number) => Toxics);

/** A running fault proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>` — hand it to a client as its relay endpoint. */
  readonly endpoint: string;
  readonly port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Connections ended by `resetAfterBytes` so far. */
  readonly resets: number;
  /** Connections ended by `closeAfterBytes` so far. */
  readonly closes: number;
  /** Sockets (client and upstream sides) open right now. */
  readonly open: number;
  /** Replaces the toxics for connections accepted from now on. */
  setToxics(plan: ToxicPlan): void;
  /** Cuts every open connection (RST), as a network partition would; the listener stays up. */
  resetAll(): void;
  /** Destroys every socket and closes the listener. */
  close(): Promise<void>;
}

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Where connections go, e.g. the relay's `127.0.0.1:port`. */
  target: { host: string; port: number };
  /** Default: no toxics (a plain forwarder). */
  toxics?: ToxicPlan;
  /** Source of jitter randomness (tests pass a seeded one); default `Math.random`. */
  random?: () => number;
}

/**
 * Forwards one direction with a delay per chunk, keeping order: each chunk is due at
 * max(previous due time, now + delay), and one timer drains a FIFO queue, so jitter never
 * reorders bytes on the stream (separate timers with equal due times may fire in any order).
 */
function delayedPipe(from: Socket, to: Socket, delay: () => number, onBytes: (n: number) => boolean): void {
  const queue: { due: number; chunk: Buffer }[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  let lastDue = 0;
  const forward = (chunk: Buffer) => {
    if (!to.destroyed && onBytes(chunk.length) && !to.destroyed) to.write(chunk);
  };
  const drain = () => {
    timer = undefined;
    const now = performance.now();
    while (queue.length > 0 && queue[0]!.due <= now) forward(queue.shift()!.chunk);
    if (queue.length > 0) timer = setTimeout(drain, Math.max(0, queue[0]!.due - now));
    else if (ended && !to.destroyed) to.end();
  };
  from.on('data', (chunk: Buffer) => {
    const ms = delay();
    if (ms <= 0 && queue.length === 0) return forward(chunk);
    lastDue = Math.max(lastDue, performance.now() + ms);
    queue.push({ due: lastDue, chunk });
    timer ??= setTimeout(drain, Math.max(0, queue[0]!.due - performance.now()));
  });
  from.on('end', () => {
    // The FIN follows the last delayed chunk.
    ended = true;
    if (queue.length === 0 && !to.destroyed) to.end();
  });
  from.on('close', () => {
    if (!to.destroyed && queue.length === 0) to.destroy();
  });
  to.on('close', () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    queue.length = 0;
  });
}

/**
 * Starts a fault proxy on 127.0.0.1 (port 0).
 * @throws Error when the target is not a loopback address (tests never leave the machine)
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const { target, random = Math.random } = options;
  if (!['127.0.0.1', '::1', 'localhost'].includes(target.host))
    throw new Error(`fault proxy target.host: expected a loopback address, got ${target.host}`);
  let plan: ToxicPlan = options.toxics ?? {};
  let accepted = 0;
  let resets = 0;
  let closes = 0;
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.on('error', () => undefined);
    s.on('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    const index = accepted++;
    track(client);
    const t = typeof plan === 'function' ? plan(index) : plan;
    if (t.blackhole) {
      client.resume();
      return;
    }
    const reset = () => {
      resets++;
      client.resetAndDestroy();
      upstream.resetAndDestroy();
    };
    const upstream = connect({ host: target.host, port: target.port });
    track(upstream);
    if (t.resetAfterBytes === 0) return void upstream.once('connect', reset);
    const delay = () => (t.latencyMs ?? 0) + (t.jitterMs ? random() * t.jitterMs : 0);
    let up = 0;
    let down = 0;
    delayedPipe(client, upstream, delay, (n) => {
      up += n;
      if (t.resetAfterBytes !== undefined && up >= t.resetAfterBytes) {
        reset();
        return false;
      }
      return true;
    });
    delayedPipe(upstream, client, delay, (n) => {
      down += n;
      if (t.closeAfterBytes !== undefined && down >= t.closeAfterBytes) {
        closes++;
        client.destroy();
        upstream.destroy();
        return false;
      }
      return true;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    port,
    get accepted() {
      return accepted;
    },
    get resets() {
      return resets;
    },
    get closes() {
      return closes;
    },
    get open() {
      return sockets.size;
    },
    setToxics(next) {
      plan = next;
    },
    resetAll() {
      for (const s of sockets) s.resetAndDestroy();
    },
    async close() {
      // Resolves once every socket has emitted 'close', so `open` is 0 when it returns.
      const closed = [...sockets].map((s) => new Promise<void>((resolve) => s.once('close', () => resolve())));
      for (const s of sockets) s.destroy();
      await Promise.all([...closed, new Promise<void>((resolve) => server.close(() => resolve()))]);
    },
  };
}
