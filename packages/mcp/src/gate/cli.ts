/**
 * `noxy-mcp gate [--config FILE] [--gate GLOBS] [--allow GLOBS] [--upstream-url URL] -- <command> [args…]`:
 * argument parsing and start-up of the gate proxy over stdio. Relay and identity come from the
 * same environment as `noxy-mcp` (config.ts).
 * @module
 */
import { parseArgs } from 'node:util';
import type { GateConfig } from './config.js';
import { Upstream, type UpstreamSpec } from './upstream.js';

export const GATE_USAGE =
  'usage: noxy-mcp gate [--config FILE] [--gate GLOBS] [--allow GLOBS] -- <command> [args…]\n' +
  '       noxy-mcp gate [options] --upstream-url http://127.0.0.1:PORT/mcp\n' +
  "  every upstream tool not annotated readOnlyHint: true needs the user's approval, unless rules say otherwise";

/**
 * Runs the gate subcommand until stdin ends or a signal arrives.
 * @returns the exit code
 */
export async function gateMain(
  argv: readonly string[],
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<number> {
  const dash = argv.indexOf('--');
  const own = dash === -1 ? [...argv] : argv.slice(0, dash);
  const command = dash === -1 ? [] : argv.slice(dash + 1);
  let values: {
    config?: string | undefined;
    gate?: string[] | undefined;
    allow?: string[] | undefined;
    'upstream-url'?: string | undefined;
    help?: boolean | undefined;
  };
  try {
    ({ values } = parseArgs({
      args: own,
      options: {
        config: { type: 'string' },
        gate: { type: 'string', multiple: true },
        allow: { type: 'string', multiple: true },
        'upstream-url': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      allowPositionals: false,
    }));
  } catch (err) {
    log(`${(err as Error).message}\n${GATE_USAGE}`);
    return 2;
  }
  if (values.help) {
    log(GATE_USAGE);
    return 0;
  }
  const url = values['upstream-url'];
  if ((command.length === 0) === (url === undefined)) {
    log(`give the upstream either after -- (a command) or as --upstream-url, not both or neither\n${GATE_USAGE}`);
    return 2;
  }
  let upstream: UpstreamSpec;
  if (url !== undefined) {
    try {
      new URL(url);
    } catch {
      log(`--upstream-url is not a URL: "${url}"`);
      return 2;
    }
    upstream = { url };
  } else {
    // The child gets our environment minus Noxy's secrets: it has no business with the app token.
    const childEnv: Record<string, string> = {};
    for (const [k, v] of Object.entries(env)) if (v !== undefined && !k.startsWith('NOXY_')) childEnv[k] = v;
    upstream = { command: command[0]!, args: command.slice(1), env: childEnv };
  }
  // The upstream starts now, while the rest of the proxy (core, gRPC, zod) loads: the two cold
  // starts overlap instead of adding up. A configuration problem below stops it again.
  const started = new Upstream(upstream, (line) => log(`gate: ${line}`));
  started.connection().catch(() => undefined);
  const code = await serve(started, values, env, log);
  if (code !== 0) await started.close();
  return code;
}

async function serve(
  upstream: Upstream,
  values: { config?: string | undefined; gate?: string[] | undefined; allow?: string[] | undefined },
  env: Record<string, string | undefined>,
  log: (line: string) => void,
): Promise<number> {
  const [
    { GateStdioTransport },
    { createNoxyClient, MemoryApprovalStore, NoxyError },
    envConfig,
    rulesFile,
    proxyMod,
    rulesMod,
  ] = await Promise.all([
    import('./stdio-host.js'),
    import('@noxy-approval/core'),
    import('../config.js'),
    import('./config.js'),
    import('./proxy.js'),
    import('./rules.js'),
  ]);
  const { configWarnings, loadConfig, maskIdentity } = envConfig;
  const { loadGateConfig, splitGlobs } = rulesFile;
  let fileRules: GateConfig | undefined;
  try {
    if (values.config !== undefined) fileRules = loadGateConfig(values.config);
  } catch (err) {
    log(NoxyError.isInstance(err) ? err.message : String(err));
    log('not started: fix the rules file above');
    return 2;
  }
  const loaded = loadConfig(env);
  if (!loaded.ok) {
    for (const problem of loaded.problems) log(problem);
    log('not started: fix the configuration above (see the README of @noxy-approval/mcp)');
    return 2;
  }
  const { config } = loaded;
  for (const warning of configWarnings(config)) log(`warning: ${warning}`);
  const client = createNoxyClient({
    endpoint: config.endpoint,
    authToken: config.authToken,
    decisionTtlSeconds: config.ttlSeconds,
    requireDeviceSignature: config.requireDeviceSignature,
  });
  const proxy = await proxyMod.createGateProxy({
    upstream,
    client,
    identity: config.identity,
    holdMs: config.holdSeconds * 1000,
    ttlSeconds: config.ttlSeconds,
    handleSecret: config.handleSecret,
    store: new MemoryApprovalStore(),
    rules: rulesMod.mergeRules(fileRules, { gate: splitGlobs(values.gate), allow: splitGlobs(values.allow) }),
    log: (line) => log(`gate: ${line}`),
  });
  await proxy.connect(new GateStdioTransport());
  log(`gate ready over stdio (asking ${maskIdentity(config.identity)}, relay ${config.endpoint})`);
  await new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    process.stdin.once('end', done);
  });
  await proxy.close();
  client.close();
  return 0;
}
