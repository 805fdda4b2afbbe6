/**
 * The demo's output: numbered steps and one labelled line per fact, so a reader (or a test)
 * can follow who did what. The demo talks through this interface only, which keeps every
 * module testable and makes the single rule easy to keep: nothing secret is ever passed here.
 * @module
 */
import { escapeText } from '@noxy-approval/device';

/** Where the demo writes. */
export interface DemoIo {
  /** The story (stdout). */
  out(line: string): void;
  /** Diagnostics and warnings (stderr). */
  err(line: string): void;
}

/** Who a line is about; padded so the story reads as columns. */
export type Actor = 'relay' | 'app' | 'pairing' | 'device' | 'agent' | 'model' | 'gate' | 'tool' | 'demo';

/** The printer handed to every part of the demo. */
export interface DemoLog {
  /** `Step n/N  title`. */
  step(n: number, title: string): void;
  /** One fact, labelled with its actor. */
  say(actor: Actor, text: string): void;
  /** Lines shown as they are (e.g. a rendered request), indented under the current step. */
  block(lines: readonly string[]): void;
  /** A warning or error line on stderr. */
  warn(text: string): void;
}

/** The number of numbered steps the demo prints. */
export const TOTAL_STEPS = 5;

/**
 * Creates the printer.
 * @param io the output streams
 */
export function createDemoLog(io: DemoIo): DemoLog {
  return {
    step: (n, title) => io.out(`\nStep ${n}/${TOTAL_STEPS}  ${title}`),
    say: (actor, text) => io.out(`  ${actor.padEnd(7)} ${text}`),
    block: (lines) => {
      for (const line of lines) io.out(`          ${line}`);
    },
    warn: (text) => io.err(`demo: ${text}`),
  };
}

/** Untrusted or user-given text made safe for one terminal line (no control or bidi characters). */
export function safe(text: string): string {
  return escapeText(text);
}

/** One line for an error: its code and message, escaped (messages may carry relay-chosen text). */
export function describeError(error: unknown): string {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
  const message = error instanceof Error ? error.message : String(error);
  // Node's system errors already start with their code ("ENOTDIR: not a directory, …").
  return safe(code && !message.startsWith(code) ? `${code}: ${message}` : message);
}
