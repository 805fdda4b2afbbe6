/**
 * `npm run examples` (scripts/run-examples.mjs): every example runs as its own process against
 * the built packages (the global setup builds them), checks its own result, and the script
 * prints one line per example and exits 0 only when all of them ended as they should.
 */
import { type CommandResult, runCommand } from '@noxy-approval/testing';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** The whole run: five examples of a few seconds each, sequential. */
const RUN_TIMEOUT_MS = 120_000;
const EXAMPLES = ['demo', 'core-basic', 'mcp-claude-desktop', 'langchain-agent', 'ai-sdk-agent'];

function runScript(args: string[]): Promise<CommandResult> {
  return runCommand([process.execPath, 'scripts/run-examples.mjs', ...args], { cwd: root, timeoutMs: RUN_TIMEOUT_MS });
}

describe('npm run examples (spawned)', { timeout: RUN_TIMEOUT_MS + 5_000 }, () => {
  it('runs every example, one "ok" line each with its seconds, and exits 0', async () => {
    const run = await runScript([]);
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
    const lines = run.stdout.split('\n').filter((l) => /^(ok|FAILED)\s/.test(l));
    expect(lines.map((l) => l.split(/\s+/)[1])).toEqual(EXAMPLES);
    for (const line of lines) expect(line).toMatch(/^ok\s+\S.*\s\d+\.\d s$/);
    expect(run.stdout).toMatch(/^ok +demo --approve /m);
    expect(run.stdout).toContain('examples: 5/5 ok');
  });

  it('an example that does not finish in time counts as failed, with its output, and the exit is 1', async () => {
    const run = await runScript(['--timeout', '0.2', 'core-basic']);
    expect(run.code, run.stdout).toBe(1);
    expect(run.stdout).toMatch(/^FAILED +core-basic +\d+\.\d s +\(timed out after 0\.2 s\)$/m);
    expect(run.stdout).toContain('examples: 0/1 ok');
  });

  it('refuses an unknown example name with exit code 2', async () => {
    const run = await runScript(['no-such-example']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unknown example(s) no-such-example');
  });
});
