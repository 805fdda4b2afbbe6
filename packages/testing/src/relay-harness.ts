/**
 * The relay test harness: a real in-memory relay on 127.0.0.1 (ports chosen by the OS) whose
 * clock is a {@link ManualClock}, one app, a raw agent and raw devices. Everything opened here
 * is closed by `close()`.
 * @module
 */
import { type CreatedApp, type Relay, type RelayOptions, silentLogger, startRelay } from '@noxy-approval/relay';
import { ManualClock } from './manual-clock.js';
import { RawAgent } from './raw-agent.js';
import { RawGrpcDevice } from './raw-grpc-device.js';
import type { MacFields } from './registration-mac.js';
import { syntheticDeviceKeys } from './synthetic-keys.js';

/** A running test relay with one app. */
export interface TestRelay {
  /** The relay (in-memory store, silent logger). */
  relay: Relay;
  /** The relay's clock; it only moves on `clock.advance(ms)`. */
  clock: ManualClock;
  /** The app made at start (name `test-app`). */
  app: CreatedApp;
  /** A raw agent with the app's token. */
  agent: RawAgent;
  /** Opens a raw device stream for `app` using the manual clock. */
  device(appId?: string): RawGrpcDevice;
  /** Opens a device, registers it with the app secret (or `key`) and optionally subscribes. */
  addDevice(
    identity: Pick<MacFields, 'identityType' | 'identityId'>,
    options?: { subscribe?: boolean; key?: string; deviceType?: string },
  ): Promise<DeviceHandle>;
  /** Closes every device, the agent and the relay. */
  close(): Promise<void>;
}

/** A registered raw device and its keys. */
export interface DeviceHandle {
  /** The device's stream. */
  dev: RawGrpcDevice;
  /** The synthetic keys it registered with. */
  keys: { publicKey: Buffer; pqPublicKey: Buffer };
  /** The relay-issued device id. */
  deviceId: string;
}

/**
 * Starts a relay for a test.
 * @param options relay options (dataDir defaults to ':memory:'; clock is the manual one)
 */
export async function startTestRelay(
  options: Partial<RelayOptions> & { quotaTotal?: number } = {},
): Promise<TestRelay> {
  // Mid-month, so that advancing by hours or days does not cross into a new quota month unasked.
  const clock = new ManualClock({ start: Date.UTC(2026, 4, 15, 12), autoAdvance: false });
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
