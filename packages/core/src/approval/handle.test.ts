import { describe, expect, it } from 'vitest';
import { createHandleCodec, HANDLE_PREFIX } from './handle.js';

const claims = {
  decisionId: '7c1d2a34-5b6e-4f70-8a91-b2c3d4e5f607',
  tool: 'transfer_funds',
  actionHash: 'ab'.repeat(32),
  expiresAt: Date.UTC(2026, 11, 1, 0, 10),
};
const alice = { identity: { type: 'email', id: 'alice@example.com' } as const, owner: '' };
const secret = 'a shared secret of enough length';

describe('decision handles', () => {
  it('open in another codec with the same secret (another process, a replica)', () => {
    const handle = createHandleCodec(secret).seal(claims, alice);
    expect(handle.startsWith(HANDLE_PREFIX)).toBe(true);
    expect(handle).toMatch(/^nxa1_[A-Za-z0-9_-]+$/);
    expect(createHandleCodec(secret).open(handle, alice)).toEqual(claims);
  });

  it('do not open for another identity, another owner, another secret, or after any change', () => {
    const codec = createHandleCodec(secret);
    const handle = codec.seal(claims, alice);
    expect(codec.open(handle, { ...alice, identity: { type: 'email', id: 'mallory@example.com' } })).toBeUndefined();
    expect(codec.open(handle, { ...alice, identity: { type: 'user_id', id: 'alice@example.com' } })).toBeUndefined();
    expect(codec.open(handle, { ...alice, owner: 'session:other' })).toBeUndefined();
    expect(createHandleCodec('another secret of enough length').open(handle, alice)).toBeUndefined();
    // Flip each character of the encoded part: none of the variants opens.
    const body = handle.slice(HANDLE_PREFIX.length);
    for (let i = 0; i < body.length; i++) {
      const c = body[i] === 'A' ? 'B' : 'A';
      expect(codec.open(HANDLE_PREFIX + body.slice(0, i) + c + body.slice(i + 1), alice)).toBeUndefined();
    }
    for (const junk of ['', HANDLE_PREFIX, `${HANDLE_PREFIX}!!!`, `${HANDLE_PREFIX}AAAA`, claims.decisionId]) {
      expect(codec.open(junk, alice)).toBeUndefined();
    }
  });

  it('without a secret, open only in the codec that made them', () => {
    const handle = createHandleCodec().seal(claims, alice);
    expect(createHandleCodec().open(handle, alice)).toBeUndefined();
  });

  it('refuse a short secret with a typed error', () => {
    expect(() => createHandleCodec('short')).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT', field: 'handleSecret' }),
    );
  });
});
