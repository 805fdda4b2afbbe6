/**
 * examples/ai-sdk-agent end to end: spawned as a user runs it (`node --import tsx …`), with a
 * real in-process relay, a paired device and AI SDK 6's generateText; the assertions read the
 * steps it prints and its exit code.
 */
import { type CommandResult, runCommand } from '@noxy-approval/testing';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** A hang fails the test instead of blocking the suite. */
const RUN_TIMEOUT_MS = 20_000;

function runExample(args: string[]): Promise<CommandResult> {
  const argv = [process.execPath, '--import', 'tsx', 'examples/ai-sdk-agent/index.ts', ...args] as const;
  return runCommand(argv, { cwd: root, timeoutMs: RUN_TIMEOUT_MS });
}

describe('examples/ai-sdk-agent (spawned)', { timeout: RUN_TIMEOUT_MS + 5_000 }, () => {
  it('approve: the device is asked, the transfer runs once after the approval, exit 0', async () => {
    const run = await runExample([]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const out = run.stdout;
    expect(out).toMatch(/device +asks the user: run transfer_funds \{"to":"DE89 3704 0044 0532 0130 00","amount":250/);
    expect(out).toMatch(/tool +transfer_funds RAN: 250 EUR/);
    expect(out).toContain('the model reads: {"transfer_id":"tx_0001"}');
    expect(out).toContain('says: "Done: invoice #1042 is paid."');
    expect(out).toContain('transfers executed: 1');
    expect(out.indexOf('asks the user')).toBeLessThan(out.indexOf('transfer_funds RAN'));
    expect(out + run.stderr).not.toMatch(/noxy_at_|noxy_ss_/);
  });

  it('--reject: the transfer never runs and the model reads the rejection', async () => {
    const run = await runExample(['--reject']);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    expect(run.stdout).not.toContain('RAN');
    expect(run.stdout).toContain('"reason":"rejected"');
    expect(run.stdout).toContain('do not retry it');
    expect(run.stdout).toContain('transfers executed: 0');
  });
});
