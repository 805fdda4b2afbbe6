/**
 * Runs a package's CLI from its TypeScript source, for a checkout where `npm ci` ran but no
 * build did yet: the bin shims (packages/*\/bin/*.js) call this only when dist/ is missing, so
 * `npx --no-install noxy-relay …` works right after `npm ci`. Published packages always have
 * dist/ and never reach this file.
 */
import { fileURLToPath } from 'node:url';

/**
 * Registers tsx with the source path mapping, then imports the CLI entry.
 * @param {URL} entry the CLI's src/cli.ts
 * @param {string} name the bin's name, for the error
 */
export async function runFromSource(entry, name) {
  let register;
  try {
    ({ register } = await import('tsx/esm/api'));
  } catch {
    process.stderr.write(`${name}: this checkout is not built and tsx is missing: run \`npm ci && npm run build\`\n`);
    process.exit(1);
  }
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.source.json', import.meta.url)) });
  await import(entry.href);
}
