import { describe, expect, it } from 'vitest';
import { assertAuthToken, isLoopbackHost, parseEndpoint } from './endpoint.js';

describe('parseEndpoint', () => {
  it.each([
    ['https://relay.noxy.network', { target: 'relay.noxy.network:443', tls: true }],
    ['https://relay.noxy.network:8443/', { target: 'relay.noxy.network:8443', tls: true }],
    ['relay.noxy.network', { target: 'relay.noxy.network:443', tls: true }],
    ['relay.noxy.network:7443', { target: 'relay.noxy.network:7443', tls: true }],
    ['HTTPS://Relay.Noxy.Network', { target: 'relay.noxy.network:443', tls: true }],
    ['http://127.0.0.1:7070', { target: '127.0.0.1:7070', tls: false }],
    ['http://127.8.9.10:7070', { target: '127.8.9.10:7070', tls: false }],
    ['http://localhost:7070', { target: 'localhost:7070', tls: false }],
    ['http://[::1]:7070', { target: '[::1]:7070', tls: false }],
  ])('%s → %o', (endpoint, expected) => {
    expect(parseEndpoint(endpoint)).toMatchObject(expected);
  });

  it.each([
    'http://relay.noxy.network',
    'http://192.168.1.2:7070',
    'http://127.0.0.1.evil.example',
    'http://0.0.0.0:7070',
    'grpc://relay',
    'https://a:b@relay',
    'https://relay/x',
  ])('%s is refused', (endpoint) => {
    expect(() => parseEndpoint(endpoint)).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'endpoint' }),
    );
  });

  it.each(['127.0.0.1:7070', 'localhost:7070', '[::1]:7070'])(
    'a bare loopback address (%s) is refused with both spellings to choose from',
    (endpoint) => {
      expect(() => parseEndpoint(endpoint)).toThrow(/http:\/\/.* for the local relay .*https:\/\//);
    },
  );

  it('isLoopbackHost', () => {
    expect(['localhost', '127.0.0.1', '127.255.0.1', '::1', '[::1]', 'LOCALHOST'].every(isLoopbackHost)).toBe(true);
    expect(['localhost.', 'localhost.evil', '128.0.0.1', '::2', '0.0.0.0', '127.0.0.1.x'].some(isLoopbackHost)).toBe(
      false,
    );
  });
});

describe('assertAuthToken', () => {
  it('accepts printable ASCII tokens', () => {
    expect(() => assertAuthToken('abc.DEF-123_~!')).not.toThrow();
  });
  it.each(['', ' x', 'x y', 'x\r\ny: z', 'x\u0000', 'é', 'x\u007f'])('refuses %j without echoing it', (token) => {
    try {
      assertAuthToken(token);
      expect.unreachable();
    } catch (err) {
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'authToken' });
      if (token.length > 1) expect((err as Error).message).not.toContain(token);
    }
  });
});
