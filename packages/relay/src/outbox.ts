/**
 * What one device connection may cost the relay in memory, and the byte accounting that keeps
 * it there. The one owner of the limits shared by the gRPC stream (device-grpc.ts), the
 * WebSocket gateway (ws-gateway.ts), the paged re-send on subscribe (device-session.ts) and the
 * per-device session cap (live-registry.ts).
 *
 * A device that stops reading its connection (a stalled phone, or an attacker holding a
 * device's keys) would otherwise make the relay buffer every decision routed to it: 600 queued
 * 512 KiB decisions cost 300 MB per connection. Instead every byte handed to a transport is
 * counted until the transport reports it written; a connection that would go over
 * {@link MAX_BUFFERED_BYTES} is closed. Nothing is lost by closing it: deliveries are stored,
 * a device reconnects and runs its session again (docs/protocol.md §5.11), and its subscribe
 * re-sends what is still open.
 * @module
 */
import type { device } from '@noxy-approval/proto';

/** Most bytes written to one connection and not yet sent; one more closes the connection. */
export const MAX_BUFFERED_BYTES = 16 << 20;
/** The paged re-send on subscribe sends its next page only below this backlog. */
export const DRAIN_LOW_WATER_BYTES = 4 << 20;
/** Rows read per page of the re-send (each up to `maxCiphertextBytes`, 4 MiB at most). */
export const DRAIN_PAGE_ROWS = 8;
/** A page of the re-send stops once its events reach this many bytes. */
export const DRAIN_PAGE_BYTES = 4 << 20;
/**
 * Most concurrent authenticated sessions of one device (a phone, its web page in two tabs,
 * a reconnect whose old connection is not yet known to be dead). A new session past the cap
 * closes the device's oldest one, so a phone that reconnects is never locked out by its own
 * half-open connections, while one device's keys cannot open unbounded connections.
 */
export const MAX_SESSIONS_PER_DEVICE = 4;

// Framing, ids and timestamps of one DeviceResponse around its byte fields.
const RESPONSE_OVERHEAD_BYTES = 256;

/**
 * Bytes one response costs on the wire, from its byte fields (the envelope of a decision event
 * dominates) plus a fixed overhead; cheap enough to run on every write, unlike re-encoding.
 * @param response a response about to be written
 */
export function responseBytes(response: device.DeviceResponse): number {
  const p = response.payload;
  if (p?.$case === 'decisionEvent') {
    const e = p.value;
    // base64 on the WebSocket makes it 4/3 of this; the WS gateway counts its JSON exactly.
    return RESPONSE_OVERHEAD_BYTES + e.kyberCt.length + e.nonce.length + e.ciphertext.length;
  }
  if (p?.$case === 'error') return RESPONSE_OVERHEAD_BYTES + p.value.message.length;
  return RESPONSE_OVERHEAD_BYTES;
}

/**
 * Counts the bytes of one connection from the write to the transport's "written" callback.
 * Not thread-safe by design: the relay is one event loop.
 */
export class Outbox {
  readonly #limit: number;
  readonly #lowWater: number;
  #pending = 0;
  #waiters: Array<() => void> = [];

  /**
   * @param limit the backlog that closes the connection
   * @param lowWater the backlog under which {@link whenLow} callbacks run
   */
  constructor(limit = MAX_BUFFERED_BYTES, lowWater = DRAIN_LOW_WATER_BYTES) {
    this.#limit = limit;
    this.#lowWater = lowWater;
  }

  /** Bytes written and not yet reported sent. */
  get pending(): number {
    return this.#pending;
  }

  /** True while the backlog is under the low-water mark. */
  get low(): boolean {
    return this.#pending < this.#lowWater;
  }

  /**
   * Counts `bytes` about to be written.
   * @returns false when they would take the backlog over the limit: do not write, close
   */
  reserve(bytes: number): boolean {
    if (this.#pending + bytes > this.#limit) return false;
    this.#pending += bytes;
    return true;
  }

  /** The transport wrote `bytes` (or dropped them on close). */
  release(bytes: number): void {
    this.#pending = Math.max(0, this.#pending - bytes);
    if (this.low && this.#waiters.length > 0) {
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const w of waiters) w();
    }
  }

  /** Runs `fn` once the backlog is under the low-water mark (at once if it is). */
  whenLow(fn: () => void): void {
    if (this.low) fn();
    else this.#waiters.push(fn);
  }

  /** The connection closed: pending callbacks never run. */
  clear(): void {
    this.#waiters = [];
  }
}
