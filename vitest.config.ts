import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests import the workspace packages from source, so a test run needs no build; the spawned
// CLIs (noxy-relay, noxy-mcp, noxy-device) run from dist, which `npm test` builds first.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@noxy-approval\/core\/envelope$/, replacement: src('core/src/envelope/index.ts') },
      { find: /^@noxy-approval\/core\/portable$/, replacement: src('core/src/portable.ts') },
      { find: /^@noxy-approval\/(proto|core|device|relay|mcp)$/, replacement: src('$1/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
