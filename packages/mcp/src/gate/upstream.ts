/**
 * The upstream MCP server behind the gate: a v1 SDK `Client` over stdio (a child process) or
 * Streamable HTTP, connected lazily and again after a crash, a closed connection or a call
 * that hung past its timeout — so one bad call is a clear tool error and the next call works.
 * @module
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { ChildProcessTransport, spawnChild } from './child-transport.js';

/** Where the upstream server is: a command to spawn (stdio) or a Streamable HTTP URL. */
export type UpstreamSpec =
  | {
      command: string;
      args?: readonly string[];
      /** The child's whole environment (default: this process's; `noxy-mcp gate` drops NOXY_* from it). */
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
  #client: Client | undefined;
  #onConnect: OnConnect | undefined;
  /** The stdio transport of the connection in use once it is initialized (for the fast lane). */
  #ready: Transport | undefined;
  #closed = false;
  /**
   * What the proxy's client tells the upstream it supports: the host's roots, sampling and
   * elicitation, once known (the proxy forwards those requests). Used by the next connection.
   */
  capabilities: ClientCapabilities = {};

  /**
   * @param spec where the upstream is
   * @param log operator log lines
   */
  constructor(
    readonly spec: UpstreamSpec,
    public log: (line: string) => void = () => undefined,
  ) {}

  /** Sets the per-connection hook; applied at once to a connection already made or in progress. */
  setOnConnect(hook: OnConnect): void {
    this.#onConnect = hook;
    if (this.#client) hook(this.#client);
  }

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

  /** The current connection's stdio transport, once initialized; undefined while (re)connecting or over HTTP. */
  readyStdioTransport(): Transport | undefined {
    return this.#ready;
  }

  /** The current connection's pid, if connected over stdio. */
  async pid(): Promise<number | undefined> {
    return (await this.#current?.catch(() => undefined))?.pid;
  }

  /** Drops the connection (e.g. after a hung call) so that the next call starts a new one. */
  async restart(reason: string): Promise<void> {
    const current = this.#current;
    this.#current = undefined;
    this.#ready = undefined;
    if (!current) return;
    this.log(`restarting the upstream: ${reason}`);
    const conn = await current.catch(() => undefined);
    await conn?.client.close().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const current = this.#current;
    this.#current = undefined;
    this.#ready = undefined;
    const conn = await current?.catch(() => undefined);
    await conn?.client.close().catch(() => undefined);
  }

  #connect(): Promise<UpstreamConnection> {
    const spec = this.spec;
    // Spawned before the SDK is loaded (the first time, that takes as long as the child's boot).
    const child = 'url' in spec ? undefined : spawnChild(spec);
    const connection: Promise<UpstreamConnection> = (async () => {
      const { Client } = await import('@modelcontextprotocol/sdk/client/index.js');
      let transport: Transport;
      if (child) {
        transport = new ChildProcessTransport(child.child, child.spawned);
      } else {
        const { StreamableHTTPClientTransport } = await import('@modelcontextprotocol/sdk/client/streamableHttp.js');
        transport = new StreamableHTTPClientTransport(new URL(String((spec as { url: string | URL }).url)));
      }
      // Not restarted or closed meanwhile (a function: `connection` is assigned once this body first awaits).
      const isCurrent = () => this.#current === connection;
      const client = new Client({ name: 'noxy-mcp-gate', version: '0.1.0' }, { capabilities: this.capabilities });
      this.#client = client;
      this.#onConnect?.(client);
      // A crash or a closed connection: the next call reconnects. In-flight requests already got
      // `Connection closed` from the SDK.
      client.onclose = () => {
        if (isCurrent()) {
          this.#current = undefined;
          this.#ready = undefined;
          if (!this.#closed) this.log('the upstream closed the connection; the next call restarts it');
        }
      };
      try {
        await client.connect(transport);
      } catch (err) {
        child?.child.kill('SIGKILL');
        throw err;
      }
      if (child && isCurrent()) this.#ready = transport;
      return { client, pid: child?.child.pid };
    })();
    return connection;
  }
}
