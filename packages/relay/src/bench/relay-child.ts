/**
 * Child process of {@link benchManyDevices}: runs a relay alone in its own process so its
 * resident memory can be measured without the benchmark's 1,000 client connections.
 *
 * IPC protocol: the child sends `{ ready, grpcUrl, appId, appToken, signingSecret }`; the
 * parent sends `'stats'` (answered with {@link ChildStats}) and `'stop'`.
 * @module
 */
import { silentLogger } from '../logger.js';
import type { DecisionStatus } from '../store/index.js';
import { startRelay } from '../server.js';

/** What the child reports on `'stats'`. */
export interface ChildStats {
  rss: number;
  liveDevices: number;
  journalMode: string;
  synchronous: number;
  decisions: Partial<Record<DecisionStatus, number>> & { total: number };
}

const send = (message: unknown): void => void process.send?.(message);

const relay = await startRelay({
  dataDir: process.argv[2] ?? ':memory:',
  logger: silentLogger,
  rateLimits: { agentPerSecond: 1e9, devicePerSecond: 1e9 },
  defaultQuotaTotal: 1_000_000,
});
const app = relay.createApp({ name: 'bench-many' });
send({ ready: true, grpcUrl: relay.grpcUrl, ...app });
process.on('message', (message) => {
  if (message === 'stats') {
    const { journalMode, synchronous } = relay.store.durability();
    send({
      rss: process.memoryUsage().rss,
      liveDevices: relay.liveDevices(),
      journalMode,
      synchronous,
      decisions: relay.status().decisions,
    });
  }
  if (message === 'stop') void relay.close().then(() => process.exit(0));
});
// If the parent dies, do not linger.
process.on('disconnect', () => void relay.close().then(() => process.exit(0)));
