/**
 * The whole demo, step by step: relay → dev app → paired device → AI SDK agent
 * whose `transfer_funds` is gated with `withApproval` → outcome, then a clean shutdown in
 * reverse order. Returns an exit code instead of exiting, so index.ts stays a thin binding.
 * @module
 */
import { hostname } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { createNoxyClient, NoxyError, type AgentInfo } from '@noxy-approval/core';
import { runAgent, type AgentRun } from './agent.js';
import { attachApprover, type Approver } from './approver.js';
import type { DemoOptions } from './args.js';
import { createFakeBank, type FakeBank, type TransferArgs } from './bank.js';
import { createDevApp, pairDevice, pairWebPage, startLocalRelay } from './local-relay.js';
import { createDemoLog, describeError, safe, type DemoIo, type DemoLog } from './log.js';
import { createScriptedModel, loadRealModel, type ModelChoice } from './model.js';

/** What the demo runs against: output, the terminal, and the stop signal (Ctrl+C). */
export interface DemoEnv {
  io: DemoIo;
  /** Aborted to stop the demo early; whatever is waiting is cancelled and nothing runs. */
  signal: AbortSignal;
  /** The terminal a human answers on (`ask` mode). */
  stdin?: Readable;
  stdout?: Writable;
  /** Asks the demo to stop (Ctrl+C typed at the y/n prompt). */
  onInterrupt?: () => void;
  /** With `--model`: the real model chosen from the environment (index.ts checked the keys). */
  realModel?: ModelChoice;
}

/** Exit codes of the demo. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Who asks, as shown on the device. It is part of the hashed action. */
const AGENT: AgentInfo = { name: 'noxy-demo-agent', host: hostname() };

/** A shutdown action, run in reverse order of creation. */
type Cleanup = () => void | Promise<void>;

/**
 * Runs the demo.
 * @returns the exit code: 0 when the story ended as it should (with an automatic answer: the
 *   outcome that answer must give), 1 on a failure or a wrong ending, 130 when interrupted
 */
export async function runDemo(o: DemoOptions, env: DemoEnv): Promise<number> {
  const log = createDemoLog(env.io);
  const cleanups: Cleanup[] = [];
  // Created first, so that even an interrupted or failed run can say whether money moved.
  const bank = createFakeBank();
  const checkpoint = () => {
    if (env.signal.aborted) throw new NoxyError('ABORTED', 'interrupted');
  };
  try {
    log.step(1, 'Start the local Noxy relay (in this process, offline)');
    const relay = await startLocalRelay(o.dataDir, log, o.web);
    cleanups.push(() => relay.close());
    checkpoint();

    log.step(2, 'Create a dev app');
    const app = createDevApp(relay, log);

    // --tamper: the SDK's input object of the call, changed while the approval is pending.
    let callInput: TransferArgs | undefined;
    const tamper = () => {
      if (!o.tamper || !callInput) return;
      const before = callInput.amount;
      callInput.amount = before * 10;
      log.say('agent', `(--tamper) changes the call's amount to ${callInput.amount} while the approval is pending`);
    };

    if (o.web) {
      log.step(3, "Pair a device: the relay's web page, in your browser, plays the user's phone");
      await pairWebPage({ relay, appId: app.appId, identity: o.identity, log }, env.signal);
    } else {
      log.step(3, "Pair a device: the terminal approver plays the user's phone");
      let approver: Approver | undefined;
      const device = await pairDevice({
        relay,
        appId: app.appId,
        identity: o.identity,
        transport: o.transport,
        log,
        beforeConnect: (d) => {
          approver = attachApprover(d, {
            mode: o.answer,
            delayMs: o.delayMs,
            log,
            beforeAnswer: tamper,
            ...(env.stdin ? { input: env.stdin } : {}),
            ...(env.stdout ? { output: env.stdout } : {}),
            ...(env.onInterrupt ? { onInterrupt: env.onInterrupt } : {}),
          });
        },
      });
      cleanups.push(() => device.close());
      cleanups.push(() => approver?.close());
      log.say('device', describeAnswerMode(o));
    }
    checkpoint();

    log.step(4, 'Run the AI SDK agent: its model wants to call transfer_funds, gated on the device');
    const client = createNoxyClient({
      endpoint: relay.grpcUrl,
      authToken: app.appToken,
      decisionTtlSeconds: o.ttlSeconds,
    });
    cleanups.push(() => client.close());
    const model = env.realModel ? await loadRealModel(env.realModel) : createScriptedModel();
    const run = await runAgent({
      model,
      client,
      identity: o.identity,
      ttlSeconds: o.ttlSeconds,
      agent: AGENT,
      bank,
      log,
      signal: env.signal,
      onCall: (input) => {
        callInput = input;
      },
    });

    log.step(5, 'Outcome and shutdown');
    printOutcome(log, run, bank, o);
    log.say('agent', `final answer to the user: "${safe(run.finalText)}"`);
    const problem = checkEnding(o, run, bank);
    if (problem) {
      log.warn(`the story did not end as it should: ${problem}`);
      return EXIT.failed;
    }
    return EXIT.ok;
  } catch (error) {
    if (isAbort(error) || env.signal.aborted) {
      log.warn(`interrupted; ${executedSoFar(bank)}`);
      return EXIT.interrupted;
    }
    log.warn(`failed: ${describeError(error)}`);
    log.warn(executedSoFar(bank));
    return EXIT.failed;
  } finally {
    await shutdown(cleanups, log);
  }
}

/** True when `error` is the abort of a wait the demo cancelled itself (Ctrl+C). */
function isAbort(error: unknown): boolean {
  return (
    (NoxyError.isInstance(error) && error.code === 'ABORTED') || (error instanceof Error && error.name === 'AbortError')
  );
}

/**
 * With an automatic answer the ending is known in advance; anything else is a bug worth exit 1
 * (`npm run examples` relies on it). A person (--ask, --web) may answer either way.
 * @returns what went wrong, or undefined
 */
function checkEnding(o: DemoOptions, run: AgentRun, bank: FakeBank): string | undefined {
  if (run.outcomes.includes('error')) return 'the approval request failed';
  if (run.outcomes.length === 0) return 'the model did not call transfer_funds';
  if (o.web || o.answer === 'ask') return undefined;
  const want = { approve: 'approved', reject: 'rejected', ignore: 'expired' }[o.answer];
  if (run.outcomes[0] !== want) return `expected "${want}", got "${run.outcomes[0]}"`;
  const ran = bank.transfers.length;
  if (want === 'approved' && (ran !== 1 || bank.transfers[0]!.amount !== 250)) {
    return `expected one transfer of the approved 250, got ${JSON.stringify(bank.transfers)}`;
  }
  if (want !== 'approved' && ran !== 0) return `expected no transfer, got ${ran}`;
  return undefined;
}

/** Whether money moved before an early end (the gate fails closed: an error is never an approval). */
function executedSoFar(bank: FakeBank): string {
  const n = bank.transfers.length;
  return n === 0 ? 'nothing was executed' : `${n} transfer(s) had already run`;
}

function describeAnswerMode(o: DemoOptions): string {
  const after = o.delayMs > 0 ? ` after ${o.delayMs} ms` : '';
  switch (o.answer) {
    case 'ask':
      return 'requests will be shown here; you answer y/n on this terminal';
    case 'ignore':
      return `this device will show the request and never answer (--expire): it expires after ${o.ttlSeconds} s`;
    default:
      return o.answerReason === 'no-tty'
        ? `stdin is not a terminal, so this device answers "${o.answer}" by itself${after} (--ask needs a terminal)`
        : `this device answers "${o.answer}" by itself${after} (${o.answerReason === 'flag' ? '--' : 'default: --'}` +
            `${o.answer}; --ask to answer yourself, --web for the web page)`;
  }
}

function printOutcome(log: DemoLog, run: AgentRun, bank: FakeBank, o: DemoOptions): void {
  const outcome = run.outcomes[0];
  if (outcome === undefined) {
    log.say('demo', 'Outcome: the model did not call transfer_funds');
  } else if (outcome === 'approved' && bank.transfers.length > 0) {
    const t = bank.transfers[0]!;
    const note = o.tamper ? ' — not the amount the agent wrote after the request was sent' : '';
    log.say(
      'demo',
      'Outcome: APPROVED on the device; transfer_funds ran once with exactly the approved arguments ' +
        `(${t.transfer_id}: ${t.amount} ${t.currency} to ${safe(t.to)})${note}`,
    );
  } else {
    const why = {
      approved: 'APPROVED, but the tool did not complete',
      rejected: 'REJECTED on the device',
      expired: 'EXPIRED: nobody answered before the deadline',
      pending: 'PENDING: no answer yet',
      action_mismatch: 'REFUSED: the call did not match the approved one',
      already_executed: 'REFUSED: this approval was already used',
      unverified_approval: 'REFUSED: the approval is not signed by your device',
      error: 'FAILED: the approval request could not be made',
    }[outcome];
    log.say('demo', `Outcome: ${why}; transfer_funds did NOT run`);
  }
  log.say('demo', `Transfers executed: ${bank.transfers.length}`);
}

/** Closes everything in reverse order; one failure does not stop the others. */
async function shutdown(cleanups: Cleanup[], log: DemoLog): Promise<void> {
  let failed = false;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      failed = true;
      log.warn(`shutdown: ${describeError(error)}`);
    }
  }
  if (cleanups.length > 0)
    log.say(
      'demo',
      failed ? 'shut down (with the warnings above)' : 'shut down cleanly: approver, device, client and relay closed',
    );
}
