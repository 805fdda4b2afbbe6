/**
 * Command line of the demo (`node:util` parseArgs). Pure: it receives argv and whether stdin
 * is a terminal, so the rules (e.g. "--ask without a TTY → approve by itself") sit in one place.
 * @module
 */
import { parseArgs } from 'node:util';
import { NoxyError, parseIdentity, type Identity } from '@noxy-approval/core';

/** How the paired terminal approver answers (`ignore` = never: the request expires). */
export type AnswerMode = 'ask' | 'approve' | 'reject' | 'ignore';

/** Everything the demo can be told. */
export interface DemoOptions {
  /** `ask` = show the request and read y/n from the terminal; otherwise answer by itself. */
  answer: AnswerMode;
  /** Why `answer` is what it is (printed once, so an automatic answer is never a surprise). */
  answerReason: 'flag' | 'default' | 'no-tty';
  /** With an automatic answer: wait this long first, ms. */
  delayMs: number;
  /** How the terminal device talks to the relay. */
  transport: 'grpc' | 'websocket';
  /** The device is the relay's web page, opened by a person (the terminal device is not used). */
  web: boolean;
  /** Use a real model (OPENAI_API_KEY or ANTHROPIC_API_KEY) instead of the scripted one. */
  realModel: boolean;
  /** With `realModel`: the model id (default per provider, see model.ts). */
  modelId: string | undefined;
  /** Who is asked: the identity the device is paired for (checked by core's `parseIdentity`). */
  identity: Identity;
  /** Lifetime of the approval request, seconds. */
  ttlSeconds: number;
  /** Relay data folder; `:memory:` keeps nothing on disk. */
  dataDir: string;
  /** The agent changes the arguments while the approval is pending (the gate runs the approved ones). */
  tamper: boolean;
  help: boolean;
}

/** A bad command line: exit code 2 and the usage hint. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** The help text. */
export const USAGE = `npm run demo -- [options]      (or: node --import tsx examples/demo/index.ts [options])

An AI SDK agent (generateText) wants to call transfer_funds; the tool is gated with
withApproval on your "device", paired with a local Noxy relay. Offline, in this process.

Who answers (default --approve):
  --approve                     the terminal device approves by itself; the demo ends by itself
  --reject                      the terminal device rejects by itself
  --expire                      the device never answers: the request expires (--ttl default 3)
  --ask                         show the request and ask y/n on this terminal
  --web                         print the relay's web page pairing link and a QR code, wait for
                                a person to pair on the page and answer there
Options:
  --model                       a real model: OPENAI_API_KEY (openai) or ANTHROPIC_API_KEY
                                (anthropic) must be set; default: a scripted offline model
  --model-id ID                 with --model: the model (default gpt-4o-mini / claude-haiku-4-5)
  --tamper                      the agent changes the amount while the approval is pending:
                                the gate still runs exactly the approved arguments
  --delay MS                    wait before an automatic answer (default 1000)
  --transport grpc|websocket    how the terminal device connects (default grpc)
  --identity ID                 who approves (default alice@example.com)
  --ttl SECONDS                 lifetime of the approval request (default 120; 3 with --expire)
  --data-dir DIR                keep the relay's SQLite store in DIR (default: in memory)
  -h, --help                    this text`;

const OPTIONS = {
  approve: { type: 'boolean' },
  reject: { type: 'boolean' },
  expire: { type: 'boolean' },
  ask: { type: 'boolean' },
  web: { type: 'boolean' },
  model: { type: 'boolean' },
  'model-id': { type: 'string' },
  tamper: { type: 'boolean' },
  delay: { type: 'string' },
  transport: { type: 'string' },
  identity: { type: 'string' },
  ttl: { type: 'string' },
  'data-dir': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Default wait before an automatic answer: long enough to read the request on screen. */
export const DEFAULT_DELAY_MS = 1000;
/** Default lifetime of the approval request: time for a human to read and answer. */
export const DEFAULT_TTL_SECONDS = 120;
/** Lifetime with --expire: short, so the story ends soon. */
export const EXPIRE_TTL_SECONDS = 3;

function wholeNumber(value: string, flag: string, min: number, max: number): number {
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`--${flag} expects a whole number ${min}..${max}, got "${value.slice(0, 20)}"`);
  }
  return Number(value);
}

/**
 * Parses the demo's arguments (without `node` and the script path).
 * @param stdinIsTty whether a human can type answers (`--ask` approves by itself without one)
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
  const chosen = (['approve', 'reject', 'expire', 'ask', 'web'] as const).filter((f) => values[f]);
  if (chosen.length > 1) throw new UsageError(`choose one of --approve, --reject, --expire, --ask, --web`);
  const who = chosen[0];
  let answer: AnswerMode = 'approve';
  let answerReason: DemoOptions['answerReason'] = who ? 'flag' : 'default';
  if (who === 'reject') answer = 'reject';
  if (who === 'expire') answer = 'ignore';
  if (who === 'ask') {
    // Nobody can type an answer without a terminal (CI, pipes): approve by itself rather than hang.
    answer = stdinIsTty ? 'ask' : 'approve';
    if (!stdinIsTty) answerReason = 'no-tty';
  }
  if (values['model-id'] !== undefined && !values.model) throw new UsageError('--model-id needs --model');
  if (values.tamper && (who === 'reject' || who === 'expire')) {
    throw new UsageError('--tamper shows an approved call; it does not go with --reject or --expire');
  }

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
  const defaultTtl = who === 'expire' ? EXPIRE_TTL_SECONDS : DEFAULT_TTL_SECONDS;

  return {
    answer,
    answerReason,
    delayMs: values.delay === undefined ? DEFAULT_DELAY_MS : wholeNumber(values.delay, 'delay', 0, 600_000),
    transport,
    web: who === 'web',
    realModel: values.model ?? false,
    modelId: values['model-id'],
    identity,
    // At least 2 s: the relay sweeps expiries every second and the client adds a grace period.
    ttlSeconds: values.ttl === undefined ? defaultTtl : wholeNumber(values.ttl, 'ttl', 2, 3600),
    dataDir,
    tamper: values.tamper ?? false,
    help: values.help ?? false,
  };
}
