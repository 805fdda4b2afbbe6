/**
 * The Agent API: `noxy.agent.AgentService` (docs/protocol.md §1.1) and the v1
 * `noxy.push.PushService` (§1.2), authenticated by `authorization: Bearer <app token>`.
 *
 * Errors (documented in the package README):
 * - missing / unknown token → UNAUTHENTICATED;
 * - per-app token bucket exceeded → RESOURCE_EXHAUSTED, trailers `grpc-retry-pushback-ms`
 *   and `noxy-error: RATE_LIMITED`;
 * - monthly quota used up → RESOURCE_EXHAUSTED "…quota…", trailers `noxy-error:
 *   QUOTA_EXHAUSTED` and `grpc-retry-pushback-ms: -1` (gRFC A6: do not retry);
 * - malformed request → INVALID_ARGUMENT naming the field;
 * - GetDecisionOutcome for an unknown id, or one of another app or identity → NOT_FOUND.
 *
 * GetDecisionOutcome honours the wait hint (`noxy-wait-ms` request metadata, docs/protocol.md §12):
 * a pending answer is held until the decision closes or the hint's time passes.
 * @module
 */
import {
  Metadata,
  status,
  type sendUnaryData,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { agent, type push } from '@noxy-approval/proto';
import { QuotaExhaustedError, type DecisionEngine, type RouteInput } from './engine.js';
import { MalformedRequest, statusError } from './grpc-util.js';
import { parseWaitHint, WAIT_HINT_HEADER, WaitHintError, type HeldCalls } from './held-calls.js';
import type { RelayLogger } from './logger.js';
import { decisionKeyString } from './outcome-waiters.js';
import { overByteBudget, type KeyedRateLimiter } from './rate-limit.js';
import { sha256 } from './secrets.js';
import type { AppRecord, RelayStore } from './store/index.js';

/** What the Agent API handlers share. */
export interface AgentContext {
  store: RelayStore;
  engine: DecisionEngine;
  now: () => number;
  logger: RelayLogger;
  limiter: KeyedRateLimiter;
  agentPerSecond: number;
  /** Largest accepted `ciphertext`, bytes. */
  maxCiphertextBytes: number;
  /** Whether GetIdentityDevices returns devices' Ed25519 keys (see README "Security"). */
  exposeDeviceSigningKeys: boolean;
  /** GetDecisionOutcome calls held by the wait hint (docs/protocol.md §12). */
  held: HeldCalls;
}

/** A handler's refusal, turned into a gRPC status by {@link unary}. */
class RpcError extends Error {
  constructor(
    readonly code: status,
    message: string,
    readonly trailers?: Record<string, string>,
  ) {
    super(message);
  }
}

const KYBER_CT_BYTES = 1088;
const AEAD_NONCE_BYTES = 12;
const AEAD_TAG_BYTES = 16;
const MAX_ID = 200;
const CONTROL = /[\u0000-\u001f\u007f]/;

function checkId(value: string, field: string, required: boolean): void {
  if ((required && value === '') || value.length > MAX_ID || CONTROL.test(value)) {
    const need = required ? 'a non-empty id' : 'an id';
    throw new RpcError(
      status.INVALID_ARGUMENT,
      `"${field}" expected ${need} of at most ${MAX_ID} printable characters`,
    );
  }
}

function authorize(ctx: AgentContext, call: ServerUnaryCall<unknown, unknown>): AppRecord {
  const values = call.metadata.get('authorization');
  const header = values.length === 1 && typeof values[0] === 'string' ? values[0].trim() : '';
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1])
    throw new RpcError(status.UNAUTHENTICATED, 'missing or malformed "authorization: Bearer <app token>" metadata');
  const app = ctx.store.apps.byTokenHash(sha256(match[1]));
  if (!app) throw new RpcError(status.UNAUTHENTICATED, 'app token not recognised');
  const waitMs = ctx.limiter.take(app.appId);
  if (waitMs > 0) {
    throw new RpcError(
      status.RESOURCE_EXHAUSTED,
      `rate limit exceeded: ${ctx.agentPerSecond} requests per second per app`,
      {
        'grpc-retry-pushback-ms': String(waitMs),
        'noxy-error': 'RATE_LIMITED',
      },
    );
  }
  return app;
}

/** Returned by a handler that has taken its call over (held) and will answer it later. */
const LATER = Symbol('answered later');

type Reply<Res> = (produce: () => Res | typeof LATER) => void;

// Runs `produce` and answers its result once durable, or maps its error to a status.
function replier<Res>(ctx: AgentContext, method: string, callback: sendUnaryData<Res>): Reply<Res> {
  return (produce) => {
    try {
      const response = produce();
      if (response === LATER) return;
      // Answer only once the change is durable (group commit, store/index.ts).
      ctx.store.afterCommit(
        () => callback(null, response),
        () => callback(statusError(status.UNAVAILABLE, 'the relay could not store the request; retry')),
      );
    } catch (error) {
      if (error instanceof RpcError) {
        callback(statusError(error.code, error.message, error.trailers));
      } else if (error instanceof WaitHintError) {
        callback(statusError(status.INVALID_ARGUMENT, error.message));
      } else if (error instanceof QuotaExhaustedError) {
        callback(
          statusError(status.RESOURCE_EXHAUSTED, error.message, {
            'noxy-error': 'QUOTA_EXHAUSTED',
            'grpc-retry-pushback-ms': '-1',
          }),
        );
      } else {
        ctx.logger.error('agent call failed', {
          method,
          error: error instanceof Error ? error.message : String(error),
        });
        callback(statusError(status.INTERNAL, 'internal error'));
      }
    }
  };
}

// Wraps a handler with authentication, rate limiting, malformed-input and error mapping. The
// handler may take the call over (return LATER) and answer through `reply` later.
function unary<Req, Res>(
  ctx: AgentContext,
  method: string,
  fn: (app: AppRecord, req: Req, call: ServerUnaryCall<Req, Res>, reply: Reply<Res>) => Res | typeof LATER,
) {
  return (call: ServerUnaryCall<Req | MalformedRequest, Res>, callback: sendUnaryData<Res>): void => {
    const reply = replier(ctx, method, callback);
    reply(() => {
      const app = authorize(ctx, call as ServerUnaryCall<unknown, unknown>);
      if (call.request instanceof MalformedRequest) {
        throw new RpcError(status.INVALID_ARGUMENT, `malformed ${method} request: ${call.request.reason}`);
      }
      return fn(app, call.request, call as ServerUnaryCall<Req, Res>, reply);
    });
  };
}

function routeInput(
  ctx: AgentContext,
  r: Omit<agent.RouteDecisionRequest, 'decisionId'> & { decisionId: string },
): RouteInput {
  checkId(r.requestId, 'request_id', true);
  checkId(r.decisionId, 'decision_id', false);
  checkId(r.targetDeviceId, 'target_device_id', false);
  if (r.kyberCt.length !== KYBER_CT_BYTES) {
    throw new RpcError(
      status.INVALID_ARGUMENT,
      `"kyber_ct" expected ${KYBER_CT_BYTES} bytes (ML-KEM-768 ciphertext), got ${r.kyberCt.length}`,
    );
  }
  if (r.nonce.length !== AEAD_NONCE_BYTES) {
    throw new RpcError(status.INVALID_ARGUMENT, `"nonce" expected ${AEAD_NONCE_BYTES} bytes, got ${r.nonce.length}`);
  }
  if (r.ciphertext.length < AEAD_TAG_BYTES || r.ciphertext.length > ctx.maxCiphertextBytes) {
    throw new RpcError(
      status.INVALID_ARGUMENT,
      `"ciphertext" expected ${AEAD_TAG_BYTES}..${ctx.maxCiphertextBytes} bytes (AES-GCM output with tag), ` +
        `got ${r.ciphertext.length}`,
    );
  }
  return {
    requestId: r.requestId,
    decisionId: r.decisionId,
    targetDeviceId: r.targetDeviceId,
    ttlSeconds: r.ttlSeconds,
    kyberCt: r.kyberCt,
    nonce: r.nonce,
    ciphertext: r.ciphertext,
  };
}

function quota(ctx: AgentContext, app: AppRecord, requestId: string): agent.GetQuotaResponse {
  const used = ctx.store.apps.quotaUsed(app.appId, ctx.now());
  return {
    requestId,
    appName: app.name,
    quotaTotal: BigInt(app.quotaTotal),
    quotaRemaining: BigInt(Math.max(0, app.quotaTotal - used)),
    status: agent.QuotaStatus.QUOTA_ACTIVE,
  };
}

function identityDevices(
  ctx: AgentContext,
  app: AppRecord,
  r: agent.GetIdentityDevicesRequest,
): agent.GetIdentityDevicesResponse {
  checkId(r.identityId, 'identity_id', true);
  const devices = ctx.store.devices.activeOfIdentity(app.appId, r.identityId).map(
    (d): agent.IdentityDevice => ({
      deviceId: d.deviceId,
      // A proof-bound device's key is no longer a credential (possession is proven per request),
      // so agents get it to verify signed outcomes (docs/security.md §10).
      publicKey: ctx.exposeDeviceSigningKeys || d.deviceProof ? d.publicKey : Buffer.alloc(0),
      pqPublicKey: d.pqPublicKey,
      keyRotations: d.deviceProof
        ? ctx.store.devices.rotations(d.deviceId).map((k) => ({ ...k, rotatedAt: BigInt(k.rotatedAt) }))
        : [],
      ...(d.deviceProof ? { deviceProof: true } : {}),
    }),
  );
  return { requestId: r.requestId, devices };
}

const OUTCOME: Record<'PENDING' | 'APPROVED' | 'REJECTED' | 'EXPIRED', agent.DecisionOutcome> = {
  PENDING: agent.DecisionOutcome.DECISION_OUTCOME_PENDING,
  APPROVED: agent.DecisionOutcome.DECISION_OUTCOME_APPROVED,
  REJECTED: agent.DecisionOutcome.DECISION_OUTCOME_REJECTED,
  EXPIRED: agent.DecisionOutcome.DECISION_OUTCOME_EXPIRED,
};

// The answer of a GetDecisionOutcome, as of now.
function outcomeResponse(
  ctx: AgentContext,
  app: AppRecord,
  r: agent.GetDecisionOutcomeRequest,
): agent.GetDecisionOutcomeResponse {
  const found = ctx.engine.outcome(app.appId, r.decisionId, r.identityId);
  if (!found.found)
    throw new RpcError(status.NOT_FOUND, 'no decision with this decision_id for this identity_id and app');
  const res: agent.GetDecisionOutcomeResponse = {
    requestId: r.requestId,
    pending: found.pending,
    outcome: OUTCOME[found.outcome],
  };
  // The deciding device's signature and what it covers, as it sent them (new fields ≥ 100).
  if (!found.pending && found.signed && found.deviceId) {
    res.deviceSignature = found.signed.signature;
    res.deviceId = found.deviceId;
    res.decidedAt = BigInt(found.signed.decidedAt);
    res.signedDecisionId = r.decisionId;
    res.actionHash = found.signed.actionHash;
    res.appId = app.appId;
  }
  return res;
}

/** Margin kept between a hold's end and the call's deadline, so the answer arrives before it. */
const DEADLINE_MARGIN_MS = 250;

// How long to hold a call with hint `hint`: never past the call's own deadline.
function holdMs(hint: number, deadline: Date | number): number {
  const at = deadline instanceof Date ? deadline.getTime() : deadline;
  return Math.floor(Math.min(hint, at - Date.now() - DEADLINE_MARGIN_MS));
}

/**
 * The `noxy.agent.AgentService` implementation.
 * @param ctx shared state
 */
export function agentServiceImpl(ctx: AgentContext): UntypedServiceImplementation {
  return {
    routeDecision: unary(ctx, 'RouteDecision', (app, r: agent.RouteDecisionRequest): agent.DeliveryOutcome => {
      const input = routeInput(ctx, r);
      const over = overByteBudget(ctx.limiter, app.appId, input); // one app cannot fill every commit (rate-limit.ts)
      if (over) throw new RpcError(status.RESOURCE_EXHAUSTED, over.message, over.trailers);
      const result = ctx.engine.route(app, input);
      return { status: result.status, requestId: r.requestId, decisionId: result.decisionId };
    }),
    getDecisionOutcome: unary(ctx, 'GetDecisionOutcome', (app, r: agent.GetDecisionOutcomeRequest, call, reply) => {
      checkId(r.decisionId, 'decision_id', true);
      checkId(r.identityId, 'identity_id', true);
      const hint = parseWaitHint(call.metadata.get(WAIT_HINT_HEADER));
      const current = outcomeResponse(ctx, app, r);
      if (hint === undefined || !current.pending) return current;
      // Pending and hinted: hold the call (it has taken its one rate-limit token, like a poll)
      // until the decision closes, the hint's time passes, or the relay shuts down.
      const ms = holdMs(hint, call.getDeadline());
      const held =
        ms > 0 &&
        ctx.held.hold({
          appId: app.appId,
          decision: decisionKeyString({ appId: app.appId, decisionId: r.decisionId, identityId: r.identityId }),
          ms,
          call,
          answer: () => reply(() => outcomeResponse(ctx, app, r)),
        });
      // Over a cap, closing, or no time left: answered at once, as a relay without the hint.
      if (!held) return current;
      // Tells the client, at once, that this relay holds (so it need not back off).
      const ack = new Metadata();
      ack.set(WAIT_HINT_HEADER, String(ms));
      call.sendMetadata(ack);
      return LATER;
    }),
    getQuota: unary(ctx, 'GetQuota', (app, r: agent.GetQuotaRequest) => quota(ctx, app, r.requestId)),
    getIdentityDevices: unary(ctx, 'GetIdentityDevices', (app, r: agent.GetIdentityDevicesRequest) =>
      identityDevices(ctx, app, r),
    ),
  } as UntypedServiceImplementation;
}

/**
 * The v1 `noxy.push.PushService` implementation: a push is a decision whose id the relay
 * chooses (v1 clients cannot poll an outcome, but devices answer it like any other).
 * @param ctx shared state
 */
export function pushServiceImpl(ctx: AgentContext): UntypedServiceImplementation {
  return {
    pushNotification: unary(ctx, 'PushNotification', (app, r: push.PushNotificationRequest): push.PushResponse => {
      const result = ctx.engine.route(app, routeInput(ctx, { ...r, decisionId: '' }));
      return { status: result.status as number as push.DeliveryStatus, requestId: r.requestId };
    }),
    getQuota: unary(ctx, 'GetQuota', (app, r: push.GetQuotaRequest) => quota(ctx, app, r.requestId)),
    getIdentityDevices: unary(ctx, 'GetIdentityDevices', (app, r: push.GetIdentityDevicesRequest) =>
      identityDevices(ctx, app, r),
    ),
  } as UntypedServiceImplementation;
}
