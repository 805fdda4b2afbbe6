import { describe, expect, it } from 'vitest';
import { configWarnings, loadConfig, maskIdentity } from './config.js';

const good = { NOXY_ENDPOINT: 'http://127.0.0.1:7070', NOXY_AUTH_TOKEN: 'tok_123', NOXY_IDENTITY: 'alice@example.com' };

describe('loadConfig', () => {
  it('accepts a complete configuration with defaults', () => {
    const r = loadConfig(good);
    expect(r).toEqual({
      ok: true,
      config: {
        endpoint: good.NOXY_ENDPOINT,
        authToken: 'tok_123',
        identity: { type: 'email', id: 'alice@example.com' },
        ttlSeconds: 600,
        holdSeconds: 45,
        handleSecret: expect.stringContaining('tok_123'),
        requireDeviceSignature: false,
      },
    });
  });

  it('reads NOXY_REQUIRE_DEVICE_SIGNATURE, refusing a value it does not know', () => {
    expect(loadConfig({ ...good, NOXY_REQUIRE_DEVICE_SIGNATURE: 'true' })).toMatchObject({
      config: { requireDeviceSignature: true },
    });
    expect(loadConfig({ ...good, NOXY_REQUIRE_DEVICE_SIGNATURE: '0' })).toMatchObject({
      config: { requireDeviceSignature: false },
    });
    const bad = loadConfig({ ...good, NOXY_REQUIRE_DEVICE_SIGNATURE: 'maybe' });
    expect(bad.ok ? [] : bad.problems).toEqual([expect.stringContaining('NOXY_REQUIRE_DEVICE_SIGNATURE must be')]);
  });

  it('takes a handle secret of its own, at least 16 characters', () => {
    const own = loadConfig({ ...good, NOXY_HANDLE_SECRET: 'a-long-random-handle-secret' });
    expect(own.ok && own.config.handleSecret).toBe('a-long-random-handle-secret');
    const short = loadConfig({ ...good, NOXY_HANDLE_SECRET: 'short' });
    expect(short.ok ? [] : short.problems).toEqual([expect.stringContaining('NOXY_HANDLE_SECRET')]);
  });

  it('reports every problem at once, one message each', () => {
    const r = loadConfig({ NOXY_DECISION_TTL_SECONDS: '0', NOXY_HOLD_SECONDS: 'soon' });
    expect(r.ok).toBe(false);
    const problems = r.ok ? [] : r.problems;
    expect(problems).toHaveLength(5);
    for (const name of [
      'NOXY_ENDPOINT',
      'NOXY_AUTH_TOKEN',
      'NOXY_IDENTITY',
      'NOXY_DECISION_TTL_SECONDS',
      'NOXY_HOLD_SECONDS',
    ]) {
      expect(problems.filter((p) => p.startsWith(name))).toHaveLength(1);
    }
  });

  it('refuses plaintext to a non-loopback relay and header-injecting tokens without echoing them', () => {
    const r = loadConfig({ ...good, NOXY_ENDPOINT: 'http://10.0.0.5:7070', NOXY_AUTH_TOKEN: 'abc\r\nX-Evil: 1' });
    expect(r.ok).toBe(false);
    const text = r.ok ? '' : r.problems.join('\n');
    expect(text).toContain('https://');
    expect(text).not.toContain('X-Evil');
  });

  it('infers the identity kind, and `kind:id` forces it', () => {
    const phone = loadConfig({ ...good, NOXY_IDENTITY: '+15551234567' });
    expect(phone.ok && phone.config.identity).toEqual({ type: 'phone', id: '+15551234567' });
    const forced = loadConfig({ ...good, NOXY_IDENTITY: 'user_id:+15551234567' });
    expect(forced.ok && forced.config.identity).toEqual({ type: 'user_id', id: '+15551234567' });
    expect(loadConfig({ ...good, NOXY_IDENTITY: '0x123' }).ok).toBe(false);
  });

  it('masks the identity for logs, keeping enough to spot a typo', () => {
    expect(maskIdentity({ type: 'email', id: 'alice@example.com' })).toBe('email al…e@example.com');
    expect(maskIdentity({ type: 'phone', id: '+15551234567' })).toBe('phone +15…4567');
    expect(maskIdentity({ type: 'wallet', id: '0x000000000000000000000000000000000000dEaD' })).toBe(
      'wallet 0x0000…dEaD',
    );
    expect(maskIdentity({ type: 'user_id', id: 'u1' })).toBe('user_id u…');
  });

  it('warns about a hold above 55 s (hosts cut calls at about 60 s)', () => {
    const r = loadConfig({ ...good, NOXY_HOLD_SECONDS: '58' });
    expect(r.ok && configWarnings(r.config)).toEqual([expect.stringContaining('NOXY_HOLD_SECONDS=58 is above 55')]);
    const d = loadConfig(good);
    expect(d.ok && configWarnings(d.config)).toEqual([]);
  });
});
