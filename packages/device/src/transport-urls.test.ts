import { describe, expect, it } from 'vitest';
import { grpcTarget } from './transport-grpc.js';
import { webSocketUrl } from './transport-ws.js';

describe('relay URL policy: TLS everywhere, plaintext only on loopback', () => {
  it('gRPC', () => {
    expect(grpcTarget('https://relay.noxy.network')).toEqual({ address: 'relay.noxy.network:443', tls: true });
    expect(grpcTarget('https://relay.example:8443/')).toEqual({ address: 'relay.example:8443', tls: true });
    expect(grpcTarget('http://127.0.0.1:7070')).toEqual({ address: '127.0.0.1:7070', tls: false });
    expect(grpcTarget('http://localhost')).toEqual({ address: 'localhost:80', tls: false });
    expect(grpcTarget('http://[::1]:7070')).toEqual({ address: '[::1]:7070', tls: false });
    for (const bad of [
      'http://192.168.1.5:7070',
      'http://relay.example',
      'ws://127.0.0.1:1',
      'relay.example:443',
      'https://u:p@relay.example',
      'https://relay.example/path',
    ]) {
      expect(() => grpcTarget(bad), bad).toThrowError(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'relayUrl' }),
      );
    }
  });

  it('WebSocket', () => {
    expect(webSocketUrl('https://relay.example')).toBe('wss://relay.example/');
    expect(webSocketUrl('wss://relay.example/ws')).toBe('wss://relay.example/ws');
    expect(webSocketUrl('http://127.0.0.1:7071')).toBe('ws://127.0.0.1:7071/');
    expect(webSocketUrl('ws://localhost:7071/')).toBe('ws://localhost:7071/');
    for (const bad of ['http://10.0.0.2:7071', 'ws://relay.example', 'ftp://127.0.0.1', 'nope']) {
      expect(() => webSocketUrl(bad), bad).toThrowError(
        expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'relayUrl' }),
      );
    }
  });
});
