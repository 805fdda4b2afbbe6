/**
 * Command line of the demo (`node:util` parseArgs). Pure: it receives argv and whether stdin
 * is a terminal, so the rules (e.g. "no TTY → answer by itself") can be read in one place.
 * @module
 */
import { parseArgs } from 'node:util';
import { NoxyError, parseIdentity, type Identity } from '@noxy-approval/core';

/** How the paired terminal approver answers. */
export type AnswerMode = 'ask' | 'approve' | 'reject' | 'ignore';

/** Everything the demo can be told. */
export interface DemoOptions {
  /** `ask` = show the request and read y/n from the terminal; otherwise answer by itself. */
  answer: AnswerMode;
  /** Why `answer` is what it is (printed once, so an automatic answer is never a surprise). */
  answerReason: 'flag' | 'no-tty' | 'tty';
  /** With an automatic answer: wait this long first, ms. */
  delayMs: number;
  /** How the device talks to the relay. */
  transport: 'grpc' | 'websocket';
  /** Who is asked: the identity the device is paired for (checked by core's `parseIdentity`). */
  identity: Identity;
  /** Lifetime of the approval request, seconds. */
  ttlSeconds: number;
  /** Relay data folder; `:memory:` keeps nothing on disk. */
  dataDir: string;
  /** Simulate an agent that changes the arguments after approval (the gate must refuse). */
  tamper: boolean;
  help: boolean;
}

/** A bad command line: exit code 2 and the usage hint. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The help text. */
export const USAGE = `npm run demo -- [options]      (or: node --import tsx examples/demo/index.ts [options])

An agent's scripted model wants to call transfer_funds; the call is gated on your "device"
(a terminal approver paired with a local Noxy relay). Everything runs offline, in this process.

Options:
  --auto approve|reject|ignore  answer by itself instead of asking on the terminal
                                (ignore = never answer: the request expires after --ttl)
  --reject                      shortcut for --auto reject
  --delay MS                    with an automatic answer, wait this long first (default 1500)
  --transport grpc|websocket    how the device connects to the relay (default grpc)
  --identity ID                 who approves (default alice@example.com)
  --ttl SECONDS                 lifetime of the approval request (default 120)
  --data-dir DIR                keep the relay's SQLite store in DIR (default: in memory)
  --tamper                      the agent changes the amount after approval: the gate refuses
  -h, --help                    this text

Without --auto, the request is shown and you answer y/n; when stdin is not a terminal the
demo answers "approve" by itself after --delay.`;

const OPTIONS = {
  auto: { type: 'string' },
  reject: { type: 'boolean' },
  delay: { type: 'string' },
  transport: { type: 'string' },
  identity: { type: 'string' },
  ttl: { type: 'string' },
  'data-dir': { type: 'string' },
  tamper: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Default wait before an automatic answer: long enough to read the request on screen. */
export const DEFAULT_DELAY_MS = 1500;
/** Default lifetime of the approval request: time for a human to read and answer. */
export const DEFAULT_TTL_SECONDS = 120;

function wholeNumber(value: string, flag: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${flag} expects a whole number ${min}..${max}, got "${value.slice(0, 20)}"`);
  }
  return Number(value);
}

/**
 * Parses the demo's arguments (without `node` and the script path).
 * @param stdinIsTty whether a human can type answers; without one the demo answers by itself
 * @throws UsageError for unknown flags, bad values or contradictory flags
 */
export function parseDemoArgs(argv: string[], stdinIsTty: boolean): DemoOptions {
  let values: ReturnType<
    typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: false; strict: true }>
  >['values'];
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: false, strict: true }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  let answer: AnswerMode | undefined;
  if (values.auto !== undefined) {
    if (values.auto !== 'approve' && values.auto !== 'reject' && values.auto !== 'ignore') {
      throw new UsageError('--auto must be approve, reject or ignore');
    }
    answer = values.auto;
  }
  if (values.reject) {
    if (answer !== undefined && answer !== 'reject') throw new UsageError(`--reject contradicts --auto ${answer}`);
    answer = 'reject';
  }
  const answerReason = answer !== undefined ? 'flag' : stdinIsTty ? 'tty' : 'no-tty';
  // Nobody can type an answer without a terminal (CI, pipes): approve by itself rather than hang.
  answer ??= stdinIsTty ? 'ask' : 'approve';

  const transport = values.transport ?? 'grpc';
  if (transport !== 'grpc' && transport !== 'websocket') throw new UsageError('--transport must be grpc or websocket');
  let identity: Identity;
  try {
    identity = parseIdentity(values.identity ?? 'alice@example.com', 'identity');
  } catch (error) {
    // Same checks the relay and the client make, but reported before anything starts.
    if (NoxyError.isInstance(error)) throw new UsageError(`--identity: ${error.message}`);
    throw error;
  }
  const dataDir = values['data-dir'] ?? ':memory:';
  if (dataDir === '') throw new UsageError('--data-dir must not be empty');

  return {
    answer,
    answerReason,
    delayMs: values.delay === undefined ? DEFAULT_DELAY_MS : wholeNumber(values.delay, 'delay', 0, 600_000),
    transport,
    identity,
    // At least 2 s: the relay sweeps expiries every second and the client adds a grace period.
    ttlSeconds: values.ttl === undefined ? DEFAULT_TTL_SECONDS : wholeNumber(values.ttl, 'ttl', 2, 3600),
    dataDir,
    tamper: values.tamper ?? false,
    help: values.help ?? false,
  };
}
