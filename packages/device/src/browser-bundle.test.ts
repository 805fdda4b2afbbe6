import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe('browser entry', () => {
  it('bundles for the browser with no Node built-ins, gRPC or ws', async () => {
    const result = await build({
      entryPoints: [src('./browser.ts')],
      bundle: true,
      platform: 'browser',
      format: 'esm',
      write: false,
      logLevel: 'silent',
      metafile: true,
      // Same source mapping as vitest.config.ts; any Node built-in reached from here fails the build.
      alias: {
        '@noxy-approval/core/portable': src('../../core/src/portable.ts'),
        '@noxy-approval/core': src('../../core/src/index.ts'),
      },
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(
      inputs.some((p) => p.includes('@grpc') || p.includes('node_modules/ws/') || p.includes('packages/proto/')),
    ).toBe(false);
    expect(inputs.some((p) => p.endsWith('transport-ws.ts'))).toBe(true);
    expect(inputs.some((p) => p.endsWith('file-key-store.ts') || p.endsWith('node-device.ts'))).toBe(false);
  });
});
