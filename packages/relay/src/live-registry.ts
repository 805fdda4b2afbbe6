/**
 * Which device connections are subscribed right now. In memory only: after a restart devices
 * reconnect and subscribe again, and whatever they missed is drained from the store.
 * @module
 */
import type { device } from '@noxy-approval/proto';

/** Where the relay writes responses for one device connection. */
export interface DeviceSink {
  /** Writes one response; must not throw (a closed connection drops it). */
  send(response: device.DeviceResponse): void;
}

/** Subscribed sinks per device id. */
export class LiveRegistry {
  readonly #byDevice = new Map<string, Set<DeviceSink>>();

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
