/**
 * `npm run demo` end to end: the demo is spawned as its own process, exactly as a user runs it
 * (`node --import tsx examples/demo/index.ts …`), with stdin not a terminal. Each run starts a
 * real relay, pairs a real device and runs an AI SDK agent (generateText, scripted
 * MockLanguageModelV3) whose transfer_funds is gated with withApproval; the assertions read the
 * story it prints and the exit code, and require that the process ends by itself. The real-model
 * path is tested only up to its refusal and key selection (no network to model APIs here).
 */
import { type CommandResult, runCommand } from '@noxy-approval/testing';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { chooseRealModel, NoModelKeyError } from '../../examples/demo/model.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
// The demo runs from source: tsx maps the workspace packages to their TypeScript sources (as
// the relay CLI tests do), so this test checks the code under test without a build.
const env: NodeJS.ProcessEnv = {
  ...process.env,
  TSX_TSCONFIG_PATH: fileURLToPath(new URL('../../examples/demo/tsconfig.tsx-source.json', import.meta.url)),
};
/** Each run must finish well inside this; a hang fails the test instead of blocking the suite. */
const RUN_TIMEOUT_MS = 15_000;

type DemoRun = CommandResult;

function runDemo(args: string[], extraEnv: NodeJS.ProcessEnv = env): Promise<DemoRun> {
  const argv = [process.execPath, '--import', 'tsx', 'examples/demo/index.ts', ...args] as const;
  return runCommand(argv, { cwd: root, env: extraEnv, timeoutMs: RUN_TIMEOUT_MS });
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
  it('--approve: the AI SDK agent asks the device, the gated transfer runs once, the demo ends by itself', async () => {
    const run = await runDemo(['--approve']);
    expectExit(run, 0);
    const out = run.stdout;
    expect(steps(out)).toEqual(['1', '2', '3', '4', '5']);
    expect(out).toContain('app created');
    expect(out).toMatch(/paired and listening: device \S+ over grpc/);
    expect(out).toMatch(/agent +generateText with model scripted MockLanguageModelV3/);
    expect(out).toMatch(/model +calls transfer_funds\(\{"to":"DE89 3704 0044 0532 0130 00","amount":250/);
    expect(out).toContain('is gated (withApproval)');
    // The device showed the request rendered by code: tool, canonical args, labelled agent text.
    expect(out).toMatch(/Tool:\s+"transfer_funds"/);
    expect(out).toMatch(/"amount": 250\b/);
    expect(out).toContain('Agent says (unverified):');
    expect(out).toMatch(/Fingerprint:\s+[0-9a-f]{4} [0-9a-f]{4} \(matches the tool and arguments shown\)/);
    expect(out).toContain('the relay recorded: approve');
    expect(out).toMatch(/gate +outcome: approved after/);
    expect(out).toMatch(/tool +transfer_funds RAN: \{"transfer_id":"tx_0001"/);
    expect(out).toMatch(/model +says: "Done: invoice #1042 is paid \(transfer tx_0001/);
    expect(out).toContain('Outcome: APPROVED');
    expect(out).toContain('Transfers executed: 1');
    expect(out).not.toContain('did NOT run');
    // Order matters: the request is shown before the approval, the transfer runs only after it.
    expect(out.indexOf('Tool:')).toBeLessThan(out.indexOf('outcome: approved'));
    expect(out.indexOf('outcome: approved')).toBeLessThan(out.indexOf('transfer_funds RAN'));
    expect(out.indexOf('transfer_funds RAN')).toBeLessThan(out.indexOf('Outcome: APPROVED'));
    expectNoSecrets(run);
    expectCleanShutdown(run);
    expect(run.ms).toBeLessThan(RUN_TIMEOUT_MS);
  });

  it('no flag means --approve: the device answers by itself and says so', async () => {
    const run = await runDemo(['--delay', '0']);
    expectExit(run, 0);
    expect(run.stdout).toMatch(/answers "approve" by itself \(default: --approve/);
    expect(run.stdout).toContain('Transfers executed: 1');
    expectCleanShutdown(run);
  });

  it('--ask without a terminal approves by itself rather than hang, and says why', async () => {
    const run = await runDemo(['--ask', '--delay', '0']);
    expectExit(run, 0);
    expect(run.stdout).toContain('stdin is not a terminal, so this device answers "approve" by itself');
    expect(run.stdout).toContain('Transfers executed: 1');
    expectCleanShutdown(run);
  });

  it('--reject (over WebSocket): the transfer does not run and the model reads not to retry', async () => {
    const run = await runDemo(['--reject', '--delay', '0', '--transport', 'websocket']);
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
    expect(out).toMatch(/model +says: "You rejected the transfer on your device/);
    expect(out).not.toContain('transfer_funds RAN');
    expect(out).toContain('Outcome: REJECTED');
    expect(out).toContain('Transfers executed: 0');
    expectNoSecrets(run);
    expectCleanShutdown(run);
  });

  it('--expire: nobody answers, the short-lived request expires and nothing runs', async () => {
    const run = await runDemo(['--expire']);
    expectExit(run, 0);
    const out = run.stdout;
    expect(out).toContain('never answer (--expire): it expires after 3 s');
    expect(out).toMatch(/gate +outcome: expired/);
    expect(out).toMatch(/the model is told: "No answer arrived before the deadline/);
    expect(out).not.toContain('transfer_funds RAN');
    expect(out).toContain('Outcome: EXPIRED');
    expect(out).toContain('Transfers executed: 0');
    expectNoSecrets(run);
    expectCleanShutdown(run);
  });

  it('--tamper: changing the call while the approval is pending changes nothing that runs', async () => {
    const run = await runDemo(['--approve', '--delay', '0', '--tamper']);
    expectExit(run, 0);
    const out = run.stdout;
    expect(out).toContain("changes the call's amount to 2500 while the approval is pending");
    expect(out).toMatch(/gate +outcome: approved/);
    // The gate ran its private copy of exactly the approved arguments.
    expect(out).toMatch(/transfer_funds RAN: \{[^}]*"amount":250,/);
    expect(out).not.toMatch(/"amount":2500/);
    expect(out.indexOf('amount to 2500')).toBeLessThan(out.indexOf('transfer_funds RAN'));
    expect(out).toContain('Transfers executed: 1');
    expectCleanShutdown(run);
  });

  it('--model without an API key refuses clearly, naming the variables, before starting anything', async () => {
    const { OPENAI_API_KEY: _o, ANTHROPIC_API_KEY: _a, ...rest } = env;
    const run = await runDemo(['--model'], rest);
    expectExit(run, 2);
    expect(run.stderr).toContain('--model needs a real model API key');
    expect(run.stderr).toContain('OPENAI_API_KEY');
    expect(run.stderr).toContain('ANTHROPIC_API_KEY');
    expect(run.stdout).not.toContain('Step 1/5');
  });

  it('refuses a bad command line with exit code 2 before starting anything', async () => {
    const run = await runDemo(['--approve', '--reject']);
    expectExit(run, 2);
    expect(run.stderr).toContain('choose one of --approve, --reject, --expire, --ask, --web');
    expect(run.stdout).not.toContain('Step 1/5');
  });
});

describe('demo --model: choosing the real model from the environment', () => {
  it('takes OpenAI first, then Anthropic, with a default model per provider; --model-id overrides', () => {
    expect(chooseRealModel({ OPENAI_API_KEY: 'sk-test', ANTHROPIC_API_KEY: 'sk-ant-test' })).toEqual({
      provider: 'openai',
      variable: 'OPENAI_API_KEY',
      modelId: 'gpt-4o-mini',
    });
    expect(chooseRealModel({ ANTHROPIC_API_KEY: 'sk-ant-test' })).toEqual({
      provider: 'anthropic',
      variable: 'ANTHROPIC_API_KEY',
      modelId: 'claude-haiku-4-5',
    });
    expect(chooseRealModel({ ANTHROPIC_API_KEY: 'x' }, 'claude-sonnet-4-5').modelId).toBe('claude-sonnet-4-5');
  });

  it('treats empty keys as unset and never puts a key value in the message', () => {
    expect(() => chooseRealModel({ OPENAI_API_KEY: '  ', ANTHROPIC_API_KEY: '' })).toThrow(NoModelKeyError);
    const choice = chooseRealModel({ OPENAI_API_KEY: 'sk-secret-value' });
    expect(JSON.stringify(choice)).not.toContain('sk-secret-value');
  });
});
