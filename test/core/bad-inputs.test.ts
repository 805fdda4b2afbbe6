import { inspect } from 'node:util';
import { status } from '@grpc/grpc-js';
import { createNoxyClient, NoxyError, type NoxyClient, type NoxyClientOptions } from '@noxy-approval/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_DECISION_BYTES } from '../../packages/core/src/payload.js';
import { AgentTestServer } from '@noxy-approval/testing';

/** A token that must never show up anywhere but the authorization header. */
const CANARY = 'tok_CANARY_5f0c1e7a9b';
const ALICE = 'alice@example.com';
const ID = 'f0f0f0f0-b1b1-4c2c-8d3d-e4e4e4e4e4e4';

let server: AgentTestServer;
let client: NoxyClient;

beforeEach(async () => {
  server = await AgentTestServer.start();
  await server.addDevices(ALICE, 2);
  client = createNoxyClient({ endpoint: server.endpoint, authToken: CANARY, kem: 'mlkem' });
});

afterEach(async () => {
  client.close();
  await server.close();
});

/** Every rendering of an error a log line might use. */
function renderings(err: unknown): string[] {
  const e = err as Error;
  return [
    e.message,
    String(e),
    e.stack ?? '',
    inspect(e, { depth: Infinity }),
    JSON.stringify(e),
    JSON.stringify(e, Object.getOwnPropertyNames(e)),
  ];
}

function expectNoCanary(err: unknown): void {
  for (const text of renderings(err)) expect(text).not.toContain(CANARY);
}

async function caught(run: () => unknown): Promise<unknown> {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a NoxyError, nothing was thrown');
}

async function expectInvalid(run: () => unknown, field: string | RegExp): Promise<void> {
  const err = await caught(run);
  expect(NoxyError.isInstance(err), String(err)).toBe(true);
  const e = err as NoxyError;
  expect(e.code).toBe('INVALID_ARGUMENT');
  if (typeof field === 'string') {
    expect(e.field).toBe(field);
    expect(e.message).toContain(`"${field}"`);
  } else {
    expect(e.field).toMatch(field);
  }
  expectNoCanary(err);
}

const cycle: Record<string, unknown> = { title: 't' };
cycle.self = cycle;
const deep = (() => {
  let v: unknown = 1;
  for (let i = 0; i < 50_000; i++) v = [v];
  return { v };
})();
const selfToJson = {
  title: 't',
  x: {
    toJSON(): unknown {
      return this;
    },
  },
};

const BAD_IDENTITIES: [string, unknown, string][] = [
  ['short bare wallet', '0x1234', 'identity'],
  ['wallet with non-hex', { type: 'wallet', id: `0x${'z'.repeat(40)}` }, 'identity.id'],
  ['wallet of 41 hex digits', { type: 'wallet', id: `0x${'a'.repeat(41)}` }, 'identity.id'],
  ['email without domain', 'alice@', 'identity'],
  ['email without dot', 'alice@localhost', 'identity'],
  ['email with a space', { type: 'email', id: 'al ice@example.com' }, 'identity.id'],
  ['phone with a leading 0', '+0123456', 'identity'],
  ['phone too long', '+1234567890123456', 'identity'],
  ['phone with letters', { type: 'phone', id: '+1555CALLME' }, 'identity.id'],
  ['user id with LF', 'bob\nadmin', 'identity'],
  ['user id with NUL', 'bob\u0000', 'identity'],
  ['user id with a bidi override', 'bob\u202e', 'identity'],
  ['user id with a leading space', ' bob', 'identity'],
  ['user id with a trailing space', { type: 'user_id', id: 'bob ' }, 'identity.id'],
  ['user id too long', 'u'.repeat(257), 'identity'],
  ['empty string', '', 'identity'],
  ['unknown type', { type: 'fax', id: '+15551234567' }, 'identity.type'],
  ['null', null, 'identity'],
  ['a number', 42, 'identity'],
];

const BAD_DECISIONS: [string, unknown, string][] = [
  ['a cycle', cycle, 'decision.self'],
  ['a function', { title: 't', run() {} }, 'decision.run'],
  ['a symbol', { title: 't', s: Symbol('x') }, 'decision.s'],
  ['an undefined value', { title: 't', u: undefined }, 'decision.u'],
  ['an undefined array item', { items: [1, undefined] }, 'decision.items[1]'],
  // biome-ignore lint/suspicious/noSparseArray: the hole is what is tested
  ['a hole in an array', { items: [, 1] }, 'decision.items[0]'],
  ['NaN', { n: Number.NaN }, 'decision.n'],
  ['Infinity', { n: -Infinity }, 'decision.n'],
  ['a class instance', { m: new Map([[1, 2]]) }, 'decision.m'],
  [
    'a class instance at the top',
    new (class Decision {
      title = 't';
    })(),
    'decision',
  ],
  ['a Date at the top (JSON is a string, not an object)', new Date(0), 'decision'],
  ['an array at the top', [{ title: 't' }], 'decision'],
  ['a string at the top', 'approve?', 'decision'],
  ['null', null, 'decision'],
  ['more than 256 KiB', { blob: 'x'.repeat(MAX_DECISION_BYTES) }, 'decision'],
  ['nesting 50,000 deep', deep, 'decision'],
  ['a toJSON returning itself', selfToJson, 'decision.x'],
];

const BAD_TTLS: unknown[] = [0, -1, 1.5, 604_801, 2 ** 32, Number.NaN, Infinity, '60', null];

describe('bad inputs: a typed INVALID_ARGUMENT naming the field, and no RPC', () => {
  afterEach(() => expect(server.calls).toHaveLength(0));

  it.each(BAD_IDENTITIES)('identity: %s', async (_name, identity, field) => {
    const id = identity as string;
    await expectInvalid(() => client.sendDecision(id, { title: 't' }), field);
    await expectInvalid(() => client.sendDecisionAndWaitForOutcome(id, { title: 't' }), field);
    await expectInvalid(() => client.sendPush(id, { title: 't' }), field);
    await expectInvalid(() => client.getIdentityDevices(id), field);
    await expectInvalid(() => client.getDecisionOutcome({ decisionId: ID, identity: id }), field);
    await expectInvalid(() => client.waitForDecisionOutcome({ decisionId: ID, identity: id }), field);
  });

  it.each(BAD_DECISIONS)('decision: %s', async (_name, decision, field) => {
    await expectInvalid(() => client.sendDecision(ALICE, decision as object), field);
    await expectInvalid(() => client.sendDecisionAndWaitForOutcome(ALICE, decision as object), field);
    await expectInvalid(() => client.sendPush(ALICE, decision as object), field.replace(/^decision/, 'notification'));
  });

  it.each(BAD_TTLS)('TTL %s in createNoxyClient and per send', async (ttl) => {
    await expectInvalid(
      () => createNoxyClient({ endpoint: server.endpoint, authToken: CANARY, decisionTtlSeconds: ttl as number }),
      'decisionTtlSeconds',
    );
    await expectInvalid(() => client.sendDecision(ALICE, { title: 't' }, { ttlSeconds: ttl as number }), 'ttlSeconds');
    await expectInvalid(() => client.sendPush(ALICE, { title: 't' }, { ttlSeconds: ttl as number }), 'ttlSeconds');
  });

  it.each([
    'http://relay.noxy.network',
    'http://10.0.0.7:7070',
    'http://127.0.0.1.nip.io:7070',
    'http://localhost.example.com',
    'ftp://relay.noxy.network',
    'https://user:secret@relay.noxy.network',
    'https://relay.noxy.network/v1',
    'https://relay.noxy.network?x=1',
    'not a url at all',
    '',
  ])('endpoint %j: createNoxyClient throws', async (endpoint) => {
    await expectInvalid(() => createNoxyClient({ endpoint, authToken: CANARY }), 'endpoint');
  });

  it.each([
    ['empty', ''],
    ['CR LF header injection', `${CANARY}\r\nx-admin: 1`],
    ['a LF', `${CANARY}\n`],
    ['a space', `Bearer ${CANARY}`],
    ['a tab', `${CANARY}\t`],
    ['non-ASCII', `${CANARY}é`],
    ['not a string', 12345],
  ])('token with %s: createNoxyClient throws without echoing it', async (_name, authToken) => {
    await expectInvalid(
      () => createNoxyClient({ endpoint: server.endpoint, authToken: authToken as string }),
      'authToken',
    );
  });

  it.each([
    ['pollsPerSecond', { pollsPerSecond: 0 }],
    ['fanOutConcurrency', { fanOutConcurrency: -1 }],
    ['timeouts.other', { timeouts: { other: Number.NaN } }],
    ['timeouts.routeDecision', { timeouts: { routeDecision: 0 } }],
  ] as const)('client option %s', async (field, extra) => {
    await expectInvalid(
      () =>
        createNoxyClient({ endpoint: server.endpoint, authToken: CANARY, ...(extra as Partial<NoxyClientOptions>) }),
      field,
    );
  });

  it.each(['not-a-uuid', '', `${ID}\n`, ID.replace(/-/g, ''), `{${ID}}`, 123])('decisionId %j', async (decisionId) => {
    const id = decisionId as string;
    await expectInvalid(() => client.sendDecision(ALICE, { title: 't' }, { decisionId: id }), 'decisionId');
  });

  // Polling takes any printable id of ≤ 200 characters, UUID or not (poll-any-id.test.ts).
  it.each(['', `${ID}\n`, 'x'.repeat(201), 123])('decisionId %j to poll', async (decisionId) => {
    const id = decisionId as string;
    await expectInvalid(() => client.getDecisionOutcome({ decisionId: id, identity: ALICE }), 'decisionId');
    await expectInvalid(() => client.waitForDecisionOutcome({ decisionId: id, identity: ALICE }), 'decisionId');
  });

  it.each([
    ['maxWaitMs', { maxWaitMs: 0 }],
    ['maxWaitMs', { maxWaitMs: -5 }],
    ['maxWaitMs', { maxWaitMs: Number.NaN }],
    ['expiresAt', { expiresAt: Number.NaN }],
  ] as const)('wait option %s %o', async (field, extra) => {
    await expectInvalid(() => client.waitForDecisionOutcome({ decisionId: ID, identity: ALICE, ...extra }), field);
  });

  it('options that are not an object', async () => {
    await expectInvalid(() => createNoxyClient(null as unknown as NoxyClientOptions), 'options');
  });
});

describe('the app token never leaks', () => {
  it('is sent only as the authorization header', async () => {
    await client.sendDecision(ALICE, { title: 't' });
    for (const call of server.calls) {
      expect(call.authorization).toBe(`Bearer ${CANARY}`);
      expect(JSON.stringify(call.request, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain(
        CANARY,
      );
    }
  });

  it('not in util.inspect(client) nor in JSON of it', () => {
    expect(inspect(client, { depth: Infinity, showHidden: true })).not.toContain(CANARY);
    expect(JSON.stringify(client)).not.toContain(CANARY);
  });

  it.each([
    ['GetQuota', () => client.getQuota()],
    ['GetIdentityDevices', () => client.getIdentityDevices(ALICE)],
    ['GetDecisionOutcome', () => client.getDecisionOutcome({ decisionId: ID, identity: ALICE })],
  ] as const)('not in a %s error even when the relay echoes it in its message and trailers', async (method, run) => {
    const echo = `bad token "Bearer ${CANARY}" for app`;
    server.failNext(method, {
      code: status.UNAUTHENTICATED,
      details: echo,
      trailers: { 'noxy-error': 'UNAUTHENTICATED', 'x-debug': CANARY },
    });
    const err = await caught(run);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((err as Error).message).toContain('[redacted]');
    expectNoCanary(err);
  });

  it('not in a per-device RouteDecision error, nor in the send-and-wait error', async () => {
    server.failNext(
      'RouteDecision',
      { code: status.PERMISSION_DENIED, details: `token ${CANARY} may not route`, trailers: { 'x-debug': CANARY } },
      10,
    );
    const sent = await client.sendDecision(ALICE, { title: 't' });
    for (const d of sent.deliveries) expectNoCanary(d.error);
    expect(inspect(sent, { depth: Infinity })).not.toContain(CANARY);
    expectNoCanary(await caught(() => client.sendDecisionAndWaitForOutcome(ALICE, { title: 't' })));
  });

  it('not in the errors of a closed client or an aborted call', async () => {
    const controller = new AbortController();
    controller.abort();
    expectNoCanary(await caught(() => client.getQuota({ signal: controller.signal })));
    client.close();
    expectNoCanary(await caught(() => client.getQuota()));
  });
});
