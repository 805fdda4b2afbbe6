/**
 * The session handshake of the Client API (docs/protocol.md §5.3 steps 2–4): authenticate with the
 * device's public keys; when the relay answers `requires_registration`, register with the
 * stored HMAC registration signature; then subscribe to decisions with the issued device and
 * session ids. The relay drains what it queued for the device right after the subscription.
 * @module
 */
import type { Identity } from '@noxy-approval/core';
import { NoxyError } from '@noxy-approval/core/portable';
import type { StoredDevice } from './key-store.js';
import type { Session, SessionIds } from './session.js';

/**
 * Runs the handshake on a fresh session and records the ids on it.
 * @throws NoxyError `INVALID_ARGUMENT` when registration is needed and no signature is at hand,
 *   `PROTOCOL` for answers without ids, or the relay's refusal (DeviceRelayError)
 */
export async function handshake(session: Session, record: StoredDevice, identity: Identity): Promise<SessionIds> {
  const keys = { publicKey: record.keys.ed25519.publicKey, pqPublicKey: record.keys.mlkem.publicKey };
  const auth = await session.request({ kind: 'authenticate', keys });
  let ids: SessionIds;
  if (auth.requiresRegistration) {
    const signature = record.registrationSignature;
    if (!signature) {
      throw new NoxyError(
        'INVALID_ARGUMENT',
        'the relay does not know this device and there is no registration signature: ' +
          'pass signingSecret or a new pairingCode',
        {
          field: 'pairingCode',
        },
      );
    }
    // A repeated registration of known keys is answered with the same device id (contract).
    const reg = await session.request({
      kind: 'registerDevice',
      keys,
      signature,
      deviceType: record.deviceType,
      identityType: identity.type,
      identityId: identity.id,
    });
    ids = { deviceId: reg.deviceId, sessionId: reg.sessionId };
  } else {
    ids = { deviceId: auth.deviceId ?? '', sessionId: auth.sessionId ?? '' };
  }
  if (!ids.deviceId || !ids.sessionId)
    throw new NoxyError('PROTOCOL', 'the relay did not issue a device id and session id');
  session.setIds(ids);
  const sub = await session.request({ kind: 'subscribeDecisions', subscribe: true });
  if (!sub.subscribed) throw new NoxyError('PROTOCOL', 'the relay refused the subscription');
  return ids;
}
