/**
 * Who is asked for an approval: configuration, never model-written arguments (docs/security.md §4).
 * Every wrapper takes an `IdentitySource`: a fixed identity, or a resolver of the call's own
 * context (an MCP session, a LangChain run's `configurable`, an AI SDK call's context), so a
 * multi-user app routes each call to the right person.
 * @module
 */
import { NoxyError } from '../errors.js';
import { parseIdentity, type Identity, type IdentityInput } from '../identity.js';

/** A fixed identity, or a function of the call's context that names one. */
export type IdentitySource<Context = unknown> =
  | IdentityInput
  | ((context: Context) => IdentityInput | Promise<IdentityInput>);

/**
 * Checks a source when a wrapper is created: a fixed identity is validated at once, so a typo
 * fails at start-up rather than on the first risky call.
 * @throws NoxyError `INVALID_ARGUMENT` naming `field`
 */
export function checkIdentitySource<C>(source: IdentitySource<C>, field = 'identity'): IdentitySource<C> {
  if (typeof source === 'function') return source;
  parseIdentity(source, field);
  return source;
}

/**
 * Resolves the identity for one call.
 * @throws NoxyError `INVALID_ARGUMENT` when the resolver fails or names no valid identity
 *   (fail closed: nobody is asked, nothing runs)
 */
export async function resolveIdentity<C>(source: IdentitySource<C>, context: C, field = 'identity'): Promise<Identity> {
  if (typeof source !== 'function') return parseIdentity(source, field);
  let resolved: IdentityInput;
  try {
    resolved = await source(context);
  } catch (cause) {
    if (NoxyError.isInstance(cause)) throw cause;
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new NoxyError('INVALID_ARGUMENT', `"${field}" resolver failed (${why}); nobody was asked`, { field, cause });
  }
  return parseIdentity(resolved, field);
}
