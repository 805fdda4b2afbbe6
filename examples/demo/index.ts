#!/usr/bin/env node
/**
 * `npm run demo` — entry point: binds the demo to this process (argv, stdout/stderr, the
 * terminal, Ctrl+C) and turns its result into the exit code. The story itself is in demo.ts.
 * @module
 */
import { parseDemoArgs, USAGE, UsageError } from './args.js';
import { chooseRealModel, NoModelKeyError, type ModelChoice } from './model.js';

/** Exit codes (demo.ts has the same values; it is loaded only once the arguments are fine). */
const EXIT = { ok: 0, usage: 2, interrupted: 130 } as const;

const io = {
  out: (line: string) => void process.stdout.write(`${line}\n`),
  err: (line: string) => void process.stderr.write(`${line}\n`),
};

// The first Ctrl+C (or SIGTERM) cancels the wait and shuts down cleanly; a second one exits
// at once, in case shutdown itself is stuck.
const stop = new AbortController();
const onSignal = () => {
  if (stop.signal.aborted) process.exit(EXIT.interrupted);
  io.err('demo: stopping…');
  stop.abort();
};
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);

let code: number;
try {
  const options = parseDemoArgs(process.argv.slice(2), process.stdin.isTTY === true);
  if (options.help) {
    io.out(USAGE);
    code = EXIT.ok;
  } else {
    // --model: which key is set decides the provider (the value is left to the provider).
    let realModel: ModelChoice | undefined;
    if (options.realModel) {
      try {
        realModel = chooseRealModel(process.env, options.modelId);
      } catch (error) {
        if (error instanceof NoModelKeyError) throw new UsageError(error.message);
        throw error;
      }
    }
    // Loaded here, not at the top: --help and usage errors answer without loading gRPC & co.
    const { runDemo } = await import('./demo.js');
    code = await runDemo(options, {
      io,
      signal: stop.signal,
      stdin: process.stdin,
      stdout: process.stdout,
      onInterrupt: onSignal,
      ...(realModel ? { realModel } : {}),
    });
  }
} catch (error) {
  if (!(error instanceof UsageError)) throw error;
  io.err(`demo: ${error.message}`);
  io.err('Try `npm run demo -- --help`.');
  code = EXIT.usage;
}

process.off('SIGINT', onSignal);
process.off('SIGTERM', onSignal);
process.exitCode = code;
// Everything was closed, so the process should now end by itself. If a handle still keeps it
// alive, say so (that is a bug) and exit anyway rather than hang a terminal or a CI job.
setTimeout(() => {
  io.err('demo: warning: a handle was still open after shutdown; exiting anyway');
  process.exit(code);
}, 3000).unref();
