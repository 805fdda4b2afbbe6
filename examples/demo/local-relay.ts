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
import {
  createMemoryKeyStore,
  createNoxyDevice,
  webPageBuilt,
  webPageDir,
  type NoxyDevice,
} from '@noxy-approval/device';
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
 * @param web also serve the device package's web approval page at `/`
 * @throws Error when `web` is asked for but the page was not built
 */
export async function startLocalRelay(dataDir: string, log: DemoLog, web = false): Promise<Relay> {
  if (web && !webPageBuilt()) {
    throw new Error('the web approval page is not built: run `npm run build` (or just `npm run demo -- --web`)');
  }
  const relay = await startRelay({ dataDir, ...(web ? { webRoot: webPageDir() } : {}) });
  const store = dataDir === ':memory:' ? 'in-memory store' : `store in ${safe(dataDir)}`;
  log.say('relay', `listening on loopback: gRPC ${relay.grpcUrl}, HTTP/WebSocket ${relay.httpUrl} (${store})`);
  if (web) log.say('relay', `serving the web approval page at ${relay.httpUrl}/`);
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

/** How long `--web` waits for a person to open the link. */
const WEB_PAIR_TIMEOUT_MS = 10 * 60_000;

/**
 * Step 3 with `--web`: prints the page's one-time pairing link and its QR code, then waits until
 * a device (the page, in a browser) is paired and listening.
 * @throws NoxyError `ABORTED` on `signal`; Error when nobody paired in time
 */
export async function pairWebPage(
  o: { relay: Relay; appId: string; identity: IdentityInput; log: DemoLog },
  signal: AbortSignal,
): Promise<void> {
  const pairing = o.relay.createPairing({ appId: o.appId, identity: o.identity });
  // The relay's link to its web page, with the code in the fragment only (it never reaches a server).
  const link = pairing.webLink;
  if (!link) throw new Error('this relay gave no web pairing link (it serves no web page)');
  o.log.say('pairing', `one-time pairing for ${pairing.identityType}:${safe(pairing.identityId)}; open this link in a`);
  o.log.say('pairing', 'browser on this machine (it carries a one-time code: whoever opens it first pairs as you):');
  o.log.block(['', link, '']);
  const { default: QRCode } = await import('qrcode');
  const qr = await QRCode.toString(link, { type: 'terminal', small: true });
  o.log.block(qr.trimEnd().split('\n'));
  o.log.say('pairing', 'the relay listens on loopback only: a phone cannot reach it, a browser here can');
  o.log.say('device', 'waiting for the web page to pair (Ctrl+C to stop)…');
  const deadline = Date.now() + WEB_PAIR_TIMEOUT_MS;
  const before = o.relay.liveDevices();
  while (o.relay.liveDevices() <= before) {
    if (signal.aborted) throw new NoxyError('ABORTED', 'interrupted while waiting for the web page');
    if (Date.now() > deadline)
      throw new Error(`nobody paired on the web page within ${WEB_PAIR_TIMEOUT_MS / 60_000} min`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  o.log.say('device', 'the web page is paired and listening: answer the request there');
}
