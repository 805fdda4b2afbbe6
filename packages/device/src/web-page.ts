/**
 * Where the built web approval page lives (Node only): `dist/web/` of this package, holding
 * `index.html` and `page.js`, bundled for the browser by `scripts/build-web.mjs` at build time.
 * The relay serves this folder at `/` by default.
 * @module
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The folder of the built web approval page (`index.html` + `page.js`). The same folder is found
 * from `src/` (tests, tsx) and from `dist/`.
 * @returns an absolute path ending in a separator; it exists once the package was built
 * @example
 * const relay = await startRelay({ dataDir: ':memory:', webRoot: webPageDir() });
 */
export function webPageDir(): string {
  return fileURLToPath(new URL('../dist/web/', import.meta.url));
}

/** True when the web page was built (`npm run build` or the device package's `prepack`). */
export function webPageBuilt(): boolean {
  return existsSync(fileURLToPath(new URL('../dist/web/index.html', import.meta.url)));
}
