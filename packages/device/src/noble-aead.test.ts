import { webCryptoAead } from '@noxy-approval/core/portable';
import { describe, expect, it } from 'vitest';
import { webSocketUrl } from './transport-ws.js';
import { nobleAead } from './noble-aead.js';

const key = new Uint8Array(32).map((_, i) => i);
const nonce = new Uint8Array(12).map((_, i) => 100 + i);
const text = new TextEncoder().encode('{"tool":"delete_file"}');

describe('nobleAead (AES-256-GCM without crypto.subtle)', () => {
  it('produces exactly what WebCrypto produces, and each opens the other', async () => {
    const a = await nobleAead.encrypt(key, nonce, text);
    const b = await webCryptoAead.encrypt(key, nonce, text);
    expect(a).toEqual(b);
    expect(await nobleAead.decrypt(key, nonce, b)).toEqual(text);
    expect(await webCryptoAead.decrypt(key, nonce, a)).toEqual(text);
  });

  it('refuses a flipped byte with CRYPTO, and non-256-bit keys', async () => {
    const sealed = (await nobleAead.encrypt(key, nonce, text)).slice();
    sealed[3]! ^= 1;
    expect(() => nobleAead.decrypt(key, nonce, sealed)).toThrow(expect.objectContaining({ code: 'CRYPTO' }));
    expect(() => nobleAead.encrypt(key.subarray(0, 16), nonce, text)).toThrow(/32 bytes/);
  });
});

describe('webSocketUrl allowPlaintext', () => {
  it('refuses plain http to a LAN host unless the page asks for it', () => {
    expect(() => webSocketUrl('http://192.168.1.20:7071')).toThrow(/https/);
    expect(webSocketUrl('http://192.168.1.20:7071', true)).toBe('ws://192.168.1.20:7071/');
    expect(webSocketUrl('https://192.168.1.20:7071', true)).toBe('wss://192.168.1.20:7071/');
  });
});
