import { inspect } from 'node:util';
import { Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { pushbackMs, toNoxyError } from './grpc-errors.js';

function serviceError(code: status, details: string, trailers: Record<string, string> = {}): ServiceError {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(trailers)) metadata.set(k, v);
  return Object.assign(new Error(`${code} ${status[code]}: ${details}`), { code, details, metadata });
}

describe('pushbackMs (gRFC A6)', () => {
  it.each([
    ['1500', 1500],
    ['0', 0],
    ['-1', null],
    ['1.5', null],
    ['', null],
    ['1e3', null],
    [' 10', null],
    ['9999999999', null],
  ] as const)('%j → %s', (value, expected) => {
    expect(pushbackMs(serviceError(status.UNAVAILABLE, 'x', { 'grpc-retry-pushback-ms': value }))).toBe(expected);
  });

  it('absent → undefined; not a gRPC error → undefined', () => {
    expect(pushbackMs(serviceError(status.UNAVAILABLE, 'x'))).toBeUndefined();
    expect(pushbackMs(new Error('x'))).toBeUndefined();
    expect(pushbackMs('x')).toBeUndefined();
  });

  it('is carried on the NoxyError as retryAfterMs', () => {
    expect(
      toNoxyError(serviceError(status.RESOURCE_EXHAUSTED, 'slow down', { 'grpc-retry-pushback-ms': '250' }), 'M')
        .retryAfterMs,
    ).toBe(250);
    expect(
      toNoxyError(serviceError(status.RESOURCE_EXHAUSTED, 'slow down', { 'grpc-retry-pushback-ms': '-1' }), 'M')
        .retryAfterMs,
    ).toBeNull();
  });
});

describe('toNoxyError', () => {
  it('RESOURCE_EXHAUSTED without the trailer: "quota" in the message means QUOTA_EXHAUSTED, else RATE_LIMITED', () => {
    expect(toNoxyError(serviceError(status.RESOURCE_EXHAUSTED, 'Monthly quota exceeded'), 'M').code).toBe(
      'QUOTA_EXHAUSTED',
    );
    expect(toNoxyError(serviceError(status.RESOURCE_EXHAUSTED, 'too many requests'), 'M').code).toBe('RATE_LIMITED');
  });

  it('scrubs the secret from the message, the cause, its stack and its trailers; keeps the pushback', () => {
    const secret = 'tok_SECRET_abc123';
    const err = toNoxyError(
      serviceError(status.UNAUTHENTICATED, `token ${secret} unknown`, {
        'x-echo': `Bearer ${secret}`,
        'grpc-retry-pushback-ms': '100',
      }),
      'GetQuota',
      secret,
    );
    expect(err.code).toBe('UNAUTHENTICATED');
    expect(err.retryAfterMs).toBe(100);
    expect(inspect(err, { depth: Infinity, showHidden: true })).not.toContain(secret);
    expect(JSON.stringify(err, Object.getOwnPropertyNames(err))).not.toContain(secret);
    expect((err.cause as ServiceError).code).toBe(status.UNAUTHENTICATED);
    expect((err.cause as ServiceError).details).toBe('token [redacted] unknown');
  });

  it('keeps the original error as cause when there is nothing to scrub', () => {
    const original = serviceError(status.UNAVAILABLE, 'connection refused');
    expect(toNoxyError(original, 'M', 'tok_x').cause).toBe(original);
  });
});
