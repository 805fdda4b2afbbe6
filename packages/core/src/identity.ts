/**
 * Noxy identities (docs/protocol.md §6): `wallet` (EVM 0x address), `email`, `phone` (E.164) and
 * `user_id` (an opaque id of your own). One identity has many devices.
 *
 * Ids are used byte-exact — no case folding, trimming or checksumming — because the relay,
 * the registration HMAC and the devices' storage keys all use the string exactly as given.
 * Obviously malformed ids are refused before any RPC.
 * @module
 */
import { describe, invalidArgument } from './errors.js';

/** The four identity kinds, as written on the wire (`identityTypeWire`). */
export type IdentityType = 'wallet' | 'email' | 'phone' | 'user_id';

/** All identity kinds, in proto enum order (IDENTITY_TYPE_WALLET = 0 … USER_ID = 3). */
export const IDENTITY_TYPES: readonly IdentityType[] = ['wallet', 'email', 'phone', 'user_id'];

/** A validated identity. */
export interface Identity {
  readonly type: IdentityType;
  readonly id: string;
}

/** What APIs accept: a bare string (kind inferred) or an explicit `{ type, id }`. */
export type IdentityInput = string | { type: IdentityType; id: string };

const WALLET = /^0x[0-9a-fA-F]{40}$/;
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const PHONE = /^\+[1-9][0-9]{1,14}$/;
// C0/C1 controls, DEL, bidi and zero-width format characters: never part of an honest id.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/u;
const MAX_LENGTH = 256;

const EXPECTED: Record<IdentityType, string> = {
  wallet: 'an EVM address 0x followed by 40 hex digits',
  email: 'an email address like name@example.com',
  phone: 'an E.164 phone number like +15551234567',
  user_id: `a non-empty id of at most ${MAX_LENGTH} characters without control characters or surrounding spaces`,
};

function valid(type: IdentityType, id: string): boolean {
  if (id.length === 0 || id.length > MAX_LENGTH || UNSAFE.test(id)) return false;
  switch (type) {
    case 'wallet':
      return WALLET.test(id);
    case 'email':
      return EMAIL.test(id);
    case 'phone':
      return PHONE.test(id);
    case 'user_id':
      return id.trim() === id;
  }
}

/** Infers the kind of a bare identity string: 0x-address, email, +E.164, else user_id. */
export function inferIdentityType(id: string): IdentityType {
  // Anything shaped like an address is checked as one, so a typo is refused, not re-typed.
  if (/^0x/i.test(id)) return 'wallet';
  if (id.includes('@')) return 'email';
  if (id.startsWith('+')) return 'phone';
  return 'user_id';
}

/**
 * Validates an identity and returns it in `{ type, id }` form.
 * @param input a bare string (kind inferred) or `{ type, id }`
 * @param field the option name used in error messages
 * @throws NoxyError `INVALID_ARGUMENT` naming the field and the expected form
 * @example
 * parseIdentity('+15551234567') // { type: 'phone', id: '+15551234567' }
 */
export function parseIdentity(input: IdentityInput, field = 'identity'): Identity {
  if (typeof input === 'string') {
    const type = inferIdentityType(input);
    if (!valid(type, input)) throw invalidArgument(field, EXPECTED[type], describe(input));
    return { type, id: input };
  }
  if (typeof input !== 'object' || input === null) {
    throw invalidArgument(field, 'a string or { type, id }', describe(input));
  }
  const { type, id } = input;
  if (!IDENTITY_TYPES.includes(type)) {
    throw invalidArgument(`${field}.type`, `one of ${IDENTITY_TYPES.join(', ')}`, describe(type));
  }
  if (typeof id !== 'string' || !valid(type, id)) throw invalidArgument(`${field}.id`, EXPECTED[type], describe(id));
  return { type, id };
}
