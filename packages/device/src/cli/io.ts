/**
 * The CLI's view of the outside world, injectable so `runCli` can be tested in-process:
 * output lines, input lines, environment and a stop signal. Only the bin wrapper (cli.ts)
 * binds these to `process`.
 * @module
 */
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { escapeText } from '../escape.js';

/** What `runCli` talks to. */
export interface CliIo {
  /** One line of machine-readable output (decisions, outcomes). */
  out(line: string): void;
  /** One line of diagnostics (prompts, connection state, errors). */
  err(line: string): void;
  /** Where answers are read from (a TTY or a pipe). */
  stdin: Readable;
  /** The environment (only the CLI reads it). */
  env: Record<string, string | undefined>;
  /** Aborted when the user asks the program to stop (SIGINT/SIGTERM). */
  signal: AbortSignal;
}

/** Lines of a stream, buffered, so answers piped before the question are not lost. */
export class LineReader {
  readonly #lines: string[] = [];
  #ended = false;
  #wake: (() => void) | undefined;
  readonly #rl;
  readonly #onEnd: (() => void) | undefined;

  /** @param onEnd called once when the input ends */
  constructor(input: Readable, onEnd?: () => void) {
    this.#onEnd = onEnd;
    this.#rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
    this.#rl.on('line', (line) => {
      this.#lines.push(line);
      this.#wake?.();
    });
    this.#rl.on('close', () => {
      this.#ended = true;
      this.#wake?.();
      this.#onEnd?.();
    });
  }

  /** The next line, `undefined` at end of input, or `'aborted'` when `signal` fires first. */
  async next(signal: AbortSignal): Promise<string | undefined | typeof ABORTED> {
    for (;;) {
      if (signal.aborted) return ABORTED;
      const line = this.#lines.shift();
      if (line !== undefined) return line;
      if (this.#ended) return undefined;
      await new Promise<void>((resolve) => {
        const done = () => {
          signal.removeEventListener('abort', done);
          this.#wake = undefined;
          resolve();
        };
        this.#wake = done;
        signal.addEventListener('abort', done, { once: true });
      });
    }
  }

  /** True when the input ended and every line was consumed. */
  get exhausted(): boolean {
    return this.#ended && this.#lines.length === 0;
  }

  /** Stops reading. */
  close(): void {
    this.#rl.close();
  }
}

/** Returned by {@link LineReader.next} when its signal fired. */
export const ABORTED = Symbol('aborted');

/** Sleeps `ms`, or less when `signal` fires; leaves no timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * One stderr line for an error. The message is escaped: relay answers and decision ids inside
 * it come from the network and must not drive the terminal.
 */
export function errorLine(error: unknown): string {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : 'ERROR';
  const message = error instanceof Error ? error.message : String(error);
  return `error ${escapeText(code)}: ${escapeText(message)}`;
}
