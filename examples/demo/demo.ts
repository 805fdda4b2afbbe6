/**
 * The whole demo, step by step (design.md §6): relay → dev app → paired device → gated agent
 * → outcome, then a clean shutdown in reverse order. Returns an exit code instead of exiting,
 * so the entry point (index.ts) stays a thin binding to the process.
 * @module
 */
import { hostname } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import {
  actionFingerprint,
  createApprovalEngine,
  createNoxyClient,
  executeApproved,
  NoxyError,
  type AgentInfo,
  type ApprovalEngine,
  type ApprovalResult,
  type GateResult,
} from '@noxy-approval/core';
import { runAgent } from './agent.js';
import { attachApprover, type Approver } from './approver.js';
import type { DemoOptions } from './args.js';
import { createFakeBank, type FakeBank, type TransferReceipt as Receipt } from './bank.js';
import { createDevApp, pairDevice, startLocalRelay } from './local-relay.js';
import { createDemoLog, describeError, safe, type DemoIo, type DemoLog } from './log.js';
import { createScriptedModel, USER_PROMPT } from './model.js';

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
  /** Names (never values) of real-model API keys found in the environment, to say they are unused. */
  modelKeysInEnv?: readonly string[];
}

/** Exit codes of the demo. */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

/** Who asks, as shown on the device. It is part of the hashed action, so the gate reuses it. */
const AGENT: AgentInfo = { name: 'noxy-demo-agent', host: hostname() };

/** A shutdown action, run in reverse order of creation. */
type Cleanup = () => void | Promise<void>;

/**
 * Runs the demo.
 * @returns the exit code: 0 when the story completed (approved, rejected, expired or refused —
 *   each is a correct ending), 1 on a failure, 130 when interrupted
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
    const relay = await startLocalRelay(o.dataDir, log);
    cleanups.push(() => relay.close());
    checkpoint();

    log.step(2, 'Create a dev app');
    const app = createDevApp(relay, log);

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
          ...(env.stdin ? { input: env.stdin } : {}),
          ...(env.stdout ? { output: env.stdout } : {}),
          ...(env.onInterrupt ? { onInterrupt: env.onInterrupt } : {}),
        });
      },
    });
    cleanups.push(() => device.close());
    cleanups.push(() => approver?.close());
    log.say('device', describeAnswerMode(o));
    checkpoint();

    log.step(4, 'Run the agent: its model wants to call transfer_funds, which is gated on the device');
    const client = createNoxyClient({
      endpoint: relay.grpcUrl,
      authToken: app.appToken,
      decisionTtlSeconds: o.ttlSeconds,
    });
    cleanups.push(() => client.close());
    const engine = createApprovalEngine({ client, ttlSeconds: o.ttlSeconds, agent: AGENT });
    let gate: GateResult<Receipt> | undefined;

    const transferFunds = async (call: { name: string; args: Record<string, unknown> }): Promise<string> => {
      gate = await gatedTransfer(engine, call, bank, o, env.signal, log);
      if (gate.status === 'not_executed') log.say('tool', 'transfer_funds did NOT run');
      // What the model reads: core's outcome message, or the gate's refusal of changed arguments.
      log.say('gate', `the model is told: "${safe(gate.message)}"`);
      return JSON.stringify(
        gate.status === 'executed'
          ? { status: gate.status, message: gate.message, result: gate.result }
          : { status: gate.status, reason: gate.reason, message: gate.message },
      );
    };

    if (env.modelKeysInEnv?.length) {
      log.say(
        'agent',
        `note: ${env.modelKeysInEnv.join(', ')} is set, but this demo always uses its scripted model ` +
          '(offline; real models are out of scope)',
      );
    }
    const run = await runAgent(createScriptedModel(), USER_PROMPT, { transfer_funds: transferFunds }, log);

    log.step(5, 'Outcome and shutdown');
    printOutcome(log, gate, bank);
    log.say('agent', `final answer to the user: "${safe(run.finalText)}"`);
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

const fp = (hash: string | undefined) => actionFingerprint(hash) ?? '?';

/** True when `error` is the abort of a wait the demo cancelled itself (Ctrl+C). */
function isAbort(error: unknown): boolean {
  return NoxyError.isInstance(error) && error.code === 'ABORTED';
}

/**
 * `transfer_funds` behind core's gate: the request goes to every device of the identity, and
 * the transfer runs only if approved for exactly these arguments. With `--tamper` the agent
 * asks, then tries to run other arguments on the approval (core's `executeApproved` refuses).
 */
async function gatedTransfer(
  engine: ApprovalEngine,
  call: { name: string; args: Record<string, unknown> },
  bank: FakeBank,
  o: DemoOptions,
  signal: AbortSignal,
  log: DemoLog,
): Promise<GateResult<Receipt>> {
  const request = {
    tool: call.name,
    args: call.args,
    title: `Pay invoice #1042: ${String(call.args.amount)} ${String(call.args.currency)} to Bob's Bikes`,
    summary: 'The user asked me to pay this invoice. The IBAN is the one printed on the invoice.',
  };
  // Past the decision's expiry, so the wait ends as approved, rejected or expired.
  const context = { identity: o.identity, holdMs: o.ttlSeconds * 1000 + 10_000, signal };
  log.say('gate', `"${safe(call.name)}" is a risky tool: asking the user's device before running it`);
  log.say(
    'gate',
    `sending the request to every device of ${o.identity.type}:${safe(o.identity.id)}, end-to-end encrypted ` +
      '(ML-KEM-768 + AES-256-GCM), then waiting for the answer',
  );
  const started = Date.now();
  const sayOutcome = (a: ApprovalResult) =>
    log.say(
      'gate',
      `outcome: ${a.outcome} after ${((Date.now() - started) / 1000).toFixed(1)} s ` +
        `(decision ${safe(a.decisionId)}, fingerprint ${fp(a.actionHash)})`,
    );
  const transfer = (approval: ApprovalResult) => (args: Record<string, unknown>) => {
    log.say(
      'gate',
      `binding check: computeActionHash(arguments about to run) = approved action_hash ${fp(approval.actionHash)} ✓ ` +
        '(any other argument would differ)',
    );
    const receipt = bank.transferFunds(args);
    log.say('tool', `transfer_funds RAN: ${safe(JSON.stringify(receipt))}`);
    return receipt;
  };

  // runGated(engine, request, action, context) does both steps at once; the demo takes them one
  // by one to print the outcome in between, and to let --tamper change the arguments after it.
  const approval = await engine.request(request, context);
  sayOutcome(approval);
  const args = o.tamper ? tamperAmount(log)(call.args) : call.args;
  const result = await executeApproved(engine, approval, { tool: call.name, args }, transfer(approval));
  if (result.status === 'not_executed' && result.reason === 'action_mismatch') {
    log.say(
      'gate',
      `binding check FAILED: the action about to run hashes to ${fp(result.attemptedActionHash)}, ` +
        `the approval is for ${fp(result.approval.actionHash)}`,
    );
    log.say('gate', 'refusing to run it: an approval covers exactly the arguments the user saw');
  }
  return result;
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
      return `this device will show the request and never answer (--auto ignore): it expires after ${o.ttlSeconds} s`;
    default:
      return o.answerReason === 'no-tty'
        ? `stdin is not a terminal, so this device answers "${o.answer}" by itself${after} ` +
            '(use --auto reject to say no)'
        : `this device answers "${o.answer}" by itself${after} (--auto ${o.answer})`;
  }
}

/** `--tamper`: the agent multiplies the amount by 10 after the approval (what the gate must catch). */
function tamperAmount(log: DemoLog): (args: Record<string, unknown>) => Record<string, unknown> {
  return (args) => {
    const changed = { ...args, amount: typeof args.amount === 'number' ? args.amount * 10 : args.amount };
    log.say(
      'agent',
      `(--tamper) tries to run it with amount ${String(changed.amount)} instead of the approved ${String(args.amount)}`,
    );
    return changed;
  };
}

function printOutcome(log: DemoLog, gate: GateResult<Receipt> | undefined, bank: FakeBank): void {
  const ran = bank.transfers.length;
  if (!gate) {
    log.say('demo', 'Outcome: the model did not call transfer_funds');
  } else if (gate.status === 'executed') {
    const t = bank.transfers[0]!;
    log.say(
      'demo',
      'Outcome: APPROVED on the device; transfer_funds ran once with exactly the approved arguments ' +
        `(${t.transfer_id}: ${t.amount} ${t.currency} to ${safe(t.to)})`,
    );
  } else {
    const why = {
      rejected: 'REJECTED on the device',
      expired: 'EXPIRED: nobody answered before the deadline',
      pending: 'PENDING: no answer yet',
      action_mismatch: 'REFUSED: approved, but the agent tried to run different arguments than the ones approved',
      already_executed: 'REFUSED: this approval was already used',
    }[gate.reason];
    log.say('demo', `Outcome: ${why}; transfer_funds did NOT run`);
  }
  log.say('demo', `Transfers executed: ${ran}`);
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
