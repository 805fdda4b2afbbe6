/**
 * examples/langchain-agent end to end: spawned as its own process, as a user runs it. It starts
 * the local relay and an auto-approving device in-process, runs a createAgent with fakeModel()
 * through approvalMiddleware, and must print each step and exit 0 by itself.
 */
import { type CommandResult, runCommand } from '@noxy-approval/testing';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
// From source: tsx maps the workspace packages to their TypeScript sources (no build needed).
const env = {
  ...process.env,
  TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../examples/langchain-agent/tsconfig.tsx-source.json', import.meta.url)),
};
/** A hang fails the test instead of blocking the suite. */
const RUN_TIMEOUT_MS = 20_000;

function runExample(): Promise<CommandResult> {
  const argv = [process.execPath, '--import', 'tsx', 'examples/langchain-agent/index.ts'] as const;
  return runCommand(argv, { cwd: root, env, timeoutMs: RUN_TIMEOUT_MS });
}

describe('examples/langchain-agent (spawned)', { timeout: RUN_TIMEOUT_MS + 5_000 }, () => {
  it('gets the approval on the device, runs transfer_funds once, exits 0', async () => {
    const run = await runExample();
    expect(run.code, `--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`).toBe(0);
    const out = run.stdout;
    expect(out).toContain('model   calls get_balance {}');
    expect(out).toContain('model   calls transfer_funds {"to":"bob","amount":25}');
    expect(out).toMatch(/phone +shows "Run transfer_funds \(to: "bob", amount: 25\)"/);
    expect(out).toContain('transfer_funds: waiting');
    expect(out).toContain('transfer_funds: decided (approved)');
    expect(out).toContain('tool    transfer_funds → sent 25 EUR to bob (transfer tx_0001)');
    expect(out).toContain('transfers executed: 1');
    // Only the gated tool went to the phone, and it ran only after the approval.
    expect(out.match(/phone +shows/g)).toHaveLength(1);
    expect(out.indexOf('decided (approved)')).toBeLessThan(out.indexOf('transfer_funds → sent'));
    expect(out + run.stderr).not.toMatch(/noxy_at_|noxy_ss_/);
  });
});
