#!/usr/bin/env node
// `npm run bundle:mcpb`: the Claude Desktop bundle (.mcpb) of noxy-mcp.
//
//   node scripts/bundle-mcpb.mjs [--out DIR] [--stage DIR]
//
// Stages packages/mcp/mcpb/manifest.json, the built noxy-mcp (dist only) and its production
// dependency closure in a fresh folder, then runs `mcpb validate` and `mcpb pack` on it. The
// dependencies are copied from this checkout's installed node_modules (the workspace packages'
// dist, third-party packages as installed), found by Node's own resolution walk from each
// package's `dependencies`, `optionalDependencies` and required `peerDependencies`: nothing is
// fetched from a registry, and no devDependency can get in because none is ever followed.
// Needs a build first (`tsc --build packages/mcp`); prints the .mcpb path on stdout's last line.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const mcpDir = join(root, 'packages', 'mcp');
const rootModules = join(root, 'node_modules');

/** Stops with one line naming what is wrong and the fix. */
function fail(message) {
  process.stderr.write(`bundle-mcpb: ${message}\n`);
  process.exit(1);
}

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));

/**
 * The folder of package `name` as `fromDir`'s code would load it: Node looks in
 * `<dir>/node_modules/<name>` from the requiring package up to the checkout's root.
 */
function resolvePackage(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) {
      // Workspace links resolve to packages/<x>; a node_modules that is itself linked from
      // elsewhere (a scratch copy of the checkout) keeps the path Node loads it by.
      const real = realpathSync(candidate);
      return relative(root, real).startsWith('..') ? candidate : real;
    }
    if (dir === root || dirname(dir) === dir) return undefined;
  }
}

/**
 * Where a resolved package goes in the stage. Hoisted and nested third-party packages keep their
 * path under node_modules; a workspace package (packages/<x>, linked from node_modules) becomes
 * node_modules/<its name>, and whatever is nested under it moves with it.
 */
function stagedPath(realDir, stage, workspaceNames) {
  const rel = relative(root, realDir);
  if (rel.startsWith(`node_modules${sep}`)) return join(stage, rel);
  const [top, pkg, ...rest] = rel.split(sep);
  if (top !== 'packages' || !pkg) fail(`unexpected package location ${rel} (outside node_modules and packages/)`);
  return join(stage, 'node_modules', workspaceNames.get(pkg), ...rest);
}

/** The production dependency closure of noxy-mcp: Map real folder → package.json. */
function productionClosure() {
  const seen = new Map();
  const queue = [realpathSync(mcpDir)];
  while (queue.length > 0) {
    const dir = queue.shift();
    if (seen.has(dir)) continue;
    const pkg = readJson(join(dir, 'package.json'));
    seen.set(dir, pkg);
    const optionalPeers = new Set(
      Object.entries(pkg.peerDependenciesMeta ?? {})
        .filter(([, meta]) => meta?.optional)
        .map(([name]) => name),
    );
    const wanted = [
      ...Object.keys(pkg.dependencies ?? {}).map((name) => [name, true]),
      ...Object.keys(pkg.optionalDependencies ?? {}).map((name) => [name, false]),
      ...Object.keys(pkg.peerDependencies ?? {})
        .filter((name) => !optionalPeers.has(name))
        .map((name) => [name, true]),
    ];
    for (const [name, required] of wanted) {
      const found = resolvePackage(name, dir);
      if (found) queue.push(found);
      else if (required) fail(`${pkg.name} needs ${name}, which is not installed: run npm ci first`);
    }
  }
  return seen;
}

function main() {
  const { values } = parseArgs({
    options: { out: { type: 'string' }, stage: { type: 'string' } },
    allowPositionals: false,
  });
  const mcpPkg = readJson(join(mcpDir, 'package.json'));
  const manifest = readJson(join(mcpDir, 'mcpb', 'manifest.json'));
  if (manifest.version !== mcpPkg.version) {
    fail(
      `packages/mcp/mcpb/manifest.json has version ${manifest.version} but the package is ${mcpPkg.version}: ` +
        'make them equal',
    );
  }
  if (!existsSync(join(mcpDir, 'dist', 'cli.js')))
    fail('packages/mcp/dist/cli.js is missing: run npx tsc --build packages/mcp');

  const workspaceNames = new Map();
  for (const pkgDir of ['proto', 'core', 'device', 'relay', 'mcp', 'ai-sdk', 'langchain', 'testing']) {
    const file = join(root, 'packages', pkgDir, 'package.json');
    if (existsSync(file)) workspaceNames.set(pkgDir, readJson(file).name);
  }

  const stage = resolve(values.stage ?? mkdtempSync(join(tmpdir(), 'noxy-mcpb-')));
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  const closure = productionClosure();
  for (const [dir, pkg] of closure) {
    const target = stagedPath(dir, stage, workspaceNames);
    const isWorkspace = !relative(root, dir).startsWith(`node_modules${sep}`);
    if (isWorkspace) {
      // A workspace package ships what npm would publish of it, minus sources and bin shims
      // (the shims fall back to running TypeScript from a checkout, which a bundle is not).
      for (const entry of ['package.json', 'LICENSE', 'dist']) {
        if (existsSync(join(dir, entry))) cpSync(join(dir, entry), join(target, entry), { recursive: true });
      }
      if (!existsSync(join(dir, 'dist'))) fail(`${pkg.name} has no dist/: run npx tsc --build packages/mcp`);
    } else {
      // Nested node_modules are staged from the closure on their own, so only what is needed goes in.
      cpSync(dir, target, {
        recursive: true,
        dereference: true, // real files in the bundle, even from a linked node_modules
        filter: (src) => !relative(dir, src).split(sep).includes('node_modules'),
      });
    }
  }
  writeFileSync(join(stage, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  cpSync(join(mcpDir, 'mcpb', '.mcpbignore'), join(stage, '.mcpbignore'));
  cpSync(join(mcpDir, 'LICENSE'), join(stage, 'LICENSE'));
  writeFileSync(
    join(stage, 'package.json'),
    `${JSON.stringify(
      {
        name: 'noxy-approval-mcpb',
        version: mcpPkg.version,
        private: true,
        type: 'module',
        dependencies: { [mcpPkg.name]: mcpPkg.version },
      },
      null,
      2,
    )}\n`,
  );

  const mcpb = join(rootModules, '.bin', process.platform === 'win32' ? 'mcpb.cmd' : 'mcpb');
  const run = (args) => {
    const result = spawnSync(mcpb, args, { stdio: ['ignore', 'inherit', 'inherit'] });
    if (result.status !== 0) fail(`mcpb ${args[0]} failed (exit ${result.status ?? result.signal})`);
  };
  run(['validate', join(stage, 'manifest.json')]);
  // The root dist/ is git-ignored and belongs to no package, so no npm tarball picks the bundle up.
  const outDir = resolve(values.out ?? join(root, 'dist'));
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `${manifest.name}-${manifest.version}.mcpb`);
  run(['pack', stage, file]);
  if (!values.stage) rmSync(stage, { recursive: true, force: true });
  process.stdout.write(`${closure.size} packages staged\n${file}\n`);
}

main();
