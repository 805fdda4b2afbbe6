/**
 * A scripted in-memory transport for unit tests of the device's framing and state machine.
 * Not a relay: each test decides what the "relay" answers.
 */
import { NoxyError } from '@noxy-approval/core/portable';
import type { Transport, TransportHandlers } from '../transport.js';
import type { ResponsePayload, WireRequest, WireResponse } from '../wire.js';

export interface FakeConnection {
  handlers: TransportHandlers;
  sent: WireRequest[];
  closed: boolean;
  /** Sends a response to the device. */
  push(response: Partial<WireResponse> & { payload?: ResponsePayload }): void;
  /** Answers the request at `index` of `sent` with `payload`. */
  answer(index: number, payload: ResponsePayload): void;
  /** Simulates the relay dropping the connection. */
  drop(): void;
}

export interface FakeTransport {
  transport: Transport;
  connections: FakeConnection[];
  /** When set, the next connection attempts fail with RELAY_UNAVAILABLE. */
  refuse: boolean;
  /** Auto-answers for the handshake (authenticate, register, subscribe) when set. */
  autoHandshake?: { requiresRegistration: boolean; deviceId: string };
  attempts: number;
}

let session = 0;

export function createFakeTransport(): FakeTransport {
  const fake: FakeTransport = {
    connections: [],
    refuse: false,
    attempts: 0,
    transport: async (handlers) => {
      fake.attempts++;
      if (fake.refuse) throw new NoxyError('RELAY_UNAVAILABLE', 'refused (fake)', { retryable: true });
      const conn: FakeConnection = {
        handlers,
        sent: [],
        closed: false,
        push(response) {
          handlers.onResponse({ requestId: '', status: 'OK', timestamp: Date.now(), ...response });
        },
        answer(index, payload) {
          const req = conn.sent[index];
          if (!req) throw new Error(`no request #${index}`);
          conn.push({ requestId: req.requestId, payload });
        },
        drop() {
          conn.closed = true;
          handlers.onClose(new NoxyError('RELAY_UNAVAILABLE', 'dropped (fake)', { retryable: true }));
        },
      };
      fake.connections.push(conn);
      return {
        send(request) {
          if (conn.closed) throw new NoxyError('RELAY_UNAVAILABLE', 'closed (fake)');
          conn.sent.push(request);
          const auto = fake.autoHandshake;
          if (!auto) return;
          // Answer asynchronously, like a real relay.
          queueMicrotask(() => {
            if (conn.closed) return;
            const p = request.payload;
            if (p.kind === 'authenticate') {
              conn.push({
                requestId: request.requestId,
                payload: auto.requiresRegistration
                  ? { kind: 'authenticate', requiresRegistration: true }
                  : {
                      kind: 'authenticate',
                      requiresRegistration: false,
                      deviceId: auto.deviceId,
                      sessionId: `s${++session}`,
                    },
              });
            } else if (p.kind === 'registerDevice') {
              conn.push({
                requestId: request.requestId,
                payload: {
                  kind: 'registerDevice',
                  deviceId: auto.deviceId,
                  registeredAt: 1,
                  sessionId: `s${++session}`,
                },
              });
            } else if (p.kind === 'subscribeDecisions') {
              conn.push({ requestId: request.requestId, payload: { kind: 'subscribeDecisions', subscribed: true } });
            } else if (p.kind === 'decisionAck') {
              conn.push({ requestId: request.requestId, payload: { kind: 'decisionAck', decisionId: p.decisionId } });
            } else if (p.kind === 'decisionOutcome') {
              conn.push({
                requestId: request.requestId,
                payload: { kind: 'decisionOutcome', decisionId: p.decisionId, outcome: p.outcome },
              });
            }
          });
        },
        close() {
          conn.closed = true;
        },
      };
    },
  };
  return fake;
}
