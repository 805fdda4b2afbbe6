/**
 * The offline stand-in for Noxy: the local relay in this process (in-memory store, loopback,
 * free ports), a dev app, and one "phone" — a device of the user that approves every request
 * after showing it. A real deployment uses the Noxy relay and the user's own device instead;
 * only the client's endpoint and token change.
 *
 * The app token and the signing secret stay in memory and are never printed.
 * @module
 */
import type { IdentityInput } from '@noxy-approval/core';
import { createMemoryKeyStore, createNoxyDevice, type NoxyDevice, type ReceivedDecision } from '@noxy-approval/device';
import { startRelay, type Relay } from '@noxy-approval/relay';

/** The running stand-in. */
export interface LocalNoxy {
  relay: Relay;
  /** The relay's Agent API (gRPC) URL, for the agent's client. */
  endpoint: string;
  /** The app's bearer token. Never printed. */
  appToken: string;
  device: NoxyDevice;
  close(): Promise<void>;
}

/**
 * Starts the relay, creates an app and connects an auto-approving device of `identity`.
 * @param onDecision called with each request the phone shows, before it answers
 */
export async function startLocalNoxy(
  identity: IdentityInput,
  onDecision: (decision: ReceivedDecision) => void,
): Promise<LocalNoxy> {
  const relay = await startRelay({ dataDir: ':memory:' });
  try {
    const app = relay.createApp({ name: 'langchain-agent-example' });
    const device = await createNoxyDevice({
      relayUrl: relay.grpcUrl,
      appId: app.appId,
      identity,
      signingSecret: app.signingSecret,
      keyStore: createMemoryKeyStore(),
      transport: 'grpc',
    });
    // The listener is in place before connecting, so nothing queued for the device is missed.
    device.on('decision', (decision) => {
      onDecision(decision);
      device.decide(decision.decisionId, 'approve').catch(() => undefined);
    });
    await device.connect();
    return {
      relay,
      endpoint: relay.grpcUrl,
      appToken: app.appToken,
      device,
      async close() {
        device.close();
        await relay.close();
      },
    };
  } catch (error) {
    await relay.close();
    throw error;
  }
}
