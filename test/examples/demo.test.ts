/**
 * `npm run demo` end to end: the demo is spawned as its own process, exactly as a user runs it
 * (`node --import tsx examples/demo/index.ts …`), with stdin not a terminal. Each run starts a
 * real relay, pairs a real device and gates a real approval; the assertions read the story it
 * prints and the exit code, and require that the process ends by itself.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The demo runs from source: tsx maps the workspace packages to their TypeScript sources (as
// the relay CLI tests do), so this test checks the code under test without a build.
const env = {
  ...process.env,
  TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../examples/demo/tsconfig.tsx-source.json', import.meta.url)),
};
/** Each run must finish well inside this; a hang fails the test instead of blocking the suite. */
const RUN_TIMEOUT_MS = 15_000;

interface DemoRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

function runDemo(args: string[]): Promise<DemoRun> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/index.ts', ...args], {
      cwd: root,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`demo did not exit within ${RUN_TIMEOUT_MS} ms\n--- stdout\n${stdout}\n--- stderr\n${stderr}`));
    }, RUN_TIMEOUT_MS);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Fails with the whole output, so a broken run explains itself. */
function expectExit(run: DemoRun, code: number): void {
  expect(run.code, `exit code (signal ${run.signal})\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`).toBe(code);
}

/** The story as numbered steps, in order. */
function steps(stdout: string): string[] {
  return [...stdout.matchAll(/^Step (\d)\/5 /gm)].map((m) => m[1]!);
}

/** No credential of the app or the pairing may be printed, on either stream. */
function expectNoSecrets(run: DemoRun): void {
  const all = run.stdout + run.stderr;
  expect(all).not.toMatch(/noxy_at_|noxy_ss_/); // app token, signing secret
  expect(all).not.toMatch(/noxy:\/\/pair|code=/); // pairing link
  expect(all).not.toMatch(/\b[A-HJKMNP-TV-Z2-9]{10}\b/); // a pairing code (10 symbols, relay alphabet)
}

/** The process ended on its own: the demo's "handle still open" safety net never fired. */
function expectCleanShutdown(run: DemoRun): void {
  expect(run.stdout).toContain('shut down cleanly');
  expect(run.stderr).not.toContain('still open after shutdown');
}

// Sequential on purpose: parallel runs compete for CPU (ML-KEM key generation, tsx) and each
// run must stay well under RUN_TIMEOUT_MS even on a busy two-core CI machine.
describe('npm run demo (spawned)', { timeout: RUN_TIMEOUT_MS + 5_000 }, () => {
  it('approve: shows the request, gets the approval, checks the binding, runs the transfer once', async () => {
    const run = await runDemo(['--auto', 'approve', '--delay', '0']);
    expectExit(run, 0);
    const out = run.stdout;
    expect(steps(out)).toEqual(['1', '2', '3', '4', '5']);
    expect(out).toContain('app created');
    expect(out).toMatch(/paired and listening: device \S+ over grpc/);
    // The device showed the request rendered by code: tool, canonical args, labelled agent text.
    // (Spacing is the device renderer's business; the facts are what matter here.)
    expect(out).toMatch(/Tool:\s+"transfer_funds"/);
    expect(out).toMatch(/"amount": 250\b/);
    expect(out).toMatch(/"currency": "EUR"/);
    expect(out).toContain('Agent says (unverified):');
    const shown = /Fingerprint:\s+([0-9a-f]{4} [0-9a-f]{4}) \(matches the tool and arguments shown\)/.exec(out);
    expect(shown).not.toBeNull();
    // Approved, and the action about to run hashes to the approved action_hash.
    expect(out).toContain('the relay recorded: approve');
    expect(out).toMatch(/gate +outcome: approved/);
    expect(out).toContain(`= approved action_hash ${shown![1]} ✓`);
    expect(out).toMatch(/tool +transfer_funds RAN: \{"transfer_id":"tx_0001"/);
    expect(out).toContain('Outcome: APPROVED');
    expect(out).toContain('Transfers executed: 1');
    expect(out).not.toContain('did NOT run');
    // Order matters: the transfer runs only after the approval, and the outcome comes last.
    expect(out.indexOf('outcome: approved')).toBeLessThan(out.indexOf('transfer_funds RAN'));
    expect(out.indexOf('transfer_funds RAN')).toBeLessThan(out.indexOf('Outcome: APPROVED'));
    expectNoSecrets(run);
    expectCleanShutdown(run);
    expect(run.ms).toBeLessThan(RUN_TIMEOUT_MS);
  });

  it('reject (over WebSocket): the transfer does not run and the model is told not to retry', async () => {
    const run = await runDemo(['--auto', 'reject', '--delay', '0', '--transport', 'websocket']);
    expectExit(run, 0);
    const out = run.stdout;
    expect(steps(out)).toEqual(['1', '2', '3', '4', '5']);
    expect(out).toMatch(/paired and listening: device \S+ over websocket/);
    expect(out).toContain('the relay recorded: reject');
    expect(out).toMatch(/gate +outcome: rejected/);
    expect(out).toContain('transfer_funds did NOT run');
    expect(out).toMatch(
      /the model is told: "The user rejected "transfer_funds" on their device\. Do not perform it, do not retry it/,
    );
    expect(out).not.toContain('transfer_funds RAN');
    expect(out).not.toContain('binding check');
    expect(out).toContain('Outcome: REJECTED');
    expect(out).toContain('Transfers executed: 0');
    expectNoSecrets(run);
    expectCleanShutdown(run);
  });

  it('--tamper: an approval does not cover changed arguments; the gate refuses', async () => {
    const run = await runDemo(['--auto', 'approve', '--delay', '0', '--tamper']);
    expectExit(run, 0);
    const out = run.stdout;
    expect(out).toMatch(/gate +outcome: approved/);
    expect(out).toContain('amount 2500 instead of the approved 250');
    expect(out).toMatch(
      new RegExp(
        'binding check FAILED: the action about to run hashes to [0-9a-f]{4} [0-9a-f]{4}, ' +
          'the approval is for [0-9a-f]{4} [0-9a-f]{4}',
      ),
    );
    expect(out).not.toContain('transfer_funds RAN');
    expect(out).toContain('Outcome: REFUSED');
    expect(out).toContain('Transfers executed: 0');
    expectCleanShutdown(run);
  });

  it('nobody answers: the request expires and nothing runs', async () => {
    const run = await runDemo(['--auto', 'ignore', '--ttl', '2']);
    expectExit(run, 0);
    const out = run.stdout;
    expect(out).toMatch(/gate +outcome: expired/);
    expect(out).toMatch(/the model is told: "No answer arrived before the deadline/);
    expect(out).not.toContain('transfer_funds RAN');
    expect(out).toContain('Outcome: EXPIRED');
    expect(out).toContain('Transfers executed: 0');
    expectCleanShutdown(run);
  });

  it('refuses a bad command line with exit code 2 before starting anything', async () => {
    const run = await runDemo(['--auto', 'maybe']);
    expectExit(run, 2);
    expect(run.stderr).toContain('--auto must be approve, reject or ignore');
    expect(run.stdout).not.toContain('Step 1/5');
  });
});
