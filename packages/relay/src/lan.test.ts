import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { firstLanAddress, lanWarning, selfSignedCert } from './lan.js';

describe('LAN helpers', () => {
  it('picks the first non-internal IPv4 address', () => {
    const ifs = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true }],
      eth0: [
        { address: 'fe80::1', family: 'IPv6', internal: false },
        { address: '192.168.1.20', family: 'IPv4', internal: false },
      ],
      wlan0: [{ address: '169.254.3.4', family: 'IPv4', internal: false }],
    } as unknown as Parameters<typeof firstLanAddress>[0];
    expect(firstLanAddress(ifs)).toBe('192.168.1.20');
    expect(firstLanAddress({})).toBeUndefined();
  });

  it('warns clearly, saying whether the traffic is in clear text', () => {
    expect(lanWarning('192.168.1.20', 'none')).toMatch(/WARNING.*192\.168\.1\.20[\s\S]*CLEAR TEXT/);
    expect(lanWarning('192.168.1.20', 'self-signed')).toMatch(/SELF-SIGNED/);
  });

  it('makes a self-signed certificate for the LAN address and loopback', async () => {
    const c = await selfSignedCert(['192.168.1.20']);
    const x = new X509Certificate(c.cert);
    expect(x.subjectAltName).toContain('IP Address:192.168.1.20');
    expect(x.subjectAltName).toContain('IP Address:127.0.0.1');
    expect(x.checkPrivateKey((await import('node:crypto')).createPrivateKey(c.key))).toBe(true);
    expect(c.fingerprint256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });
});
