/**
 * `npm run bench`: every figure the issues ask for, each with a baseline measured in this run.
 * Select some with `npm run bench -- envelope lag`
 * (names: envelope, lag, fanout, relay, mcp, gate, langchain, ai-sdk, mcp-gate, web-page,
 * device-proof, slow-device, faults).
 * @module
 */
import { benchAiSdk } from './ai-sdk.bench.js';
import { benchDetectionLag } from './detection-lag.bench.js';
import { benchDeviceProof } from './device-proof.bench.js';
import { benchEnvelope } from './envelope.bench.js';
import { benchFanOut } from './fan-out.bench.js';
import { benchFaults } from './faults.bench.js';
import { benchGate } from './gate.bench.js';
import { benchLangchain } from './langchain.bench.js';
import { benchMcpColdStart } from './mcp-cold-start.bench.js';
import { benchMcpGate } from './mcp-gate.bench.js';
import { benchRelay } from './relay.bench.js';
import { benchSlowDevice } from './slow-device.bench.js';
import { benchWebPage } from './web-page.bench.js';

const all: Record<string, () => Promise<void>> = {
  envelope: benchEnvelope,
  lag: benchDetectionLag,
  fanout: benchFanOut,
  relay: benchRelay,
  mcp: benchMcpColdStart,
  gate: benchGate,
  langchain: benchLangchain,
  'ai-sdk': benchAiSdk,
  'mcp-gate': benchMcpGate,
  'web-page': benchWebPage,
  'slow-device': benchSlowDevice,
  'device-proof': benchDeviceProof,
  faults: benchFaults,
};

const wanted = process.argv.slice(2);
for (const [name, run] of Object.entries(all)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`# ${name}`);
  await run();
}
