/**
 * Test-only fault hooks of the Agent API (the fault suite, test/faults): a wrapper of the agent
 * service handlers that, when `startRelay({ faults })` asks for it, answers a call with
 * UNAVAILABLE or RESOURCE_EXHAUSTED (with `grpc-retry-pushback-ms`, docs/protocol.md §4.4),
 * delays it, or lets it commit and then drops the response (the case that makes duplicates when
 * a client retries without reusing its ids). Without `faults` the handlers are used as they are:
 * nothing here runs in a production relay, and the CLI has no flag for it.
 * @module
 */
import {
  Metadata,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';

/** What to do to one Agent API call. */
export type AgentFault =
  /** Refuse at once (the handler does not run) with this status and optional pushback. */
  | { kind: 'unavailable' | 'resourceExhausted'; pushbackMs?: number }
  /** Run the handler `ms` later (the deadline keeps running meanwhile). */
  | { kind: 'delay'; ms: number }
  /** Run the handler (its writes commit), then answer UNAVAILABLE instead of its response. */
  | { kind: 'dropResponse' };

/** The fault plan of a relay (test only). */
export interface RelayFaults {
  /**
   * Called once per Agent API call, before authorization.
   * @param method the handler's name, e.g. `routeDecision`, `getDecisionOutcome`
   * @param index 0-based count of earlier calls of that method
   * @returns the fault, or undefined to serve the call normally
   */
  agent(method: string, index: number): AgentFault | undefined;
}

type UnaryHandler = (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => void;

function refusal(fault: { kind: 'unavailable' | 'resourceExhausted'; pushbackMs?: number }) {
  const metadata = new Metadata();
  if (fault.pushbackMs !== undefined) metadata.set('grpc-retry-pushback-ms', String(fault.pushbackMs));
  return {
    code: fault.kind === 'unavailable' ? status.UNAVAILABLE : status.RESOURCE_EXHAUSTED,
    details: `injected fault: ${fault.kind === 'unavailable' ? 'relay unavailable' : 'rate limited'}`,
    metadata,
  };
}

/**
 * Wraps every unary handler of `impl` with the plan of `faults`.
 * @param impl an Agent (or Push) service implementation
 * @param faults the plan; undefined returns `impl` untouched
 */
export function withFaults(
  impl: UntypedServiceImplementation,
  faults: RelayFaults | undefined,
): UntypedServiceImplementation {
  if (!faults) return impl;
  const wrapped: UntypedServiceImplementation = {};
  for (const [method, handler] of Object.entries(impl)) {
    let calls = 0;
    const real = handler as UnaryHandler;
    wrapped[method] = ((call, callback) => {
      const fault = faults.agent(method, calls++);
      if (!fault) return real(call, callback);
      switch (fault.kind) {
        case 'unavailable':
        case 'resourceExhausted':
          return callback(refusal(fault));
        case 'delay': {
          const timer = setTimeout(() => real(call, callback), fault.ms);
          call.once('cancelled', () => clearTimeout(timer));
          return;
        }
        case 'dropResponse':
          return real(call, (err) =>
            callback(err ?? { code: status.UNAVAILABLE, details: 'injected fault: response dropped after commit' }),
          );
      }
    }) as UnaryHandler;
  }
  return wrapped;
}
