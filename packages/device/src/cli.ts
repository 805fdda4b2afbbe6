#!/usr/bin/env node
/**
 * The `noxy-device` executable: binds `runCli` to the process (argv, stdout, stderr, stdin,
 * environment, SIGINT/SIGTERM). The only module of this package that reads `process.env`.
 * @module
 */
import { runCli } from './cli/main.js';

const stop = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => stop.abort());

const code = await runCli(process.argv.slice(2), {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  stdin: process.stdin,
  env: process.env,
  signal: stop.signal,
});
// Let stdout drain, then exit even if a library left a handle open.
process.stdout.write('', () => process.exit(code));
