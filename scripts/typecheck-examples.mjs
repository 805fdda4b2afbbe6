/**
 * `npm run typecheck:examples`: type-checks every example folder that has a tsconfig.json
 * (examples run through tsx and are not part of `tsc --build`), one `tsc -p` each, so a new
 * example is checked without editing a script. Exits non-zero on the first failure.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const examples = readdirSync(join(root, 'examples'), { withFileTypes: true })
  .filter((e) => e.isDirectory() && existsSync(join(root, 'examples', e.name, 'tsconfig.json')))
  .map((e) => e.name)
  .sort();
for (const name of examples) {
  execFileSync(process.execPath, [tsc, '-p', join('examples', name)], { cwd: root, stdio: 'inherit' });
}
console.log(`typecheck:examples: ${examples.length} examples OK (${examples.join(', ')})`);
