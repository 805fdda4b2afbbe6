/**
 * Which device connections are authenticated and subscribed right now. In memory only: after
 * a restart devices reconnect and subscribe again, and whatever they missed is drained from the
 * store.
 * @module
 */
import type { device } from '@noxy-approval/proto';
import { MAX_SESSIONS_PER_DEVICE } from './outbox.js';

/** Where the relay writes responses for one device connection. */
export interface DeviceSink {
  /** Writes one response; must not throw (a closed connection drops it). */
  send(response: device.DeviceResponse): void;
  /** Closes the connection: a newer session of the same device took its place. */
  evict?(reason: string): void;
}

/** Subscribed sinks per device id, and the authenticated sessions of each device. */
export class LiveRegistry {
  readonly #byDevice = new Map<string, Set<DeviceSink>>();
  // Insertion-ordered, so the first entry is the device's oldest session.
  readonly #sessions = new Map<string, Set<DeviceSink>>();
  readonly #maxSessions: number;

  /** @param maxSessions most concurrent sessions per device (outbox.ts) */
  constructor(maxSessions = MAX_SESSIONS_PER_DEVICE) {
    this.#maxSessions = maxSessions;
  }

  /**
   * A connection authenticated as the device. Past the cap the device's oldest session is
   * evicted (its connection closed): a reconnecting phone is never locked out by its own
   * half-open connections, and one device's keys cannot hold unbounded connections.
   */
  startSession(deviceId: string, sink: DeviceSink): void {
    let set = this.#sessions.get(deviceId);
    if (!set) {
      set = new Set();
      this.#sessions.set(deviceId, set);
    }
    set.delete(sink);
    set.add(sink);
    // Bounded: each pass removes one entry (evict ends the session, and it is deleted regardless).
    while (set.size > this.#maxSessions) {
      const oldest = set.values().next().value as DeviceSink;
      set.delete(oldest);
      this.remove(deviceId, oldest);
      oldest.evict?.(`more than ${this.#maxSessions} sessions of this device`);
    }
  }

  /** A session ended (connection closed, or it authenticated as another device). */
  endSession(deviceId: string, sink: DeviceSink): void {
    const set = this.#sessions.get(deviceId);
    if (!set?.delete(sink)) return;
    if (set.size === 0) this.#sessions.delete(deviceId);
  }

  /** Authenticated sessions of a device right now. */
  sessionsOf(deviceId: string): number {
    return this.#sessions.get(deviceId)?.size ?? 0;
  }

  /** Adds a subscribed connection of a device. */
  add(deviceId: string, sink: DeviceSink): void {
    let set = this.#byDevice.get(deviceId);
    if (!set) {
      set = new Set();
      this.#byDevice.set(deviceId, set);
    }
    set.add(sink);
  }

  /** Removes one connection; returns whether it was subscribed. */
  remove(deviceId: string, sink: DeviceSink): boolean {
    const set = this.#byDevice.get(deviceId);
    if (!set?.delete(sink)) return false;
    if (set.size === 0) this.#byDevice.delete(deviceId);
    return true;
  }

  /** Removes every connection of a device (revocation). */
  removeDevice(deviceId: string): void {
    this.#byDevice.delete(deviceId);
    this.#sessions.delete(deviceId);
  }

  /** True when at least one connection of the device is subscribed. */
  isLive(deviceId: string): boolean {
    return this.#byDevice.has(deviceId);
  }

  /** True when this connection is subscribed for the device. */
  has(deviceId: string, sink: DeviceSink): boolean {
    return this.#byDevice.get(deviceId)?.has(sink) ?? false;
  }

  /** Sends to every subscribed connection of the device. */
  send(deviceId: string, response: device.DeviceResponse): void {
    const set = this.#byDevice.get(deviceId);
    if (set) for (const sink of set) sink.send(response);
  }

  /** Number of devices with a live subscription. */
  get size(): number {
    return this.#byDevice.size;
  }
}
