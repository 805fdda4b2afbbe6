/**
 * Test harness: an in-memory relay on 127.0.0.1 (ports chosen by the OS), a manual clock, an
 * app, an agent client and raw devices. Everything opened here is closed by `close()`.
 * @module
 */
import { silentLogger } from '../logger.js';
import type { RelayOptions } from '../options.js';
import { startRelay, type Relay } from '../server.js';
import type { CreatedApp } from '../admin.js';
import { syntheticDeviceKeys } from './keys.js';
import { RawAgent } from './raw-agent.js';
import { RawGrpcDevice } from './raw-grpc-device.js';
import type { MacFields } from './registration-mac.js';

/** A manual clock (ms). */
export interface ManualClock {
  now(): number;
  advance(ms: number): void;
}

/**
 * A clock starting at `start` that only moves when told.
 * @param start initial reading, ms since epoch
 */
export function manualClock(start = Date.UTC(2026, 4, 15, 12)): ManualClock {
  let t = start;
  return {
    now: () => t,
    advance: (ms) => {
      t += ms;
    },
  };
}

/** A running test relay with one app. */
export interface TestRelay {
  relay: Relay;
  clock: ManualClock;
  app: CreatedApp;
  agent: RawAgent;
  /** Opens a raw device stream for `app` using the manual clock. */
  device(appId?: string): RawGrpcDevice;
  /** Opens a device, registers it with the app secret (or `key`) and optionally subscribes. */
  addDevice(
    identity: Pick<MacFields, 'identityType' | 'identityId'>,
    options?: { subscribe?: boolean; key?: string; deviceType?: string },
  ): Promise<DeviceHandle>;
  close(): Promise<void>;
}

/** A registered raw device and its keys. */
export interface DeviceHandle {
  dev: RawGrpcDevice;
  keys: { publicKey: Buffer; pqPublicKey: Buffer };
  deviceId: string;
}

/**
 * Starts a relay for a test.
 * @param options relay options (dataDir defaults to ':memory:'; clock is the manual one)
 */
export async function startTestRelay(
  options: Partial<RelayOptions> & { quotaTotal?: number } = {},
): Promise<TestRelay> {
  const clock = manualClock();
  const { quotaTotal, ...relayOptions } = options;
  const relay = await startRelay({ dataDir: ':memory:', logger: silentLogger, now: clock.now, ...relayOptions });
  const app = relay.createApp({ name: 'test-app', quotaTotal });
  const agent = new RawAgent(relay.grpcUrl, app.appToken);
  const opened: RawGrpcDevice[] = [];
  const device = (appId = app.appId) => {
    const dev = new RawGrpcDevice(relay.grpcUrl, appId, clock.now);
    opened.push(dev);
    return dev;
  };
  return {
    relay,
    clock,
    app,
    agent,
    device,
    async addDevice(identity, o = {}) {
      const dev = device();
      const keys = syntheticDeviceKeys();
      const r = await dev.register(o.key ?? app.signingSecret, {
        ...identity,
        ...keys,
        deviceType: o.deviceType ?? 'telegram',
      });
      if (r.payload?.$case !== 'registerDevice') throw new Error(`registration failed: ${JSON.stringify(r.payload)}`);
      if (o.subscribe ?? true) await dev.subscribe();
      return { dev, keys, deviceId: r.payload.value.deviceId };
    },
    async close() {
      for (const dev of opened) dev.close();
      agent.close();
      await relay.close();
    },
  };
}
