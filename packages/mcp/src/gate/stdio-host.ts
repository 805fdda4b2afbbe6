/**
 * The gate's host-facing stdio transport: the SDK's `StdioServerTransport` (read stdin, write
 * stdout, newline-delimited JSON-RPC) with json-lines.ts's framing, so a forwarded call is not
 * validated by the SDK's generic message schema on top of the handler's own schemas.
 * @module
 */
import type { Readable, Writable } from 'node:stream';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { JsonLineBuffer, serializeMessage } from './json-lines.js';

/** Server side of stdio for the gate proxy (defaults: this process's stdin and stdout). */
export class GateStdioTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  readonly #buffer = new JsonLineBuffer();
  #started = false;

  /**
   * @param stdin where the host's messages arrive
   * @param stdout where this server's messages go
   */
  constructor(
    private readonly stdin: Readable = process.stdin,
    private readonly stdout: Writable = process.stdout,
  ) {}

  readonly #ondata = (chunk: Buffer): void => {
    try {
      this.#buffer.append(chunk);
    } catch (err) {
      // A line past the size bound: the stream cannot be re-synchronised, so the session ends.
      this.onerror?.(err as Error);
      void this.close();
      return;
    }
    for (;;) {
      try {
        const message = this.#buffer.readMessage();
        if (message === null) return;
        this.onmessage?.(message);
      } catch (err) {
        this.onerror?.(err as Error);
      }
    }
  };

  readonly #onerror = (error: Error): void => this.onerror?.(error);

  async start(): Promise<void> {
    if (this.#started) throw new Error('GateStdioTransport already started');
    this.#started = true;
    this.stdin.on('data', this.#ondata);
    this.stdin.on('error', this.#onerror);
  }

  send(message: JSONRPCMessage): Promise<void> {
    return new Promise((resolve) => {
      if (this.stdout.write(serializeMessage(message))) resolve();
      else this.stdout.once('drain', resolve);
    });
  }

  async close(): Promise<void> {
    this.stdin.off('data', this.#ondata);
    this.stdin.off('error', this.#onerror);
    if (this.stdin.listenerCount('data') === 0) this.stdin.pause();
    this.#buffer.clear();
    this.onclose?.();
  }
}
