import { describe, expect, it } from 'vitest';
import { fakeClient } from '../test-support/fake-client.js';
import { defaultTitle, setupWrapper } from './wrapper.js';

describe('wrapper options', () => {
  it('takes a client, or endpoint and token, never both or neither', () => {
    const { client } = fakeClient();
    expect(setupWrapper({ client, identity: 'alice@example.com' }).client).toBe(client);
    const made = setupWrapper({ endpoint: 'http://127.0.0.1:1', authToken: 't', identity: 'alice@example.com' });
    made.close();
    const both = { client, endpoint: 'http://127.0.0.1:1', authToken: 't', identity: 'alice@example.com' };
    expect(() => setupWrapper(both)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'client' }));
    expect(() => setupWrapper({ identity: 'alice@example.com' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'endpoint' }),
    );
  });

  it('checks a fixed identity and the hold at once', () => {
    const { client } = fakeClient();
    expect(() => setupWrapper({ client, identity: 'not an email@' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'identity' }),
    );
    expect(() => setupWrapper({ client, identity: 'alice@example.com', holdMs: 0 })).toThrow(
      expect.objectContaining({ field: 'holdMs' }),
    );
  });

  it('passes requireDeviceSignature to the client it creates and to the engine; refuses a non-boolean', () => {
    const made = setupWrapper({
      endpoint: 'http://127.0.0.1:1',
      authToken: 't',
      identity: 'alice@example.com',
      requireDeviceSignature: true,
    });
    expect(made.client.requireDeviceSignature).toBe(true);
    expect(made.engine.requireDeviceSignature).toBe(true);
    made.close();
    const { client } = fakeClient();
    expect(setupWrapper({ client, identity: 'alice@example.com', requireDeviceSignature: true }).engine).toMatchObject({
      requireDeviceSignature: true,
    });
    expect(setupWrapper({ client, identity: 'alice@example.com' }).engine.requireDeviceSignature).toBe(false);
    expect(() =>
      setupWrapper({ client, identity: 'alice@example.com', requireDeviceSignature: 'yes' as never }),
    ).toThrow(expect.objectContaining({ field: 'requireDeviceSignature' }));
  });

  it('derives a short title from the tool and its arguments', () => {
    expect(defaultTitle('transfer_funds', { to: 'bob', amount: 25 })).toBe(
      'Run transfer_funds (to: "bob", amount: 25)',
    );
    expect(defaultTitle('reboot', {})).toBe('Run reboot');
    const long = defaultTitle('t', { a: 'x'.repeat(500), b: 'y'.repeat(500), c: 'z'.repeat(500), d: 1n });
    expect(long.length).toBeLessThanOrEqual(140);
    expect(long.endsWith('…')).toBe(true);
  });
});
