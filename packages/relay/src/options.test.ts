import { NoxyError } from '@noxy-approval/core';
import { describe, expect, it } from 'vitest';
import { exposureWarning, isLoopback, resolveOptions, type RelayOptions } from './options.js';

function fieldOf(options: unknown): string | undefined {
  try {
    resolveOptions(options as RelayOptions);
  } catch (error) {
    if (NoxyError.isInstance(error) && error.code === 'INVALID_ARGUMENT') return error.field;
    throw error;
  }
  return undefined;
}

describe('relay options', () => {
  it('refuses bad options with INVALID_ARGUMENT naming the field', () => {
    expect(fieldOf(undefined)).toBe('options');
    expect(fieldOf({})).toBe('dataDir');
    expect(fieldOf({ dataDir: ':memory:', host: 'example.com' })).toBe('host');
    expect(fieldOf({ dataDir: ':memory:', grpcPort: 70_000 })).toBe('grpcPort');
    expect(fieldOf({ dataDir: ':memory:', httpPort: -1 })).toBe('httpPort');
    expect(fieldOf({ dataDir: ':memory:', rateLimits: { agentPerSecond: 0 } })).toBe('rateLimits.agentPerSecond');
    expect(fieldOf({ dataDir: ':memory:', tls: { cert: '', key: 'k' } })).toBe('tls.cert');
    expect(fieldOf({ dataDir: ':memory:', now: 5 })).toBe('now');
    expect(fieldOf({ dataDir: ':memory:' })).toBeUndefined();
  });

  it('applies the documented defaults', () => {
    const o = resolveOptions({ dataDir: ':memory:' });
    expect(o).toMatchObject({
      host: '127.0.0.1',
      grpcPort: 0,
      httpPort: 0,
      agentPerSecond: 200,
      devicePerSecond: 20,
      defaultTtlSeconds: 600,
      replayWindowMs: 300_000,
      exposeDeviceSigningKeys: false,
    });
  });

  it('knows loopback addresses', () => {
    expect(['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost'].every(isLoopback)).toBe(true);
    expect(['0.0.0.0', '192.168.1.2', '::'].some(isLoopback)).toBe(false);
  });

  it('warns about a non-loopback address without TLS, and only then', () => {
    expect(exposureWarning('0.0.0.0', false)).toMatch(/WITHOUT TLS/);
    expect(exposureWarning('192.168.1.20', false)).toMatch(/--tls-cert/);
    expect(exposureWarning('0.0.0.0', true)).toBeUndefined();
    expect(exposureWarning('127.0.0.1', false)).toBeUndefined();
  });
});
