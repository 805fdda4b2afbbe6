/**
 * Steps 1–3 on the relay side: start the local relay in this process, create a dev app, and
 * pair a device with a one-time pairing code.
 *
 * The app token, the signing secret and the pairing code are handed from object to object in
 * memory and never printed: the token lets anyone send approval requests as this app, the
 * secret lets anyone register a device, and the code lets anyone pair as the user.
 * @module
 */
import { NoxyError, type IdentityInput } from '@noxy-approval/core';
import { createMemoryKeyStore, createNoxyDevice, type NoxyDevice } from '@noxy-approval/device';
import { startRelay, type Relay } from '@noxy-approval/relay';
import { safe, type DemoLog } from './log.js';

/** The app's credentials, for the agent only. */
export interface DevApp {
  appId: string;
  /** Bearer token of the Agent API. Never printed. */
  appToken: string;
}

/** How long pairing may take before the demo gives up (the relay is local: seconds at most). */
const PAIR_TIMEOUT_MS = 15_000;

/**
 * Step 1: starts the relay on loopback, on free ports.
 * @param dataDir a folder for the SQLite store, or `:memory:`
 */
export async function startLocalRelay(dataDir: string, log: DemoLog): Promise<Relay> {
  const relay = await startRelay({ dataDir });
  const store = dataDir === ':memory:' ? 'in-memory store' : `store in ${safe(dataDir)}`;
  log.say('relay', `listening on loopback: gRPC ${relay.grpcUrl}, HTTP/WebSocket ${relay.httpUrl} (${store})`);
  return relay;
}

/**
 * Step 2: creates a dev app. Only its id is shown; the token goes to the agent in memory and
 * the signing secret is dropped here, since the device pairs with a one-time code instead.
 */
export function createDevApp(relay: Relay, log: DemoLog): DevApp {
  const { appId, appToken } = relay.createApp({ name: 'noxy-demo' });
  log.say('app', `app created: ${safe(appId)} (token and signing secret stay in memory, never printed)`);
  return { appId, appToken };
}

/** Options of {@link pairDevice}. */
export interface PairDeviceOptions {
  relay: Relay;
  appId: string;
  identity: IdentityInput;
  transport: 'grpc' | 'websocket';
  log: DemoLog;
  /**
   * Called with the device before it connects, so its listeners are in place before the relay
   * drains anything queued for it.
   */
  beforeConnect?: (device: NoxyDevice) => void;
}

/**
 * Step 3: creates a one-time pairing for (app, identity) and registers a fresh device with it,
 * exactly as `noxy-device pair <link>` does on a user's machine. The device's ML-KEM-768 and
 * Ed25519 keys are created here and kept in memory only.
 * @throws NoxyError `RELAY_UNAVAILABLE` when pairing does not finish in time; the relay's
 *   refusal (e.g. `INVALID_SIGNATURE`) otherwise
 */
export async function pairDevice(o: PairDeviceOptions): Promise<NoxyDevice> {
  const pairing = o.relay.createPairing({ appId: o.appId, identity: o.identity });
  const minutes = Math.round((pairing.expiresAt - Date.now()) / 60_000);
  o.log.say(
    'pairing',
    `one-time pairing created for ${pairing.identityType}:${safe(pairing.identityId)} ` +
      `(expires in ${minutes} min; the code is not printed)`,
  );
  const device = await createNoxyDevice({
    // The gRPC device stream and the WebSocket Client API listen on different ports.
    relayUrl: o.transport === 'grpc' ? o.relay.grpcUrl : o.relay.httpUrl,
    appId: o.appId,
    identity: o.identity,
    pairingCode: pairing.code,
    keyStore: createMemoryKeyStore(),
    transport: o.transport,
    deviceType: 'desktop',
  });
  o.beforeConnect?.(device);
  try {
    await connectWithin(device, PAIR_TIMEOUT_MS);
  } catch (error) {
    device.close();
    throw error;
  }
  o.log.say(
    'device',
    `paired and listening: device ${safe(device.deviceId ?? '?')} over ${o.transport} ` +
      '(keys created on the device, never leave it)',
  );
  return device;
}

/** `connect()` bounded in time, so a broken setup fails with a message instead of hanging. */
async function connectWithin(device: NoxyDevice, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new NoxyError('RELAY_UNAVAILABLE', `the device could not pair with the local relay within ${ms / 1000} s`),
        ),
      ms,
    );
  });
  try {
    await Promise.race([device.connect(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
