/**
 * The framework-neutral approval engine shared by the MCP, LangChain and AI SDK wrappers:
 * validate the request, build the payload with its `action_hash`, send it to every device of
 * the configured identity, hold for a bounded time, and return an `ApprovalResult` whose
 * `message` is what the model should read.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { assertDelivered, checkTtl, type NoxyClient } from '../client.js';
import { systemClock, type Clock } from '../clock.js';
import { NoxyError } from '../errors.js';
import { parseIdentity, type IdentityInput } from '../identity.js';
import { isTerminalOutcome, type DecisionOutcome } from '../outcome.js';
import type { WaitResult } from '../wait.js';
import { buildApprovalPayload, type AgentInfo } from './action.js';
import { outcomeMessage, repeatedOutcomeMessage } from './messages.js';
import { MemoryApprovalStore, type ApprovalRecord, type ApprovalStore } from './store.js';
import { approvalInputSchema, checkApprovalInputSchema, type ApprovalOutput } from './tool-definition.js';

/** The result of a request or a check. */
export interface ApprovalResult {
  outcome: DecisionOutcome;
  decisionId: string;
  actionHash: string;
  tool: string;
  /** ISO time the outcome was observed (terminal outcomes only). */
  decidedAt?: string;
  /** ISO time the decision expires. */
  expiresAt: string;
  /** What the model should read. */
  message: string;
  /**
   * True when this terminal outcome was already reported by an earlier call: an approval
   * covers one execution, so a repeated `approved` must not be acted on again.
   */
  alreadyReported?: boolean;
}

/** Options of {@link createApprovalEngine}. */
export interface ApprovalEngineOptions {
  client: NoxyClient;
  /** TTL of each approval in seconds, 1 … 604800 (default: the client's decisionTtlSeconds). */
  ttlSeconds?: number;
  /** Shown to the human as the requester. */
  agent?: AgentInfo;
  store?: ApprovalStore;
  clock?: Clock;
}

/** Per-call options. */
export interface ApprovalCallOptions {
  /** Who to ask — from configuration, never from the model. */
  identity: IdentityInput;
  /** Longest time to hold before answering `pending` (default: until the decision expires). */
  holdMs?: number;
  signal?: AbortSignal;
  /** Called after every outcome poll. */
  onPoll?: (info: { polls: number; outcome: DecisionOutcome; elapsedMs: number }) => void;
}

/** The engine. */
export interface ApprovalEngine {
  /** Sends a new approval request and waits (bounded by `holdMs`). */
  requestApproval(input: unknown, options: ApprovalCallOptions): Promise<ApprovalResult>;
  /** Resumes waiting on a decision this engine created. */
  checkApproval(input: unknown, options: ApprovalCallOptions): Promise<ApprovalResult>;
}

/**
 * Parses with a zod schema into a `NoxyError('INVALID_ARGUMENT')` naming the first bad field.
 */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown, what: string): z.infer<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const path = issue.path.length > 0 ? issue.path.join('.') : what;
  const extra =
    issue.code === 'unrecognized_keys'
      ? ` (${issue.keys.join(', ')}: the identity, endpoint and token come from configuration, not from tool arguments)`
      : '';
  throw new NoxyError('INVALID_ARGUMENT', `"${path}" ${issue.message}${extra}`, { field: path });
}

/** Converts a result to the snake_case structured output the tools return. */
export function toApprovalOutput(r: ApprovalResult): ApprovalOutput {
  return {
    outcome: r.outcome,
    decision_id: r.decisionId,
    action_hash: r.actionHash,
    tool: r.tool,
    expires_at: r.expiresAt,
    ...(r.decidedAt ? { decided_at: r.decidedAt } : {}),
    message: r.message,
    ...(r.alreadyReported ? { already_reported: true } : {}),
  };
}

function resultOf(record: ApprovalRecord, outcome: DecisionOutcome, alreadyReported = false): ApprovalResult {
  const expiresAt = new Date(record.expiresAt).toISOString();
  const facts = { tool: record.tool, decisionId: record.decisionId, expiresAt };
  if (alreadyReported) {
    return {
      outcome,
      decisionId: record.decisionId,
      actionHash: record.actionHash,
      tool: record.tool,
      ...(record.decidedAt !== undefined ? { decidedAt: new Date(record.decidedAt).toISOString() } : {}),
      expiresAt,
      message: repeatedOutcomeMessage(outcome, facts),
      alreadyReported: true,
    };
  }
  return {
    outcome,
    decisionId: record.decisionId,
    actionHash: record.actionHash,
    tool: record.tool,
    ...(record.decidedAt !== undefined && isTerminalOutcome(outcome)
      ? { decidedAt: new Date(record.decidedAt).toISOString() }
      : {}),
    expiresAt,
    message: outcomeMessage(outcome, facts),
  };
}

/**
 * Creates the approval engine.
 * @example
 * const engine = createApprovalEngine({ client });
 * const r = await engine.requestApproval({ tool: 'transfer_funds', args, title: 'Send 25 USDC' }, { identity: 'alice@example.com', holdMs: 45_000 });
 */
export function createApprovalEngine(options: ApprovalEngineOptions): ApprovalEngine {
  const { client, agent } = options;
  const store = options.store ?? new MemoryApprovalStore();
  const clock = options.clock ?? systemClock;
  const ttlSeconds = options.ttlSeconds === undefined ? client.ttlSeconds : checkTtl(options.ttlSeconds, 'ttlSeconds');

  async function wait(record: ApprovalRecord, call: ApprovalCallOptions): Promise<ApprovalResult> {
    const result: WaitResult = await client.waitForDecisionOutcome({
      decisionId: record.decisionId,
      identity: record.identity,
      expiresAt: record.expiresAt,
      ...(call.holdMs !== undefined ? { maxWaitMs: call.holdMs } : {}),
      ...(call.signal ? { signal: call.signal } : {}),
      ...(call.onPoll ? { onPoll: call.onPoll } : {}),
    });
    if (isTerminalOutcome(result.outcome)) {
      const final: ApprovalRecord = { ...record, outcome: result.outcome, decidedAt: result.observedAt };
      await store.set(final);
      return resultOf(final, result.outcome);
    }
    return resultOf(record, 'pending');
  }

  return {
    async requestApproval(input, call) {
      const { tool, args, title, summary } = parseOrThrow(approvalInputSchema, input, 'input');
      const identity = parseIdentity(call.identity, 'identity');
      const decisionId = randomUUID();
      const requestedAt = clock.now();
      const payload = buildApprovalPayload({
        decisionId,
        tool,
        args,
        title,
        summary,
        requestedAt,
        expiresAt: requestedAt + ttlSeconds * 1000,
        agent,
      });
      const record: ApprovalRecord = {
        decisionId,
        identity,
        tool,
        actionHash: payload.action_hash,
        expiresAt: Date.parse(payload.expires_at),
      };
      const sent = await client.sendDecision(identity, payload, {
        decisionId,
        ttlSeconds,
        ...(call.signal ? { signal: call.signal } : {}),
      });
      assertDelivered(sent);
      await store.set(record);
      // The hold bounds the whole call (an MCP host's timeout counts from the request), so the
      // time spent sending comes off it.
      const spent = clock.now() - requestedAt;
      return wait(record, call.holdMs === undefined ? call : { ...call, holdMs: Math.max(1, call.holdMs - spent) });
    },

    async checkApproval(input, call) {
      const { decision_id } = parseOrThrow(checkApprovalInputSchema, input, 'input');
      const identity = parseIdentity(call.identity, 'identity');
      const record = await store.get(decision_id);
      // Same answer for unknown and foreign ids: nothing about other identities leaks.
      if (!record || record.identity.id !== identity.id || record.identity.type !== identity.type) {
        throw new NoxyError(
          'NOT_FOUND',
          `unknown decision_id "${decision_id}": it was not created by this approval server for this user; request a new approval`,
          { field: 'decision_id' },
        );
      }
      // Reported once already (by the request or an earlier check): say so, so an approval is
      // never taken as permission for a second execution.
      if (record.outcome) return resultOf(record, record.outcome, true);
      return wait(record, call);
    },
  };
}
