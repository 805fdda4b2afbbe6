/**
 * Example: the agent client alone (`@noxy-approval/core`, no framework). The agent sends one
 * decision to every device of the user, end-to-end encrypted, and waits for the answer.
 * Runs offline: the local relay in this process (in-memory store) and a device paired with a
 * one-time code, as `noxy-device pair <link>` would, that approves by itself (`--reject`: rejects).
 * Checks its own result: exit 0 only when the device saw the request and the outcome is the
 * expected one.
 *
 * `node --import tsx examples/core-basic/index.ts [--reject]`
 * @module
 */
import { createNoxyClient } from '@noxy-approval/core';
import { createMemoryKeyStore, createNoxyDevice } from '@noxy-approval/device';
import { startRelay } from '@noxy-approval/relay';

const identity = 'alice@example.com';
const answer = process.argv.includes('--reject') ? 'reject' : 'approve';
const say = (who: string, text: string) => console.log(`${who.padEnd(7)} ${text}`);

// The user's side: a relay, an app, a one-time pairing code and a device with its own keys.
const relay = await startRelay({ dataDir: ':memory:' });
const app = relay.createApp({ name: 'core-basic-example' });
say('relay', `listening on ${relay.grpcUrl} (app ${app.appId}; its token is never printed)`);
const pairing = relay.createPairing({ appId: app.appId, identity });
const device = await createNoxyDevice({
  relayUrl: relay.grpcUrl,
  appId: app.appId,
  identity,
  pairingCode: pairing.code,
  keyStore: createMemoryKeyStore(),
  transport: 'grpc',
});
let seen = 0;
device.on('decision', (d) => {
  seen++;
  say('device', `decrypted ${JSON.stringify(d.payload)} → ${answer}`);
  device.decide(d.decisionId, answer).catch((e: unknown) => say('device', `could not answer: ${String(e)}`));
});
await device.connect();
say('device', `paired as ${device.deviceId}`);

// The agent's side: all it needs is the relay's endpoint and the app token.
const client = createNoxyClient({ endpoint: relay.grpcUrl, authToken: app.appToken, decisionTtlSeconds: 60 });
let ok = false;
try {
  const decision = { title: 'Deploy v2.3 to production?', service: 'api', version: '2.3.0' };
  say('agent', `asks ${identity}: ${JSON.stringify(decision)}`);
  const result = await client.sendDecisionAndWaitForOutcome(identity, decision);
  say('agent', `sent to ${result.sent.delivered} device(s); outcome: ${result.outcome} after ${result.polls} poll(s)`);
  const expected = answer === 'approve' ? 'approved' : 'rejected';
  ok = result.outcome === expected && seen === 1;
  if (ok && result.outcome === 'approved') say('agent', 'approved: deploying (nothing really happens here)');
  say('result', ok ? `ok: ${result.outcome}, as expected` : `FAILED: expected ${expected}, device saw ${seen}`);
} finally {
  client.close();
  device.close();
  await relay.close();
}
process.exitCode = ok ? 0 : 1;
