/**
 * The upstream MCP server behind the gate: a v1 SDK `Client` over stdio (a child process) or
 * Streamable HTTP, connected lazily and again after a crash, a closed connection or a call
 * that hung past its timeout — so one bad call is a clear tool error and the next call works.
 * @module
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/** Where the upstream server is: a command to spawn (stdio) or a Streamable HTTP URL. */
export type UpstreamSpec =
  | {
      command: string;
      args?: readonly string[];
      env?: Record<string, string>;
      cwd?: string;
      /** The child's stderr: shown to the operator (default) or dropped. */
      stderr?: 'inherit' | 'ignore';
    }
  | { url: string | URL };

/** What the proxy needs from a connection: the client and what it learned at initialize. */
export interface UpstreamConnection {
  client: Client;
  /** The child's pid (stdio), for logs and tests. */
  pid: number | undefined;
}

/** Called once per new connection, before it is used (to install notification handlers). */
export type OnConnect = (client: Client) => void;

/** A restartable connection to the upstream. */
export class Upstream {
  #current: Promise<UpstreamConnection> | undefined;
  #closed = false;

  constructor(
    readonly spec: UpstreamSpec,
    private readonly onConnect: OnConnect,
    private readonly log: (line: string) => void = () => undefined,
  ) {}

  /** A live connection: the current one, or a new one (first use, or after a crash). */
  connection(): Promise<UpstreamConnection> {
    if (this.#closed) return Promise.reject(new Error('the gate proxy is closed'));
    if (!this.#current) {
      const started = this.#connect();
      this.#current = started;
      started.catch(() => {
        if (this.#current === started) this.#current = undefined;
      });
    }
    return this.#current;
  }

  /** The current connection's pid, if connected over stdio. */
  async pid(): Promise<number | undefined> {
    return (await this.#current?.catch(() => undefined))?.pid;
  }

  /** Drops the connection (e.g. after a hung call) so that the next call starts a new one. */
  async restart(reason: string): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    if (!current) return;
    this.log(`restarting the upstream: ${reason}`);
    const conn = await current.catch(() => undefined);
    await conn?.client.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const current = this.#current;
    this.#current = undefined;
    const conn = await current?.catch(() => undefined);
    await conn?.client.close().catch(() => undefined);
  }

  #connect(): Promise<UpstreamConnection> {
    let transport: Transport;
    let stdio: StdioClientTransport | undefined;
    if ('url' in this.spec) {
      transport = new StreamableHTTPClientTransport(new URL(String(this.spec.url)));
    } else {
      stdio = new StdioClientTransport({
        command: this.spec.command,
        args: [...(this.spec.args ?? [])],
        ...(this.spec.env ? { env: this.spec.env } : {}),
        ...(this.spec.cwd ? { cwd: this.spec.cwd } : {}),
        // The upstream's own logs stay visible to the operator (stderr), never on our stdout.
        stderr: this.spec.stderr ?? 'inherit',
      });
      transport = stdio;
    }
    const client = new Client({ name: 'noxy-mcp-gate', version: '0.1.0' }, { capabilities: {} });
    this.onConnect(client);
    const connection: Promise<UpstreamConnection> = (async () => {
      await client.connect(transport);
      return { client, pid: stdio?.pid ?? undefined };
    })();
    // A crash or a closed connection: the next call reconnects. In-flight requests already got
    // `Connection closed` from the SDK.
    client.onclose = () => {
      if (this.#current === connection) {
        this.#current = undefined;
        if (!this.#closed) this.log('the upstream closed the connection; the next call restarts it');
      }
    };
    return connection;
  }
}
