/**
 * Encrypting and routing one decision to every device of an identity (docs/protocol.md §2.2):
 * one decision_id for all devices, one fresh encapsulation and nonce per device, RouteDecision
 * in parallel with bounded concurrency, a result per device; a refused key or a failed device
 * never stops the others. The official SDKs do this sequentially and abort on the first error.
 * @module
 */
import type { agent } from '@noxy-approval/proto';
import type { Aead } from './envelope/aead.js';
import { sealEnvelope, type Envelope, type RandomBytes } from './envelope/envelope.js';
import type { KemBackend } from './envelope/kem.js';
import { encapsulationKeyProblem } from './envelope/key-check.js';
import { NoxyError } from './errors.js';
import type { DeliveryStatus } from './outcome.js';

/** The fate of the decision on one device. */
export interface DeviceDelivery {
  deviceId: string;
  status: DeliveryStatus;
  /** Why it was not sent or failed (`refused_key`, `failed`). */
  error?: NoxyError;
}

/** A device as returned by GetIdentityDevices. */
export type TargetDevice = agent.IdentityDevice;

/** How to send one device's envelope; returns the relay's status. */
export type SendToDevice = (device: TargetDevice, envelope: Envelope) => Promise<DeliveryStatus>;

/** Options of {@link fanOut}. */
export interface FanOutOptions {
  plaintext: Uint8Array;
  devices: readonly TargetDevice[];
  kem: KemBackend;
  aead: Aead;
  send: SendToDevice;
  /** Parallel RouteDecisions at most (default 16). */
  concurrency?: number;
  randomBytes?: RandomBytes | undefined;
}

function keyError(deviceId: string, why: string): NoxyError {
  return new NoxyError('CRYPTO', `device ${deviceId}: ML-KEM-768 key refused (${why}); nothing was sent to it`);
}

/** Runs the fan-out; never throws for a single device's failure. */
export async function fanOut(options: FanOutOptions): Promise<DeviceDelivery[]> {
  const { devices, kem, aead, send, plaintext, randomBytes } = options;
  const results: DeviceDelivery[] = new Array(devices.length);
  const seenKeys = new Set<string>();
  const queue: number[] = [];
  devices.forEach((device, i) => {
    const problem = encapsulationKeyProblem(device.pqPublicKey);
    // Two devices with one key means one of them is not what it claims: refuse the repeat.
    const fingerprint = problem ? '' : Buffer.from(device.pqPublicKey).toString('base64');
    if (problem)
      results[i] = { deviceId: device.deviceId, status: 'refused_key', error: keyError(device.deviceId, problem) };
    else if (seenKeys.has(fingerprint))
      results[i] = {
        deviceId: device.deviceId,
        status: 'refused_key',
        error: keyError(device.deviceId, 'duplicate of another device of this identity'),
      };
    else {
      seenKeys.add(fingerprint);
      queue.push(i);
    }
  });
  const worker = async () => {
    for (let i = queue.shift(); i !== undefined; i = queue.shift()) {
      const device = devices[i]!;
      try {
        // A plain Uint8Array copy: the relay's keys arrive as Buffers, which the liboqs backend
        // (`auto` when installed) refuses ("expected 1184 bytes, got 1184").
        const envelope = await sealEnvelope(plaintext, new Uint8Array(device.pqPublicKey), { kem, aead, randomBytes });
        results[i] = { deviceId: device.deviceId, status: await send(device, envelope) };
      } catch (err) {
        // RPC failures are NoxyErrors already (transport.ts); a bare error came from the crypto
        // or from loading the transport module.
        const error = NoxyError.isInstance(err)
          ? err
          : new NoxyError('CRYPTO', `device ${device.deviceId}: could not encrypt or send: ${String(err)}`, {
              cause: err,
            });
        results[i] = { deviceId: device.deviceId, status: 'failed', error };
      }
    }
  };
  const lanes = Math.max(1, Math.min(options.concurrency ?? 16, queue.length));
  await Promise.all(Array.from({ length: lanes }, worker));
  return results;
}
