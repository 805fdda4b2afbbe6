/**
 * The gate's fast lane: an ungated `tools/call` is relayed between the host and a stdio
 * upstream as a JSON-RPC message, without going through the SDK `Server` and `Client`
 * (their zod checks and per-request bookkeeping were most of the proxy's cost per call, and
 * issue 14 bounds that overhead at 1.3× a direct call).
 *
 * Only a call the proxy would forward unchanged takes this lane: the tool is already listed,
 * the same rules (rules.ts) say it needs no approval, it is not task-augmented, and the
 * upstream is connected over stdio. Everything the slow path does for such a call is kept:
 * the request goes upstream exactly as sent (arguments and `_meta`), the host's progress token
 * is swapped for one of the lane's and the upstream's progress is relayed back under the host's,
 * a host cancel becomes a cancel of the upstream request, a call that answers nothing for the
 * timeout is cut (and the upstream restarted), and an upstream that stops fails the call with
 * the same tool error. Any other message goes to the SDK as before.
 * @module
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { CallToolResult, JSONRPCMessage, RequestId } from '@modelcontextprotocol/sdk/types.js';

/** What the fast lane needs from the proxy. */
export interface FastLaneOptions {
  /** Whether this call may bypass the SDK: a listed tool the rules do not gate. Synchronous. */
  ungated(name: string, args: Record<string, unknown>): boolean;
  /** The upstream's transport when connected over stdio and ready, else undefined (slow path). */
  upstream(): Transport | undefined;
  /** A call with no result and no progress for this long is cut, ms. */
  timeoutMs: number;
  /** Cuts a hung upstream (the proxy restarts it) before the host is told. */
  onTimeout(tool: string): Promise<void>;
  /** The tool errors the slow path answers, so both lanes read the same. */
  timeoutResult(tool: string): CallToolResult;
  stoppedResult(tool: string, why: string): CallToolResult;
}

interface Pending {
  hostId: RequestId;
  hostToken: string | number | undefined;
  tool: string;
  upstream: Transport;
  timer: NodeJS.Timeout;
}

type Message = Record<string, unknown>;
type OnMessage = NonNullable<Transport['onmessage']>;

const isObject = (value: unknown): value is Message =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Relays ungated tool calls; attach it to the host transport and to each upstream transport. */
export class FastLane {
  readonly #pending = new Map<string, Pending>();
  /** Host request id → lane id, for the host's cancels. */
  readonly #byHostId = new Map<RequestId, string>();
  readonly #attached = new WeakSet<Transport>();
  #host: Transport | undefined;
  #next = 0;

  constructor(private readonly options: FastLaneOptions) {}

  /** Takes the host's messages first; call after the SDK `Server` connected to `transport`. */
  attachHost(transport: Transport): void {
    this.#host = transport;
    const inner = transport.onmessage;
    transport.onmessage = ((message, extra) => {
      if (!this.#fromHost(message)) inner?.(message, extra);
    }) as OnMessage;
  }

  /** Takes an upstream's messages first; call once per connection, after the SDK `Client` connected. */
  attachUpstream(transport: Transport): void {
    if (this.#attached.has(transport)) return;
    this.#attached.add(transport);
    const inner = transport.onmessage;
    transport.onmessage = ((message, extra) => {
      if (!this.#fromUpstream(message as Message)) inner?.(message, extra);
    }) as OnMessage;
    const innerClose = transport.onclose;
    transport.onclose = () => {
      this.#failAll(transport, 'the connection closed');
      innerClose?.();
    };
  }

  /** Ends every call in flight (the proxy is closing); their hosts get no answer, as with the SDK. */
  close(): void {
    for (const p of this.#pending.values()) clearTimeout(p.timer);
    this.#pending.clear();
    this.#byHostId.clear();
  }

  #fromHost(message: JSONRPCMessage): boolean {
    const m = message as Message;
    if (m.method === 'notifications/cancelled') return this.#cancelFromHost(m);
    if (m.method !== 'tools/call' || !('id' in m) || !isObject(m.params)) return false;
    const params = m.params;
    const args = params.arguments ?? {};
    if (typeof params.name !== 'string' || !isObject(args) || params.task !== undefined) return false;
    const upstream = this.options.upstream();
    if (!upstream || !this.#host || !this.options.ungated(params.name, args)) return false;
    this.attachUpstream(upstream);

    const id = `noxy-gate-${++this.#next}`;
    const meta = isObject(params._meta) ? params._meta : undefined;
    const hostToken = meta?.progressToken as string | number | undefined;
    // The host's token is the host's; the upstream gets one of ours (as the SDK Client does).
    const forwardedMeta = hostToken === undefined ? meta : { ...meta, progressToken: id };
    const forwarded: Message = { ...params };
    if (forwardedMeta === undefined) delete forwarded._meta;
    else forwarded._meta = forwardedMeta;
    const pending: Pending = {
      hostId: m.id as RequestId,
      hostToken,
      tool: params.name,
      upstream,
      timer: this.#timer(id),
    };
    this.#pending.set(id, pending);
    this.#byHostId.set(pending.hostId, id);
    upstream
      .send({ jsonrpc: '2.0', id, method: 'tools/call', params: forwarded } as JSONRPCMessage)
      .catch((err: unknown) => this.#finish(id, this.options.stoppedResult(params.name as string, String(err))));
    return true;
  }

  #cancelFromHost(m: Message): boolean {
    const requestId = isObject(m.params) ? (m.params.requestId as RequestId | undefined) : undefined;
    const id = requestId === undefined ? undefined : this.#byHostId.get(requestId);
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (id === undefined || !pending) return false;
    this.#drop(id);
    const reason = isObject(m.params) ? m.params.reason : undefined;
    pending.upstream
      .send({
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: id, ...(reason === undefined ? {} : { reason }) },
      } as JSONRPCMessage)
      .catch(() => undefined);
    return true;
  }

  #fromUpstream(m: Message): boolean {
    if (m.method === 'notifications/progress' && isObject(m.params)) {
      const token = m.params.progressToken;
      const pending = typeof token === 'string' ? this.#pending.get(token) : undefined;
      if (!pending || !this.#host) return false;
      // Progress resets the timeout, as `resetTimeoutOnProgress` does on the slow path.
      pending.timer.refresh();
      this.#host
        .send({ ...m, params: { ...m.params, progressToken: pending.hostToken } } as unknown as JSONRPCMessage, {
          relatedRequestId: pending.hostId,
        })
        .catch(() => undefined);
      return true;
    }
    if (typeof m.id !== 'string' || !m.id.startsWith('noxy-gate-') || !('result' in m || 'error' in m)) return false;
    const pending = this.#pending.get(m.id);
    // An answer to a call the host cancelled, or that timed out, is dropped (the SDK does the same).
    if (!pending) return true;
    this.#drop(m.id);
    this.#host?.send({ ...m, id: pending.hostId } as JSONRPCMessage).catch(() => undefined);
    return true;
  }

  #timer(id: string): NodeJS.Timeout {
    return setTimeout(() => {
      const pending = this.#pending.get(id);
      if (!pending) return;
      this.#drop(id);
      pending.upstream
        .send({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: 'timed out' },
        } as JSONRPCMessage)
        .catch(() => undefined);
      void this.options
        .onTimeout(pending.tool)
        .catch(() => undefined)
        .then(() => this.#answer(pending, this.options.timeoutResult(pending.tool)));
    }, this.options.timeoutMs);
  }

  #failAll(upstream: Transport, why: string): void {
    for (const [id, pending] of [...this.#pending]) {
      if (pending.upstream === upstream) this.#finish(id, this.options.stoppedResult(pending.tool, why));
    }
  }

  #finish(id: string, result: CallToolResult): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#drop(id);
    this.#answer(pending, result);
  }

  #answer(pending: Pending, result: CallToolResult): void {
    this.#host?.send({ jsonrpc: '2.0', id: pending.hostId, result } as JSONRPCMessage).catch(() => undefined);
  }

  #drop(id: string): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    clearTimeout(pending.timer);
    this.#pending.delete(id);
    this.#byHostId.delete(pending.hostId);
  }
}
