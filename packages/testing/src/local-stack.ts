/**
 * A whole Noxy stack on loopback for end-to-end tests: the real local relay (in-memory store),
 * one app, devices of one identity that answer as scripted, and an agent client.
 * @module
 */
import { createNoxyClient, type IdentityInput, type NoxyClient, type NoxyClientOptions } from '@noxy-approval/core';
import { createMemoryKeyStore, createNoxyDevice, type NoxyDevice, type ReceivedDecision } from '@noxy-approval/device';
import { startRelay, type Relay, type RelayOptions } from '@noxy-approval/relay';

/** How a scripted device answers each decision. */
export type Answer = 'approve' | 'reject' | 'never';

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions {
  identity?: IdentityInput;
  /** One entry per device; default one gRPC device that approves. */
  devices?: { transport?: 'grpc' | 'websocket'; answer?: Answer; delayMs?: number }[];
  client?: Partial<NoxyClientOptions>;
  /** Relay options besides the in-memory store. */
  relay?: Partial<RelayOptions>;
  /** The app's monthly decision quota. */
  quotaTotal?: number;
}

/** A running stack. */
export interface LocalStack {
  relay: Relay;
  appId: string;
  appToken: string;
  identity: IdentityInput;
  devices: NoxyDevice[];
  /** Decisions each device received, in order. */
  received: ReceivedDecision[][];
  client: NoxyClient;
  /** A new device object reusing device `index`'s keys (the same phone after a restart). */
  newDevice(index: number): Promise<NoxyDevice>;
  /** A second client with the same settings (e.g. for a server under test). */
  newClient(overrides?: Partial<NoxyClientOptions>): NoxyClient;
  close(): Promise<void>;
}

/** Starts relay, app, devices (connected and subscribed) and a client. */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const relay = await startRelay({ ...options.relay, dataDir: ':memory:' });
  const app = relay.createApp({
    name: 'e2e',
    ...(options.quotaTotal !== undefined ? { quotaTotal: options.quotaTotal } : {}),
  });
  const identity = options.identity ?? 'alice@example.com';
  const specs = options.devices ?? [{}];
  const devices: NoxyDevice[] = [];
  const received: ReceivedDecision[][] = [];
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const keyStores = specs.map(() => createMemoryKeyStore());
  const makeDevice = (index: number) => {
    const transport = specs[index]!.transport ?? 'grpc';
    return createNoxyDevice({
      relayUrl: transport === 'grpc' ? relay.grpcUrl : relay.httpUrl,
      appId: app.appId,
      identity,
      signingSecret: app.signingSecret,
      keyStore: keyStores[index]!,
      transport,
    });
  };
  const extra: NoxyDevice[] = [];
  for (const [index, spec] of specs.entries()) {
    const device = await makeDevice(index);
    const log: ReceivedDecision[] = [];
    received.push(log);
    device.on('decision', (d) => {
      log.push(d);
      const answer = spec.answer ?? 'approve';
      if (answer === 'never') return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        device.decide(d.decisionId, answer).catch(() => undefined);
      }, spec.delayMs ?? 0);
      timers.add(timer);
    });
    await device.connect();
    devices.push(device);
  }
  const clients: NoxyClient[] = [];
  const newClient = (overrides: Partial<NoxyClientOptions> = {}) => {
    const c = createNoxyClient({
      endpoint: relay.grpcUrl,
      authToken: app.appToken,
      kem: 'mlkem',
      ...options.client,
      ...overrides,
    });
    clients.push(c);
    return c;
  };
  const client = newClient();
  return {
    relay,
    appId: app.appId,
    appToken: app.appToken,
    identity,
    devices,
    received,
    client,
    newClient,
    async newDevice(index) {
      const device = await makeDevice(index);
      extra.push(device);
      return device;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      for (const c of clients) c.close();
      for (const d of [...devices, ...extra]) d.close();
      await relay.close();
    },
  };
}
