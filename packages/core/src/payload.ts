/**
 * Serialises a decision to the UTF-8 JSON plaintext of the envelope (docs/protocol.md §2.5).
 *
 * Same output as the official Node SDK's `JSONStringify` (json-with-bigint) for the values it
 * accepts: compact JSON, BigInt as bare digits; written by core's one JSON writer
 * (json-text.ts), which refuses what it cannot write faithfully, naming the field.
 * @module
 */
import { NoxyError } from './errors.js';
import { jsonText, refuseJson as fail } from './json-text.js';

/** Largest accepted plaintext, well inside gRPC's 4 MiB message limit. */
export const MAX_DECISION_BYTES = 256 * 1024;

/**
 * Canonical-free, faithful JSON of a decision object.
 * @param decision a plain JSON object (devices such as iOS require an object at the top)
 * @param field the argument name used in error messages
 * @throws NoxyError `INVALID_ARGUMENT` naming the offending path
 */
export function serializeDecision(decision: unknown, field = 'decision'): Uint8Array {
  if (typeof decision !== 'object' || decision === null || Array.isArray(decision)) {
    fail(field, 'a plain JSON object', decision);
  }
  const text = jsonText(decision, field, false);
  // A top-level toJSON (a Date, say) may turn the object into a string or an array.
  if (!text.startsWith('{')) fail(field, 'a plain JSON object', decision);
  const bytes = new TextEncoder().encode(text);
  if (bytes.length > MAX_DECISION_BYTES) {
    throw new NoxyError(
      'INVALID_ARGUMENT',
      `"${field}" expected at most ${MAX_DECISION_BYTES} bytes of JSON, got ${bytes.length}`,
      { field },
    );
  }
  return bytes;
}
