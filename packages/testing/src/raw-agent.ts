/**
 * A raw Agent API client on the generated stubs (metadata `authorization: Bearer <token>`),
 * for the relay's tests and benchmarks.
 * @module
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { agent, push } from '@noxy-approval/proto';
import { grpcTargetOf } from './raw-grpc-device.js';

/** A random envelope of the right sizes (the relay never opens it). */
export function fakeEnvelope(ciphertextBytes = 256): { kyberCt: Buffer; nonce: Buffer; ciphertext: Buffer } {
  return { kyberCt: randomBytes(1088), nonce: randomBytes(12), ciphertext: randomBytes(ciphertextBytes) };
}

type Unary<Req, Res> = (req: Req, md: Metadata, cb: (e: ServiceError | null, r: Res) => void) => unknown;

function call<Req, Res>(fn: Unary<Req, Res>, self: object, req: Req, md: Metadata): Promise<Res> {
  return new Promise((resolve, reject) => {
    fn.call(self, req, md, (error, response) => (error ? reject(error) : resolve(response)));
  });
}

/** Agent API calls with one token. Rejections are grpc-js `ServiceError`s (code, details, metadata). */
export class RawAgent {
  readonly client: agent.AgentServiceClient;
  readonly pushClient: push.PushServiceClient;
  readonly metadata: Metadata;

  /**
   * @param grpcUrl the relay's gRPC URL
   * @param token app token; `undefined` sends no authorization metadata
   */
  constructor(grpcUrl: string, token: string | undefined) {
    const target = grpcTargetOf(grpcUrl);
    this.client = new agent.AgentServiceClient(target, credentials.createInsecure());
    this.pushClient = new push.PushServiceClient(target, credentials.createInsecure());
    this.metadata = new Metadata();
    if (token !== undefined) this.metadata.set('authorization', `Bearer ${token}`);
  }

  /** RouteDecision with a fake envelope unless given. */
  route(r: Partial<agent.RouteDecisionRequest> & { targetDeviceId: string }): Promise<agent.DeliveryOutcome> {
    const request: agent.RouteDecisionRequest = {
      requestId: randomUUID(),
      decisionId: randomUUID(),
      ttlSeconds: 0,
      ...fakeEnvelope(),
      ...r,
    };
    return call(
      this.client.routeDecision as Unary<agent.RouteDecisionRequest, agent.DeliveryOutcome>,
      this.client,
      request,
      this.metadata,
    );
  }

  /** GetDecisionOutcome. */
  outcome(decisionId: string, identityId: string): Promise<agent.GetDecisionOutcomeResponse> {
    const fn = this.client.getDecisionOutcome as Unary<
      agent.GetDecisionOutcomeRequest,
      agent.GetDecisionOutcomeResponse
    >;
    return call(fn, this.client, { requestId: randomUUID(), decisionId, identityId }, this.metadata);
  }

  /** GetQuota. */
  quota(): Promise<agent.GetQuotaResponse> {
    return call(
      this.client.getQuota as Unary<agent.GetQuotaRequest, agent.GetQuotaResponse>,
      this.client,
      { requestId: randomUUID() },
      this.metadata,
    );
  }

  /** GetIdentityDevices. */
  devices(identityId: string): Promise<agent.GetIdentityDevicesResponse> {
    const fn = this.client.getIdentityDevices as Unary<
      agent.GetIdentityDevicesRequest,
      agent.GetIdentityDevicesResponse
    >;
    return call(fn, this.client, { requestId: randomUUID(), identityId }, this.metadata);
  }

  /** v1 PushNotification. */
  push(r: Partial<push.PushNotificationRequest> & { targetDeviceId: string }): Promise<push.PushResponse> {
    const request: push.PushNotificationRequest = { requestId: randomUUID(), ttlSeconds: 0, ...fakeEnvelope(), ...r };
    return call(
      this.pushClient.pushNotification as Unary<push.PushNotificationRequest, push.PushResponse>,
      this.pushClient,
      request,
      this.metadata,
    );
  }

  /** Closes both channels. */
  close(): void {
    this.client.close();
    this.pushClient.close();
  }
}
