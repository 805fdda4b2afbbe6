/**
 * The `request_human_approval` tool as every wrapper (MCP, LangChain, AI SDK) exposes it:
 * one name, one description, one zod input schema, defined here so they cannot drift.
 *
 * The schema is strict: the identity to ask, the relay endpoint and the token are
 * configuration, never model-written arguments (docs/security.md §4), so an extra key such
 * as `identity` is refused rather than ignored.
 * @module
 */
import { z } from 'zod';
import { HANDLE_PREFIX } from './handle.js';

/** The tool name shared by all wrappers. */
export const APPROVAL_TOOL_NAME = 'request_human_approval';

/** The companion tool that resumes a wait (MCP). */
export const CHECK_APPROVAL_TOOL_NAME = 'check_human_approval';

/** What the model reads about the tool. */
export const APPROVAL_TOOL_DESCRIPTION = [
  'Ask the user to approve an action on their own phone or browser before you perform it.',
  'Call this BEFORE any risky, irreversible, costly or externally visible action (payments, deletions,',
  'deployments, sending messages, changing permissions). Pass the exact tool name and the exact',
  'arguments you intend to use: the user sees them verbatim, and the approval is bound to them.',
  'Returns outcome "approved" (you may proceed with exactly those arguments), "rejected" (do not',
  'perform it, do not retry or work around it), "expired" (nobody answered; nothing was done), or',
  '"pending" (the user has not answered yet: do nothing until it is approved; the result says how to keep waiting).',
].join(' ');

/** Description of the check tool. */
export const CHECK_APPROVAL_TOOL_DESCRIPTION = [
  'Continue waiting for the answer to an earlier request_human_approval that returned "pending".',
  'Pass the handle (or decision_id) it returned. Returns the same outcomes.',
  'Never perform the action unless this returns "approved".',
].join(' ');

/** Largest accepted serialised arguments (defined with the canonical form it measures). */
export { MAX_ACTION_BYTES } from './action.js';

/** Input of `request_human_approval`. */
export const approvalInputSchema = z
  .object({
    tool: z
      .string()
      .min(1)
      .max(128)
      .describe('The exact name of the tool or action you want to run, e.g. "transfer_funds".'),
    args: z
      // A top-level "__proto__" key (legal in JSON) would be silently dropped by the record
      // parse — the human would approve arguments other than the ones sent: refuse it.
      .preprocess(
        (value, ctx) => {
          if (typeof value === 'object' && value !== null && Object.hasOwn(value, '__proto__')) {
            ctx.issues.push({
              code: 'custom',
              message: '"__proto__" is not allowed as an argument name',
              input: value,
            });
          }
          return value;
        },
        z.record(z.string(), z.unknown()),
      )
      .describe('The exact arguments you will pass to that tool, as a JSON object.'),
    title: z.string().min(1).max(140).describe('A short title for the user, e.g. "Send 25 USDC to Bob".'),
    summary: z
      .string()
      .max(2000)
      .optional()
      .describe('Why you want to do it, in one or two sentences. Shown to the user, labelled as written by you.'),
  })
  .strict();

/** Parsed input of `request_human_approval`. */
export type ApprovalInput = z.infer<typeof approvalInputSchema>;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Input of `check_human_approval`. */
export const checkApprovalInputSchema = z
  .object({
    decision_id: z
      .string()
      .max(1024)
      .refine((v) => UUID.test(v) || (v.startsWith(HANDLE_PREFIX) && /^[A-Za-z0-9_-]+$/.test(v)), {
        message:
          `expected the handle ("${HANDLE_PREFIX}…") or the decision_id (a UUID) ` +
          'that request_human_approval returned',
      })
      .describe(
        `The handle ("${HANDLE_PREFIX}…") that request_human_approval returned, exactly as given ` +
          '(its decision_id also works while the same server process runs).',
      ),
  })
  .strict();
/** Parsed input of `check_human_approval`. */
export type CheckApprovalInput = z.infer<typeof checkApprovalInputSchema>;

/** Structured result of both tools (snake_case: it is read by models). */
export const approvalOutputSchema = z.object({
  outcome: z.enum(['approved', 'rejected', 'expired', 'pending']),
  decision_id: z.string(),
  /** Resumes the wait from any process with the same configuration (see check_human_approval). */
  handle: z.string(),
  action_hash: z.string(),
  tool: z.string(),
  expires_at: z.string(),
  decided_at: z.string().optional(),
  message: z.string(),
  /** Present (true) when an earlier call already reported this terminal outcome. */
  already_reported: z.boolean().optional(),
});

/** Structured result as a type. */
export type ApprovalOutput = z.infer<typeof approvalOutputSchema>;
