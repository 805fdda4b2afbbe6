/**
 * `noxy-device listen`: connects, shows each decision with `renderDecision`, asks approve /
 * reject (or answers by itself with `--auto`), and prints parseable result lines:
 *
 *   ready device=<device id>
 *   decision <decision id>            followed by the rendered decision, indented
 *   decided <decision id> approve|reject   (the outcome the relay recorded)
 *   cancelled <decision id> decided-elsewhere
 *   failed <decision id> <error code>
 *
 * Ids are escaped like everything else shown, since an agent chooses them.
 * @module
 */
import type { ReceivedDecision } from '../decision.js';
import type { Choice, NoxyDevice } from '../device.js';
import { escapeText } from '../escape.js';
import { renderDecision } from '../render.js';
import { ABORTED, errorLine, LineReader, sleep, type CliIo } from './io.js';

/** Options of {@link listen}. */
export interface ListenOptions {
  auto?: Choice;
  delayMs: number;
  /** Stop after this many decisions were answered. */
  max?: number;
}

const ANSWERS: Record<string, Choice | 'skip'> = {
  a: 'approve',
  approve: 'approve',
  y: 'approve',
  yes: 'approve',
  r: 'reject',
  reject: 'reject',
  n: 'reject',
  no: 'reject',
  s: 'skip',
  skip: 'skip',
};

/**
 * Runs the listen loop on a connected-or-connecting device until `io.signal` aborts, `max`
 * answers were given, or (interactive) the input ends.
 * @returns the process exit code
 */
export async function listen(device: NoxyDevice, io: CliIo, options: ListenOptions): Promise<number> {
  const stop = new AbortController();
  const onStop = () => stop.abort();
  io.signal.addEventListener('abort', onStop, { once: true });
  const queue: ReceivedDecision[] = [];
  const cancelled = new Set<string>();
  let current: { id: string; abort: AbortController } | undefined;
  let answered = 0;
  let wakeQueue: (() => void) | undefined;
  const id = (s: string) => escapeText(s);

  const show = (d: ReceivedDecision) => {
    io.out(`decision ${id(d.decisionId)}`);
    for (const line of renderDecision(d.payload, { decisionId: d.decisionId })) io.out(`  ${line}`);
  };

  const answer = async (d: ReceivedDecision, choice: Choice) => {
    try {
      const r = await device.decide(d.decisionId, choice);
      io.out(`decided ${id(r.decisionId)} ${r.outcome}`);
      if (r.outcome !== r.requested)
        io.err(
          `note: ${id(r.decisionId)} was already ${r.outcome === 'approve' ? 'approved' : 'rejected'} ` +
            'on another device',
        );
    } catch (error) {
      io.out(`failed ${id(d.decisionId)} ${id((error as { code?: string }).code ?? 'ERROR')}`);
      io.err(errorLine(error));
    }
    answered++;
    if (options.max !== undefined && answered >= options.max) stop.abort();
  };

  device.on('decision', (d) => {
    if (options.auto) {
      show(d);
      const auto = options.auto;
      void sleep(options.delayMs, stop.signal).then(() => {
        if (stop.signal.aborted || cancelled.has(d.decisionId)) return;
        return answer(d, auto);
      });
      return;
    }
    queue.push(d);
    wakeQueue?.();
  });
  device.on('routed', ({ decisionId }) => {
    cancelled.add(decisionId);
    io.out(`cancelled ${id(decisionId)} decided-elsewhere`);
    if (current?.id === decisionId) current.abort.abort();
  });
  device.on('state', (s) => {
    if (s.state === 'ready') io.out(`ready device=${id(device.deviceId ?? '')}`);
    else if (s.state === 'waiting') io.err(`relay unreachable; reconnecting in ${s.delayMs} ms`);
  });
  device.on('error', (e) => io.err(errorLine(e)));

  try {
    await device.connect();
  } catch (error) {
    io.signal.removeEventListener('abort', onStop);
    io.err(errorLine(error));
    return 1;
  }

  if (options.auto) {
    await new Promise<void>((resolve) =>
      stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  } else {
    const reader = new LineReader(io.stdin, () => wakeQueue?.());
    try {
      await interactive(reader);
    } finally {
      reader.close();
    }
  }
  io.signal.removeEventListener('abort', onStop);
  device.close();
  return 0;

  async function interactive(reader: LineReader): Promise<void> {
    while (!stop.signal.aborted) {
      const d = queue.shift();
      if (!d) {
        await new Promise<void>((resolve) => {
          const done = () => {
            stop.signal.removeEventListener('abort', done);
            wakeQueue = undefined;
            resolve();
          };
          wakeQueue = done;
          stop.signal.addEventListener('abort', done, { once: true });
        });
        // Nobody can answer once the input has ended (and every typed answer was used).
        if (reader.exhausted && queue.length === 0) {
          io.err('input closed: no more answers');
          stop.abort();
        }
        continue;
      }
      if (cancelled.has(d.decisionId)) continue;
      show(d);
      const abort = new AbortController();
      const onAbort = () => abort.abort();
      stop.signal.addEventListener('abort', onAbort, { once: true });
      current = { id: d.decisionId, abort };
      let choice: Choice | 'skip' | undefined;
      while (choice === undefined) {
        io.err(`Answer ${id(d.decisionId)}: [a]pprove / [r]eject / [s]kip?`);
        const line = await reader.next(abort.signal);
        if (line === ABORTED) break;
        if (line === undefined) {
          io.err('input closed: no more answers');
          stop.abort();
          break;
        }
        choice = ANSWERS[line.trim().toLowerCase()];
        if (choice === undefined) io.err('please type a (approve), r (reject) or s (skip)');
      }
      current = undefined;
      stop.signal.removeEventListener('abort', onAbort);
      if (choice === 'approve' || choice === 'reject') await answer(d, choice);
      else if (choice === 'skip') io.err(`skipped ${id(d.decisionId)}`);
    }
  }
}
