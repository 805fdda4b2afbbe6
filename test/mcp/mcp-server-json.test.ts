import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '@noxy-approval/mcp';
import { describe, expect, it } from 'vitest';

// packages/mcp/server.json (the MCP registry entry) must describe the package as it is: same
// name, version and `mcpName`, and exactly the environment variables noxy-mcp's config reads,
// with the right required / secret flags and defaults.
const mcpDir = fileURLToPath(new URL('../../packages/mcp/', import.meta.url));
const readJson = <T>(name: string): T => JSON.parse(readFileSync(`${mcpDir}${name}`, 'utf8')) as T;

interface EnvVar {
  name: string;
  description: string;
  isRequired: boolean;
  isSecret: boolean;
  default?: string;
  format?: string;
}
interface ServerJson {
  $schema: string;
  name: string;
  description: string;
  version: string;
  packages: {
    registryType: string;
    identifier: string;
    version: string;
    transport: { type: string };
    environmentVariables: EnvVar[];
  }[];
}

const server = readJson<ServerJson>('server.json');
const pkg = readJson<{ name: string; version: string; mcpName?: string }>('package.json');
const good = { NOXY_ENDPOINT: 'http://127.0.0.1:7070', NOXY_AUTH_TOKEN: 'tok_123', NOXY_IDENTITY: 'alice@example.com' };

/** The variable names loadConfig looks at, recorded through a Proxy rather than read from its source. */
function variablesRead(env: Record<string, string>): string[] {
  const read = new Set<string>();
  loadConfig(
    new Proxy(env, {
      get(target, key) {
        if (typeof key === 'string') read.add(key);
        return Reflect.get(target, key);
      },
    }),
  );
  return [...read].sort();
}

describe('server.json for the MCP registry', () => {
  it('names the npm package, its version and the mcpName of its package.json', () => {
    expect(server.$schema).toBe('https://static.modelcontextprotocol.io/schemas/2025-12-11/server.schema.json');
    expect(server.name).toMatch(/^io\.github\.[\w-]+\/[\w.-]+$/);
    expect(pkg.mcpName).toBe(server.name);
    expect(server.version).toBe(pkg.version);
    expect(server.description.length).toBeLessThanOrEqual(100);
    expect(server.packages).toHaveLength(1);
    const [npm] = server.packages;
    expect(npm).toMatchObject({ registryType: 'npm', identifier: pkg.name, version: pkg.version });
    expect(npm!.transport).toEqual({ type: 'stdio' });
  });

  it('lists exactly the environment variables the configuration reads', () => {
    const listed = server.packages[0]!.environmentVariables.map((v) => v.name).sort();
    expect(variablesRead(good)).toEqual(listed);
    expect(variablesRead({})).toEqual(listed);
  });

  it('marks as required exactly the variables whose absence stops the server, and the token as secret', () => {
    for (const v of server.packages[0]!.environmentVariables) {
      const without = { ...good, NOXY_HANDLE_SECRET: 'a-long-random-handle-secret' } as Record<string, string>;
      delete without[v.name];
      const result = loadConfig(without);
      if (v.isRequired) expect(result.ok ? [] : result.problems, v.name).toEqual([expect.stringContaining(v.name)]);
      else expect(result.ok, v.name).toBe(true);
    }
    const secret = server.packages[0]!.environmentVariables.filter((v) => v.isSecret).map((v) => v.name);
    expect(secret.sort()).toEqual(['NOXY_AUTH_TOKEN', 'NOXY_HANDLE_SECRET']);
  });

  it('states the defaults the configuration applies', () => {
    const defaults = loadConfig(good);
    for (const v of server.packages[0]!.environmentVariables.filter((e) => e.default !== undefined)) {
      expect(loadConfig({ ...good, [v.name]: v.default! }), v.name).toEqual(defaults);
      const other = v.format === 'boolean' ? String(v.default !== 'true') : String(Number(v.default) + 1);
      expect(loadConfig({ ...good, [v.name]: other }), v.name).not.toEqual(defaults);
    }
  });

  it('covers every variable the .mcpb manifest sets', () => {
    const manifest = readJson<{ server: { mcp_config: { env: Record<string, string> } } }>('mcpb/manifest.json');
    const listed = new Set(server.packages[0]!.environmentVariables.map((v) => v.name));
    expect(Object.keys(manifest.server.mcp_config.env).filter((name) => !listed.has(name))).toEqual([]);
  });
});
