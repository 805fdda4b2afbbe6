/**
 * `npm run examples`: runs every example as its own process (`node --import tsx …`, against the
 * built packages: run `npm run build` first; this script builds nothing), one at a time with a
 * timeout each, prints one line per example (ok/failed, seconds) and exits 1 if any failed.
 * Every example checks its own result and exits non-zero when its story did not end as it should.
 * A failed example's output is printed below its line.
 *
 *   node scripts/run-examples.mjs [--timeout SECONDS] [name…]   (names as below; default all;
 *                                                               timeout per example, default 60)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
/** Each example ends within seconds offline; past this it counts as hung (`--timeout`). */
let timeoutMs = 60_000;
const EXAMPLES = [
  { name: 'demo', args: ['examples/demo/index.ts', '--approve'] },
  { name: 'core-basic', args: ['examples/core-basic/index.ts'] },
  { name: 'mcp-claude-desktop', args: ['examples/mcp-claude-desktop/index.ts'] },
  { name: 'langchain-agent', args: ['examples/langchain-agent/index.ts'] },
  { name: 'ai-sdk-agent', args: ['examples/ai-sdk-agent/index.ts'] },
];

/** Runs one example; resolves with its exit code (null on timeout or signal) and output. */
function run(example) {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', ...example.args], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (s) => (output += s));
    child.stderr.setEncoding('utf8').on('data', (s) => (output += s));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => (output += `\n${error.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const why = timedOut ? `timed out after ${timeoutMs / 1000} s` : signal ? `killed by ${signal}` : `exit ${code}`;
      resolve({ ok: code === 0, why, output, seconds: (Date.now() - started) / 1000 });
    });
  });
}

const wanted = process.argv.slice(2);
const t = wanted.indexOf('--timeout');
if (t >= 0) {
  const seconds = Number(wanted[t + 1]);
  if (!(seconds > 0)) {
    console.error('run-examples: --timeout expects a number of seconds');
    process.exit(2);
  }
  timeoutMs = seconds * 1000;
  wanted.splice(t, 2);
}
const unknown = wanted.filter((n) => !EXAMPLES.some((e) => e.name === n));
if (unknown.length > 0) {
  console.error(
    `run-examples: unknown example(s) ${unknown.join(', ')}; known: ${EXAMPLES.map((e) => e.name).join(', ')}`,
  );
  process.exit(2);
}
const selected = wanted.length > 0 ? EXAMPLES.filter((e) => wanted.includes(e.name)) : EXAMPLES;
const width = Math.max(...selected.map((e) => `${e.name} ${e.args.slice(1).join(' ')}`.length));
let failed = 0;
// One at a time: each example starts a relay and makes ML-KEM keys; parallel runs would compete
// for CPU and make the timeouts meaningless on a small CI machine.
for (const example of selected) {
  const r = await run(example);
  const label = `${example.name} ${example.args.slice(1).join(' ')}`.trim().padEnd(width);
  console.log(
    `${r.ok ? 'ok    ' : 'FAILED'}  ${label}  ${r.seconds.toFixed(1).padStart(5)} s${r.ok ? '' : `  (${r.why})`}`,
  );
  if (!r.ok) {
    failed++;
    if (r.output.trim() !== '') console.log(r.output.trimEnd().replace(/^/gm, '        | '));
  }
}
console.log(`examples: ${selected.length - failed}/${selected.length} ok`);
process.exitCode = failed > 0 ? 1 : 0;
