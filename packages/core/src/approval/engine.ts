/**
 * The framework-neutral approval engine under every wrapper (MCP, LangChain, AI SDK): build the
 * payload with its `action_hash`, send it to every device of the configured identity, hold for a
 * bounded time, and return an `ApprovalResult` whose `message` is what the model should read.
 *
 * Two faces: a typed one (`request`, `resume`) for code, and a tool-shaped one
 * (`requestApproval`, `checkApproval`) that parses model-written input with the shared zod
 * schemas first. A pending decision is resumed by its handle from any process with the same
 * configuration, or by its bare id where this engine's store knows it; unknown, foreign and
 * forged references are refused as `NOT_FOUND` without a relay call.
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { assertDelivered, checkTtl, type NoxyClient } from '../client.js';
import { systemClock, type Clock } from '../clock.js';
import { NoxyError } from '../errors.js';
import { parseIdentity, type Identity, type IdentityInput } from '../identity.js';
import { isTerminalOutcome, type DecisionOutcome, type TerminalOutcome } from '../outcome.js';
import type { DeviceVerification, VerificationFailure } from '../outcome-verification.js';
import { buildApprovalPayload, computeActionHash, type AgentInfo } from './action.js';
import { createHandleCodec, looksLikeHandle } from './handle.js';
import {
  outcomeMessage,
  repeatedOutcomeMessage,
  unverifiedApprovalMessage,
  type MessageFacts,
  type PendingHint,
} from './messages.js';
import { MemoryApprovalStore, type ApprovalRecord, type ApprovalStore } from './store.js';
import { approvalInputSchema, checkApprovalInputSchema, type ApprovalOutput } from './tool-definition.js';

/** What to ask approval for: the exact tool and arguments, and the agent's text for the human. */
export interface ApprovalRequest {
  tool: string;
  args: Record<string, unknown>;
  /** Agent-written; shown labelled as such. */
  title: string;
  summary?: string | undefined;
}

/** The result of a request or a resume. */
export interface ApprovalResult {
  outcome: DecisionOutcome;
  decisionId: string;
  /** Resumes the wait from any process with the same configuration. */
  handle: string;
  actionHash: string;
  tool: string;
  /** Who was asked. */
  identity: Identity;
  /** The requester named in the hashed action (the engine's `agent`). */
  agent?: AgentInfo | undefined;
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
  /**
   * For approved and rejected outcomes seen by this call: whether the deciding device's Ed25519
   * signature verified against its pinned key, and which device it was (docs/security.md).
   */
  verification?: DeviceVerification;
  /**
   * Set when the relay reported an approval that did not verify while device signatures are
   * required: the outcome is then `rejected`, and this says why (the gate refuses with it).
   */
  unverifiedApproval?: VerificationFailure;
}

/** Options of {@link createApprovalEngine}. */
export interface ApprovalEngineOptions {
  client: NoxyClient;
  /** TTL of each approval in seconds, 1 … 604800 (default: the client's decisionTtlSeconds). */
  ttlSeconds?: number;
  /** Shown to the human as the requester; part of the hashed action. */
  agent?: AgentInfo;
  store?: ApprovalStore;
  clock?: Clock;
  /**
   * Keys decision handles (≥ 16 bytes). Give every process that should resume the same
   * decisions the same secret; omitted → a random key, so handles resume only in this process.
   */
  handleSecret?: string | Uint8Array;
  /** The wrapper's sentence on how to keep waiting, appended to the `pending` message. */
  pendingHint?: PendingHint;
  /**
   * Only device-signed approvals count (default: the client's `requireDeviceSignature`): an
   * approval that does not verify is reported as `rejected` with `unverifiedApproval` set, and
   * the gate never runs it.
   */
  requireDeviceSignature?: boolean;
}

/** Per-call context: who is asked and how long to wait. */
export interface ApprovalContext {
  /** Who to ask — from configuration, never from the model. */
  identity: IdentityInput;
  /**
   * Who owns the decision: an authenticated principal or a session id. Only the same owner (and
   * identity) can resume it. Default `''`: the identity alone.
   */
  owner?: string;
  /** Longest time this call holds before answering `pending` (default: until the decision expires). */
  holdMs?: number;
  signal?: AbortSignal;
  /** Called after every outcome poll. */
  onPoll?: (info: { polls: number; outcome: DecisionOutcome; elapsedMs: number }) => void;
  /**
   * Makes `request` idempotent, e.g. the model's tool call id: a retried step with the same key
   * (same owner and identity) continues the decision the first attempt made instead of asking
   * again, and reports it as already reported once it was. Honoured until the decision expires;
   * after that the same key makes a new decision.
   */
  idempotencyKey?: string;
}

/** @deprecated the former name of {@link ApprovalContext} */
export type ApprovalCallOptions = ApprovalContext;

/** The engine. */
export interface ApprovalEngine {
  /** The requester named in every hashed action. */
  readonly agent: AgentInfo | undefined;
  /** The engine's time: the gate checks expiry against the same clock. */
  readonly clock: Clock;
  /** Whether only device-signed approvals count; the gate enforces it too. */
  readonly requireDeviceSignature: boolean;
  /** Sends a new approval request and waits (bounded by `holdMs`). */
  request(request: ApprovalRequest, context: ApprovalContext): Promise<ApprovalResult>;
  /** Resumes waiting on a decision by its handle, or by its id where this engine's store has it. */
  resume(ref: string, context: ApprovalContext): Promise<ApprovalResult>;
  /** Tool-shaped `request`: parses model-written input with the shared schema first. */
  requestApproval(input: unknown, context: ApprovalContext): Promise<ApprovalResult>;
  /** Tool-shaped `resume`: parses `{ decision_id }` first. */
  checkApproval(input: unknown, context: ApprovalContext): Promise<ApprovalResult>;
  /** Claims the single execution an approval allows (used by the gate); true only once. */
  claimExecution(approval: ApprovalResult): Promise<boolean>;
}

/**
 * Parses with a zod schema into a `NoxyError('INVALID_ARGUMENT')` naming the first bad field.
 * @internal used at the tool edges of core's own tool-shaped API
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
    handle: r.handle,
    action_hash: r.actionHash,
    tool: r.tool,
    expires_at: r.expiresAt,
    ...(r.decidedAt ? { decided_at: r.decidedAt } : {}),
    message: r.message,
    ...(r.alreadyReported ? { already_reported: true } : {}),
  };
}

/** A deep private copy: what the model's object does later can no longer change what is asked. */
function privateCopy(args: unknown): unknown {
  try {
    return structuredClone(args);
  } catch (cause) {
    throw new NoxyError('INVALID_ARGUMENT', '"args" expected plain JSON values', { field: 'args', cause });
  }
}

/**
 * Creates the approval engine.
 * @throws NoxyError `INVALID_ARGUMENT` for bad options
 * @example
 * const engine = createApprovalEngine({ client, agent: { name: 'billing-bot' } });
 * const r = await engine.request(
 *   { tool: 'transfer_funds', args: { to: 'bob', amount: 25 }, title: 'Send 25 USDC to Bob' },
 *   { identity: 'alice@example.com' },
 * );
 * if (r.outcome === 'approved') { ... }
 */
export function createApprovalEngine(options: ApprovalEngineOptions): ApprovalEngine {
  const { client, agent, pendingHint } = options;
  const store = options.store ?? new MemoryApprovalStore();
  const clock = options.clock ?? systemClock;
  const ttlSeconds = options.ttlSeconds === undefined ? client.ttlSeconds : checkTtl(options.ttlSeconds, 'ttlSeconds');
  const handles = createHandleCodec(options.handleSecret);
  if (options.requireDeviceSignature !== undefined && typeof options.requireDeviceSignature !== 'boolean') {
    throw new NoxyError('INVALID_ARGUMENT', '"requireDeviceSignature" expected true or false', {
      field: 'requireDeviceSignature',
    });
  }
  const requireDeviceSignature = options.requireDeviceSignature ?? client.requireDeviceSignature === true;
  /** Sends in flight per scoped idempotency key. */
  const sending = new Map<string, Promise<ApprovalRecord>>();

  /** Sends a new decision and waits (bounded by the hold, which also covers the send). */
  async function send(
    request: ApprovalRequest,
    identity: Identity,
    owner: string,
    key: string | undefined,
    context: ApprovalContext,
    onRecorded?: (record: ApprovalRecord) => void,
  ): Promise<ApprovalResult> {
    const { tool, args, title, summary } = request;
    const decisionId = randomUUID();
    const requestedAt = clock.now();
    const expiresAt = requestedAt + ttlSeconds * 1000;
    const payload = buildApprovalPayload({ decisionId, tool, args, title, summary, requestedAt, expiresAt, agent });
    const sent = await client.sendDecision(identity, payload, {
      decisionId,
      ttlSeconds,
      ...(context.signal ? { signal: context.signal } : {}),
    });
    assertDelivered(sent);
    const record: ApprovalRecord = { decisionId, identity, owner, tool, actionHash: payload.action_hash, expiresAt };
    if (agent) record.agent = agent;
    if (key !== undefined) record.key = key;
    await store.add(record);
    onRecorded?.(record);
    // The hold bounds the whole call (an MCP host's timeout counts from the request), so the
    // time spent sending comes off it.
    const holdMs = context.holdMs === undefined ? undefined : Math.max(1, context.holdMs - (clock.now() - requestedAt));
    return wait(record, context, holdMs);
  }

  const handleOf = (record: ApprovalRecord) => handles.seal(record, { identity: record.identity, owner: record.owner });

  function resultOf(
    record: ApprovalRecord,
    outcome: DecisionOutcome,
    alreadyReported = false,
    checked: { verification?: DeviceVerification; unverifiedApproval?: VerificationFailure } = {},
  ): ApprovalResult {
    const expiresAt = new Date(record.expiresAt).toISOString();
    const handle = handleOf(record);
    const facts: MessageFacts = { tool: record.tool, decisionId: record.decisionId, expiresAt, handle };
    const terminal = isTerminalOutcome(outcome) && record.decidedAt !== undefined;
    return {
      outcome,
      decisionId: record.decisionId,
      handle,
      actionHash: record.actionHash,
      tool: record.tool,
      identity: record.identity,
      ...(record.agent ? { agent: record.agent } : {}),
      ...(terminal ? { decidedAt: new Date(record.decidedAt!).toISOString() } : {}),
      expiresAt,
      message:
        checked.unverifiedApproval && !alreadyReported
          ? unverifiedApprovalMessage(checked.unverifiedApproval, facts)
          : alreadyReported
            ? repeatedOutcomeMessage(outcome, facts)
            : outcomeMessage(outcome, facts, pendingHint),
      ...(alreadyReported ? { alreadyReported: true } : {}),
      ...(checked.verification ? { verification: checked.verification } : {}),
      ...(checked.unverifiedApproval ? { unverifiedApproval: checked.unverifiedApproval } : {}),
    };
  }

  async function wait(record: ApprovalRecord, context: ApprovalContext, holdMs?: number): Promise<ApprovalResult> {
    const result = await client.waitForDecisionOutcome({
      decisionId: record.decisionId,
      identity: record.identity,
      expiresAt: record.expiresAt,
      ...(holdMs !== undefined ? { maxWaitMs: holdMs } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
      ...(context.onPoll ? { onPoll: context.onPoll } : {}),
      expectedActionHash: record.actionHash,
    });
    if (!isTerminalOutcome(result.outcome)) return resultOf(record, 'pending');
    // Fail closed: an approval that did not verify while signatures are required is not one.
    const verification = result.verification;
    const unverified =
      result.refusedApproval === true ||
      (requireDeviceSignature && result.outcome === 'approved' && verification?.verified !== true);
    const checked = {
      ...(verification ? { verification } : {}),
      ...(unverified ? { unverifiedApproval: verification?.reason ?? ('unsigned' as const) } : {}),
    };
    const reported: TerminalOutcome = unverified ? 'rejected' : result.outcome;
    // Fail closed: an approval first seen at or after the deadline cannot be acted on in time.
    const late = reported === 'approved' && result.observedAt >= record.expiresAt;
    const outcome: TerminalOutcome = late ? 'expired' : reported;
    const first = await store.settle(record.decisionId, outcome, result.observedAt);
    const settled = (await store.get(record.decisionId)) ?? { ...record, outcome, decidedAt: result.observedAt };
    return resultOf(settled, settled.outcome ?? outcome, !first, checked);
  }

  /** Continues the decision an earlier attempt with the same idempotency key made. */
  async function continueKeyed(
    record: ApprovalRecord,
    request: ApprovalRequest,
    context: ApprovalContext,
  ): Promise<ApprovalResult> {
    const hash = computeActionHash({
      decision_id: record.decisionId,
      tool: request.tool,
      args: request.args,
      expires_at: new Date(record.expiresAt).toISOString(),
      agent,
    });
    // The same key for another action is a caller bug: asking again would create a second
    // decision for "the same" call, continuing would report on an action it is not.
    if (hash !== record.actionHash) {
      throw new NoxyError(
        'INVALID_ARGUMENT',
        '"idempotencyKey" was already used for a different action; use a new key for a new call',
        { field: 'idempotencyKey' },
      );
    }
    const current = (await store.get(record.decisionId)) ?? record;
    if (current.outcome) return resultOf(current, current.outcome, true);
    return wait(current, context, context.holdMs);
  }

  /** The record behind a reference, only for its owner; `undefined` is answered as NOT_FOUND. */
  async function find(ref: string, identity: Identity, owner: string): Promise<ApprovalRecord | undefined> {
    if (looksLikeHandle(ref)) {
      const claims = handles.open(ref, { identity, owner });
      if (!claims) return undefined;
      const known = await store.get(claims.decisionId);
      if (known) return known.owner === owner && sameIdentity(known.identity, identity) ? known : undefined;
      // Another process (or before a restart) made it: the handle carries what is needed.
      await store.add({ ...claims, identity, owner, ...(agent ? { agent } : {}) });
      return (await store.get(claims.decisionId)) ?? { ...claims, identity, owner, agent };
    }
    const known = await store.get(ref);
    return known && known.owner === owner && sameIdentity(known.identity, identity) ? known : undefined;
  }

  const engine: ApprovalEngine = {
    agent,
    clock,
    requireDeviceSignature,

    async request(request, context) {
      const identity = parseIdentity(context.identity, 'identity');
      const owner = context.owner ?? '';
      const parsed = parseOrThrow(approvalInputSchema, { ...request, args: privateCopy(request?.args) }, 'request');
      if (context.idempotencyKey === undefined) return send(parsed, identity, owner, undefined, context);
      if (typeof context.idempotencyKey !== 'string' || context.idempotencyKey === '') {
        throw new NoxyError('INVALID_ARGUMENT', '"idempotencyKey" expected a non-empty string', {
          field: 'idempotencyKey',
        });
      }
      // Scoped, so one owner's key can never reach another's decision.
      const key = JSON.stringify([owner, identity.type, identity.id, context.idempotencyKey]);
      const known = await store.getByKey(key);
      // A key is honoured while its decision lives: retries come within it, and a provider that
      // reuses call ids across conversations must not find an old, spent approval.
      if (known && clock.now() < known.expiresAt) return continueKeyed(known, parsed, context);
      // Two attempts at once (a retry racing the original): the second waits for the first's send.
      const inFlight = sending.get(key);
      if (inFlight) return continueKeyed(await inFlight, parsed, context);
      const sent = deferred<ApprovalRecord>();
      sending.set(key, sent.promise);
      try {
        return await send(parsed, identity, owner, key, context, sent.resolve);
      } catch (err) {
        sent.reject(err);
        throw err;
      } finally {
        sending.delete(key);
      }
    },

    async resume(ref, context) {
      const identity = parseIdentity(context.identity, 'identity');
      const record = typeof ref === 'string' ? await find(ref, identity, context.owner ?? '') : undefined;
      // Same answer for unknown, foreign and forged references: nothing about others leaks.
      if (!record) {
        throw new NoxyError(
          'NOT_FOUND',
          'unknown decision_id: it was not created by this approval server for this user, or the handle was altered; ' +
            'request a new approval',
          { field: 'decision_id' },
        );
      }
      // Reported once already (by the request or an earlier check): say so, so an approval is
      // never taken as permission for a second execution.
      if (record.outcome) return resultOf(record, record.outcome, true);
      return wait(record, context, context.holdMs);
    },

    async requestApproval(input, context) {
      return engine.request(parseOrThrow(approvalInputSchema, input, 'input'), context);
    },

    async checkApproval(input, context) {
      const { decision_id } = parseOrThrow(checkApprovalInputSchema, input, 'input');
      return engine.resume(decision_id, context);
    },

    async claimExecution(approval) {
      return store.claimExecution(approval.decisionId, Date.parse(approval.expiresAt), clock.now());
    },
  };
  return engine;
}

function sameIdentity(a: Identity, b: Identity): boolean {
  return a.type === b.type && a.id === b.id;
}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A failed send is reported to its own caller; a waiting retry gets it too, never unhandled.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
