import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const PACKAGES = ['proto', 'core', 'device', 'relay', 'mcp', 'langchain', 'ai-sdk', 'testing'];
const src = (path: string) => fileURLToPath(new URL(`./packages/${path}`, import.meta.url));

// Tests import the workspace packages from source; the CLIs some of them spawn (noxy-mcp,
// noxy-device) run from dist, which the global setup builds (`tsc --build`) before any test.
export default defineConfig({
  resolve: {
    alias: [
      { find: /^@noxy-approval\/core\/portable$/, replacement: src('core/src/portable.ts') },
      { find: new RegExp(`^@noxy-approval/(${PACKAGES.join('|')})$`), replacement: src('$1/src/index.ts') },
    ],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
