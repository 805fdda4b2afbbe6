/**
 * Child processes for tests that run the project's commands as a user does: `runCommand` runs
 * one to its end under a deadline, `startCommand` keeps one running (a relay, a listening
 * device) and waits for a line of its output. Both capture stdout and stderr whole, so a
 * failing assertion can print what the command said, and both kill the process group on a
 * deadline, so a hang fails the test instead of blocking the suite.
 * @module
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** Where and how a command runs. */
export interface CommandOptions {
  cwd: string;
  /** Default: this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Killed (SIGKILL, whole process group) after this long; the promise then rejects. */
  timeoutMs: number;
}

/** What a finished command left behind. */
export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** A command that keeps running until `stop`. */
export interface RunningCommand {
  readonly child: ChildProcessWithoutNullStreams;
  /** Settles when the process has exited (killed by the deadline included). */
  readonly exited: Promise<CommandResult>;
  /** Everything printed so far. */
  output(): { stdout: string; stderr: string };
  /** Resolves with the first match of `pattern` in stdout (or stderr); rejects on exit or deadline. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process has exited. */
  stop(graceMs?: number): Promise<CommandResult>;
}

/** The text a failed expectation shows: the command, its exit and its whole output. */
export function describeRun(command: Command, run: Pick<CommandResult, 'code' | 'signal' | 'stdout' | 'stderr'>) {
  return `\`${label(command)}\` exited ${run.code ?? run.signal}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}`;
}

/**
 * A command line (run by /bin/sh, as a document prints it) or an argv (run directly).
 */
export type Command = string | readonly [string, ...string[]];

const label = (command: Command): string => (typeof command === 'string' ? command : command.join(' '));

function spawnCommand(command: Command, options: CommandOptions): ChildProcessWithoutNullStreams {
  // Detached, so the deadline can kill the whole group (sh → npx → node → the bin) and leave
  // nothing behind.
  const [file, args] = typeof command === 'string' ? ['/bin/sh', ['-c', command]] : [command[0], command.slice(1)];
  return spawn(file, args, { cwd: options.cwd, env: options.env, detached: true });
}

function killGroup(child: ChildProcessWithoutNullStreams, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Runs `command` to its end.
 * @param stdin written to the command's stdin, which is then closed
 * @throws Error with the whole output when the deadline killed it
 */
export async function runCommand(command: Command, options: CommandOptions, stdin = ''): Promise<CommandResult> {
  const running = startCommand(command, options);
  running.child.stdin.end(stdin);
  const result = await running.exited;
  if (result.signal === 'SIGKILL' && result.ms >= options.timeoutMs)
    throw new Error(`${describeRun(command, result)}\n(killed after ${options.timeoutMs} ms)`);
  return result;
}

/**
 * Starts `command` and leaves it running. The caller must `stop` it; the
 * deadline in `options` bounds its whole life.
 */
export function startCommand(command: Command, options: CommandOptions): RunningCommand {
  const started = Date.now();
  const child = spawnCommand(command, options);
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = () => {
    for (const listener of listeners) listener();
  };
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
    changed();
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
    changed();
  });
  const lifetime = setTimeout(() => killGroup(child, 'SIGKILL'), options.timeoutMs);
  const exited = new Promise<CommandResult>((resolve) => {
    child.on('close', (code, signal) => {
      clearTimeout(lifetime);
      changed();
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  const failure = (why: string) =>
    new Error(`${describeRun(command, { code: child.exitCode, signal: child.signalCode, stdout, stderr })}\n(${why})`);

  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    waitFor(pattern, timeoutMs) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = stdout.match(pattern) ?? stderr.match(pattern);
          if (match) finish(() => resolve(match));
          else if (done || child.exitCode !== null || child.signalCode !== null)
            finish(() => reject(failure(`exited before printing ${pattern}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(failure(`no ${pattern} within ${timeoutMs} ms`))),
          timeoutMs,
        );
        const finish = (settle: () => void) => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      });
    },
    async stop(graceMs = 5_000) {
      killGroup(child, 'SIGTERM');
      const kill = setTimeout(() => killGroup(child, 'SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(kill);
      return result;
    },
  };
}
