/**
 * Newline-delimited JSON-RPC framing for the gate's two stdio links (host ↔ gate ↔ upstream),
 * the same wire format as the SDK's `ReadBuffer` / `serializeMessage`, with a lighter check.
 *
 * The SDK validates every incoming line against its zod `JSONRPCMessageSchema` before the
 * protocol layer validates the same message again against the request's or result's own schema.
 * On the proxy's path that first pass ran four times per forwarded call and was most of the
 * gate's CPU per call (issue 14's overhead target), so here a line only has to be a JSON-RPC 2.0
 * envelope — a request or notification (a string `method`) or a response (a string or number
 * `id` with `result` or `error`). The contents are still checked where they are used: requests
 * by the handler schemas of the SDK `Server`, results by the schema each `request` names, and the
 * host checks what it receives.
 * @module
 */
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/** Longest line accepted (a line still unfinished past this is refused and the buffer dropped). */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Parses one line into a JSON-RPC message.
 * @throws Error naming what is wrong with the envelope (never echoing the line: it may carry arguments)
 */
export function parseMessage(line: string): JSONRPCMessage {
  const message: unknown = JSON.parse(line);
  if (!isObject(message) || message.jsonrpc !== '2.0') {
    throw new Error('invalid JSON-RPC message: expected an object with "jsonrpc": "2.0"');
  }
  if (typeof message.method === 'string') {
    if (message.params !== undefined && !isObject(message.params)) {
      throw new Error(`invalid JSON-RPC message: "params" of ${message.method} must be an object`);
    }
    return message as JSONRPCMessage;
  }
  const id = message.id;
  if ((typeof id === 'string' || typeof id === 'number') && ('result' in message || 'error' in message)) {
    if ('error' in message && !isObject(message.error)) {
      throw new Error('invalid JSON-RPC message: "error" must be an object');
    }
    return message as JSONRPCMessage;
  }
  throw new Error('invalid JSON-RPC message: expected a "method", or an "id" with "result" or "error"');
}

/** One message as a line. */
export function serializeMessage(message: JSONRPCMessage): string {
  return `${JSON.stringify(message)}\n`;
}

/** Accumulates chunks and yields complete lines as messages (blank lines are skipped). */
export class JsonLineBuffer {
  #buffer: Buffer | undefined;

  /** Adds a chunk. @throws Error when an unfinished line exceeds {@link MAX_LINE_BYTES} */
  append(chunk: Buffer): void {
    this.#buffer = this.#buffer ? Buffer.concat([this.#buffer, chunk]) : chunk;
    if (this.#buffer.length > MAX_LINE_BYTES && this.#buffer.indexOf(0x0a) === -1) {
      this.#buffer = undefined;
      throw new Error(`a JSON-RPC line exceeded ${MAX_LINE_BYTES} bytes and was dropped`);
    }
  }

  /** The next complete message, or `null` until more data arrives. @throws Error for a malformed line */
  readMessage(): JSONRPCMessage | null {
    for (;;) {
      const buffer = this.#buffer;
      if (!buffer) return null;
      const end = buffer.indexOf(0x0a);
      if (end === -1) return null;
      const line = buffer.toString('utf8', 0, end > 0 && buffer[end - 1] === 0x0d ? end - 1 : end);
      this.#buffer = end + 1 === buffer.length ? undefined : buffer.subarray(end + 1);
      if (line.trim() !== '') return parseMessage(line);
    }
  }

  /** Drops whatever is buffered. */
  clear(): void {
    this.#buffer = undefined;
  }
}
