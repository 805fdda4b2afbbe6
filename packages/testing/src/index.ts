/**
 * @noxy-approval/testing — private, never published: what the repository's tests and
 * benchmarks share. A relay harness with raw agent and device clients (wire-level, no retries,
 * no crypto), a scriptable Agent API test server and a silent TCP blackhole, a whole local stack
 * (relay, devices, agent client), and the one manual clock.
 *
 * It depends on every package up to the relay, so only the relay's own tests and the
 * cross-package tests in test/ may import it (no package's tests import a package above it).
 * @module
 */
export {
  AgentTestServer,
  startBlackhole,
  type Blackhole,
  type Failure,
  type MethodName,
  type OutcomeStep,
  type RecordedCall,
  type TestDevice,
  type TestServerOptions,
} from './agent-test-server.js';
export {
  startFaultProxy,
  type FaultProxy,
  type FaultProxyOptions,
  type ToxicPlan,
  type Toxics,
} from './fault-proxy.js';
export { startLocalStack, type Answer, type LocalStack, type LocalStackOptions } from './local-stack.js';
export {
  describeRun,
  runCommand,
  startCommand,
  type Command,
  type CommandOptions,
  type CommandResult,
  type RunningCommand,
} from './processes.js';
export { makeScratchCheckout, type ScratchCheckout } from './scratch-checkout.js';
export { ManualClock, type ManualClockOptions } from './manual-clock.js';
export { fakeEnvelope, RawAgent } from './raw-agent.js';
export { grpcTargetOf, RawGrpcDevice, type RawDeviceOptions } from './raw-grpc-device.js';
export { registrationMac, type MacFields } from './registration-mac.js';
export { startTestRelay, type DeviceHandle, type TestRelay } from './relay-harness.js';
export { syntheticDeviceKeys, syntheticPqPublicKey } from './synthetic-keys.js';
