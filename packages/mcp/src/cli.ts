#!/usr/bin/env node
/**
 * `noxy-mcp` — the approval MCP server for Claude Desktop, Claude Code, Cursor and any MCP host.
 *
 *   noxy-mcp                     stdio (what host configs use)
 *   noxy-mcp --http [--port N]   Streamable HTTP on 127.0.0.1 (default port 8787), path /mcp
 *   noxy-mcp gate [rules] -- <command> [args…]   the gate proxy in front of another MCP server
 *
 * Configuration comes from the environment (see config.ts). Logs go to stderr only: stdout
 * belongs to the MCP protocol. The token is never printed.
 * @module
 */
import { parseArgs } from 'node:util';
// Only what `gate` needs before it spawns its upstream is loaded statically: the rest (core,
// gRPC, the server) loads while the upstream starts, which keeps the gate's cold start short.
import { gateMain } from './gate/cli.js';

const log = (line: string) => process.stderr.write(`noxy-mcp: ${line}\n`);

async function main(): Promise<number> {
  if (process.argv[2] === 'gate') return gateMain(process.argv.slice(3), process.env, log);
  const [{ StdioServerTransport }, { createNoxyClient, isLoopbackHost, MemoryApprovalStore }, config_, http, srv] =
    await Promise.all([
      import('@modelcontextprotocol/sdk/server/stdio.js'),
      import('@noxy-approval/core'),
      import('./config.js'),
      import('./http.js'),
      import('./server.js'),
    ]);
  const { configWarnings, loadConfig, maskIdentity } = config_;
  const { serveHttp } = http;
  const { createApprovalServer, SERVER_VERSION } = srv;
  const { values } = parseArgs({
    options: {
      http: { type: 'boolean', default: false },
      port: { type: 'string' },
      host: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean' },
    },
    allowPositionals: false,
  });
  if (values.version) {
    process.stdout.write(`${SERVER_VERSION}\n`);
    return 0;
  }
  if (values.help) {
    log(
      'usage: noxy-mcp [--http [--port N] [--host 127.0.0.1]]\n' +
        '       noxy-mcp gate [--config FILE] [--gate GLOBS] [--allow GLOBS] -- <command> [args…]\n' +
        '  env: NOXY_ENDPOINT, NOXY_AUTH_TOKEN, NOXY_IDENTITY, NOXY_DECISION_TTL_SECONDS, NOXY_HOLD_SECONDS,\n' +
        '       NOXY_HANDLE_SECRET; NOXY_MCP_HTTP_TOKEN (bearer, required for a non-loopback --host)',
    );
    return 0;
  }
  const loaded = loadConfig(process.env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) log(problem);
    log('not started: fix the configuration above (see the README of @noxy-approval/mcp)');
    return 2;
  }
  const { config } = loaded;
  for (const warning of configWarnings(config)) log(`warning: ${warning}`);
  // The client connects lazily: the server starts and lists its tools even while the relay
  // is unreachable; relay errors surface per call as tool errors.
  const client = createNoxyClient({
    endpoint: config.endpoint,
    authToken: config.authToken,
    decisionTtlSeconds: config.ttlSeconds,
    requireDeviceSignature: config.requireDeviceSignature,
  });
  // One store for every HTTP session: a host that reconnects can still check its decisions.
  const store = new MemoryApprovalStore();
  const makeServer = () =>
    createApprovalServer({
      client,
      identity: config.identity,
      holdMs: config.holdSeconds * 1000,
      store,
      handleSecret: config.handleSecret,
      agent: { name: 'noxy-mcp' },
      // The model is told too; the operator sees relay failures here (codes and text, no secrets).
      onError: (tool, err) => log(`${tool} failed: ${err instanceof Error ? err.message : String(err)}`),
    });

  let stop: () => Promise<void>;
  if (values.http) {
    const port = values.port === undefined ? 8787 : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) {
      log(`--port must be 0..65535 (got "${values.port}")`);
      return 2;
    }
    const host = values.host ?? '127.0.0.1';
    const bearerToken = process.env.NOXY_MCP_HTTP_TOKEN;
    if (!isLoopbackHost(host) && !bearerToken) {
      log(
        `refusing to serve on ${host} without NOXY_MCP_HTTP_TOKEN: ` +
          'anyone who could reach it could send approval requests to your devices',
      );
      return 2;
    }
    const endpoint = await serveHttp({
      createServer: makeServer,
      host,
      port,
      // A held tool call sends nothing until the hold ends: the idle cut must come later.
      socketIdleMs: Math.max(5 * 60_000, config.holdSeconds * 1000 + 60_000),
      ...(bearerToken ? { bearerToken } : {}),
    });
    log(`Streamable HTTP on ${endpoint.url} (asking ${maskIdentity(config.identity)}, relay ${config.endpoint})`);
    stop = endpoint.close;
  } else {
    const server = makeServer();
    await server.connect(new StdioServerTransport());
    log(`stdio ready (asking ${maskIdentity(config.identity)}, relay ${config.endpoint})`);
    stop = () => server.close();
  }
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    process.stdin.once('end', done);
  });
  await stop();
  client.close();
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    log(`fatal: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
