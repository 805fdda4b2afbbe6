/**
 * The terminal approver: what the user's "phone" does in this demo. For each decision the
 * device decrypted, it shows the request rendered BY CODE from the payload (`renderDecision`:
 * tool, canonical arguments with unsafe characters escaped, the agent's own text labelled as
 * unverified, and the action fingerprint), then answers — by asking y/n on the terminal, or by
 * itself (`--approve`, `--reject`, `--expire`; `--ask` without a terminal approves).
 *
 * It mirrors `noxy-device listen`, in-process, so the whole story prints in one terminal.
 * @module
 */
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';
import { renderDecision, type Choice, type NoxyDevice, type ReceivedDecision } from '@noxy-approval/device';
import type { AnswerMode } from './args.js';
import { describeError, safe, type DemoLog } from './log.js';

/** Options of {@link attachApprover}. */
export interface ApproverOptions {
  mode: AnswerMode;
  /** Wait before an automatic answer, ms. */
  delayMs: number;
  log: DemoLog;
  /** Where a human types (mode `ask`). */
  input?: Readable;
  /** Where the prompt goes (mode `ask`). */
  output?: Writable;
  /** Called when the human presses Ctrl+C at the prompt (readline swallows the signal). */
  onInterrupt?: () => void;
  /** Called once the request is shown, before answering it (the demo's `--tamper` hook). */
  beforeAnswer?: (decision: ReceivedDecision) => void;
}

/** A running approver. */
export interface Approver {
  /** Cancels pending prompts and timers and waits for answers already being sent. */
  close(): Promise<void>;
}

const ANSWERS: Record<string, Choice> = {
  y: 'approve',
  yes: 'approve',
  a: 'approve',
  approve: 'approve',
  n: 'reject',
  no: 'reject',
  r: 'reject',
  reject: 'reject',
};

/**
 * Listens on `device` and answers each decision as `mode` says. Attach it before
 * `device.connect()` so nothing the relay drains on subscribe is missed.
 */
export function attachApprover(device: NoxyDevice, o: ApproverOptions): Approver {
  const stop = new AbortController();
  // Per-decision cancellation: the relay soft-cancels a decision that expired or was answered
  // on another device (`routed`), and a prompt for it must go away.
  const open = new Map<string, AbortController>();
  const inFlight = new Set<Promise<void>>();
  let prompts: Promise<unknown> = Promise.resolve();
  // While the y/n prompt is on screen, the cursor sits after it: end that line before printing.
  let prompting = false;
  const endPromptLine = () => {
    if (prompting) (o.output ?? process.stdout).write('\n');
    prompting = false;
  };

  device.on('decision', (d) => {
    const cancel = new AbortController();
    open.set(d.decisionId, cancel);
    const work = handle(d, AbortSignal.any([stop.signal, cancel.signal]))
      .catch((error: unknown) => o.log.warn(`approver: ${describeError(error)}`))
      .finally(() => {
        open.delete(d.decisionId);
        inFlight.delete(work);
      });
    inFlight.add(work);
  });
  device.on('routed', ({ decisionId }) => {
    const cancel = open.get(decisionId);
    if (!cancel) return;
    endPromptLine();
    o.log.say('device', `request ${safe(decisionId)} closed by the relay (expired or answered elsewhere)`);
    cancel.abort();
  });
  device.on('error', (e) => o.log.warn(`device: ${describeError(e)}`));

  async function handle(d: ReceivedDecision, signal: AbortSignal): Promise<void> {
    o.log.say('device', `received request ${safe(d.decisionId)} and decrypted it on the device:`);
    o.log.block(renderDecision(d.payload, { decisionId: d.decisionId, now: Date.now() }));
    o.beforeAnswer?.(d);
    let choice: Choice | undefined;
    if (o.mode === 'ignore') {
      o.log.say('device', 'not answering (--expire): the request will expire');
      return;
    }
    if (o.mode === 'ask') {
      // One question on the terminal at a time, in arrival order.
      const turn = prompts.then(() => ask(signal));
      prompts = turn.catch(() => undefined);
      choice = await turn;
    } else {
      o.log.say('device', `answering "${o.mode}" by itself${o.delayMs > 0 ? ` in ${o.delayMs} ms` : ''}`);
      if (await sleep(o.delayMs, signal)) choice = o.mode;
    }
    if (!choice || signal.aborted) return;
    // From here on a soft-cancel is the echo of this very answer, not news for the human.
    open.delete(d.decisionId);
    try {
      const r = await device.decide(d.decisionId, choice);
      const note = r.outcome === r.requested ? '' : ` (another device answered first: ${r.outcome})`;
      o.log.say('device', `sent "${choice}"; the relay recorded: ${r.outcome}${note}`);
    } catch (error) {
      // e.g. the decision expired while the human was reading it.
      o.log.say('device', `could not send the answer: ${describeError(error)}`);
    }
  }

  async function ask(signal: AbortSignal): Promise<Choice | undefined> {
    const output = o.output ?? process.stdout;
    // Terminal line editing only when the prompt goes to a terminal (not `npm run demo | tee`).
    const rl = createInterface({
      input: o.input ?? process.stdin,
      output,
      terminal: (output as { isTTY?: boolean }).isTTY === true,
    });
    // In raw mode Ctrl+C reaches readline, not the process: pass it on as an interrupt.
    rl.on('SIGINT', () => {
      endPromptLine();
      o.onInterrupt?.();
    });
    try {
      for (;;) {
        prompting = true;
        const line = await rl.question('          Approve this request on this device? [y/n] ', { signal });
        prompting = false;
        const choice = ANSWERS[line.trim().toLowerCase()];
        if (choice) return choice;
        o.log.say('device', 'please type y (approve) or n (reject)');
      }
    } catch (error) {
      if (signal.aborted) return undefined;
      throw error;
    } finally {
      prompting = false;
      // Closing releases stdin, so it does not keep the process alive after the demo.
      rl.close();
    }
  }

  return {
    async close() {
      stop.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}

/** Waits `ms`; false when `signal` fired first. Leaves no timer behind. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    if (ms <= 0) return resolve(true);
    const done = (ok: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(ok);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
