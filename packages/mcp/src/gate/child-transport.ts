/**
 * A stdio client transport over a child process that is spawned first and wired to the MCP SDK
 * afterwards: the upstream boots while the SDK (and the rest of the proxy) is still loading,
 * so the gate's cold start is close to the upstream's own. Same framing as the SDK's
 * `StdioClientTransport` (newline-delimited JSON-RPC), with json-lines.ts's lighter check.
 * @module
 */
import { spawn, type ChildProcess } from 'node:child_process';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { JsonLineBuffer, serializeMessage } from './json-lines.js';

/** How to spawn the child. */
export interface ChildSpec {
  command: string;
  args?: readonly string[];
  env?: Record<string, string>;
  cwd?: string;
  stderr?: 'inherit' | 'ignore';
}

/** A spawned child, waiting to be wired with {@link ChildProcessTransport}. */
export function spawnChild(spec: ChildSpec): { child: ChildProcess; spawned: Promise<void> } {
  const child = spawn(spec.command, [...(spec.args ?? [])], {
    ...(spec.env ? { env: spec.env } : {}),
    ...(spec.cwd ? { cwd: spec.cwd } : {}),
    stdio: ['pipe', 'pipe', spec.stderr ?? 'inherit'],
    shell: false,
    windowsHide: true,
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once('spawn', () => resolve());
    child.once('error', reject);
  });
  spawned.catch(() => undefined);
  return { child, spawned };
}

/** The client side of stdio over an already spawned child. */
export class ChildProcessTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  #exited: Promise<void>;
  readonly #buffer = new JsonLineBuffer();

  constructor(
    private readonly child: ChildProcess,
    private readonly spawned: Promise<void>,
  ) {
    this.#exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve();
      else child.once('close', () => resolve());
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  async start(): Promise<void> {
    await this.spawned;
    const { child } = this;
    child.stdout!.on('data', (chunk: Buffer) => {
      try {
        this.#buffer.append(chunk);
      } catch (err) {
        this.onerror?.(err as Error);
        return;
      }
      // One malformed line is reported and skipped; the lines after it are still read.
      for (;;) {
        try {
          const message = this.#buffer.readMessage();
          if (message === null) break;
          this.onmessage?.(message);
        } catch (err) {
          this.onerror?.(err as Error);
        }
      }
    });
    child.stdout!.on('error', (err) => this.onerror?.(err));
    child.stdin!.on('error', (err) => this.onerror?.(err));
    child.on('error', (err) => this.onerror?.(err));
    void this.#exited.then(() => this.onclose?.());
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      const stdin = this.child.stdin;
      if (!stdin || stdin.destroyed) {
        reject(new Error('the upstream is not running'));
        return;
      }
      if (stdin.write(serializeMessage(message))) resolve();
      else stdin.once('drain', () => resolve());
    });
  }

  async close(): Promise<void> {
    this.child.stdin?.end();
    const grace = (ms: number) => new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
    if ((await Promise.race([this.#exited, grace(2_000)])) === 'timeout') {
      this.child.kill('SIGTERM');
      if ((await Promise.race([this.#exited, grace(2_000)])) === 'timeout') this.child.kill('SIGKILL');
    }
    this.#buffer.clear();
  }
}
