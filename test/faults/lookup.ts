/**
 * The reconciler's view of the relay through an agent client: GetDecisionOutcome, NOT_FOUND as
 * `missing`. Other errors are thrown: a reconciliation that cannot ask is a failed run.
 * @module
 */
import type { NoxyClient } from '@noxy-approval/core';
import type { Lookup } from './reconciler.js';

/** A {@link Lookup} over `client`. */
export function clientLookup(client: NoxyClient): Lookup {
  return async (decisionId, identity) => {
    try {
      return (await client.getDecisionOutcome({ decisionId, identity })).outcome;
    } catch (err) {
      if ((err as { code?: string }).code === 'NOT_FOUND') return 'missing';
      throw err;
    }
  };
}
