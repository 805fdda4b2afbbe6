/**
 * Polling ids the client did not create: any non-empty id of ≤ 200 characters without control,
 * bidi-control or lone-surrogate characters is polled as is over real gRPC; every other value is
 * refused with a typed INVALID_ARGUMENT before any RPC.
 */
import { createNoxyClient, NoxyError, type NoxyClient } from '@noxy-approval/core';
import { agent } from '@noxy-approval/proto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentTestServer, ManualClock } from '@noxy-approval/testing';

const ALICE = 'alice@example.com';
const APPROVED = agent.DecisionOutcome.DECISION_OUTCOME_APPROVED;
const PENDING = agent.DecisionOutcome.DECISION_OUTCOME_PENDING;
/** A relay-made id: not a UUID, 49 characters. */
const RELAY_ID = `relay-7f3c${'0123456789abcdef'.repeat(3).slice(0, 39)}`;

let server: AgentTestServer;
let client: NoxyClient;

beforeEach(async () => {
  const clock = new ManualClock();
  server = await AgentTestServer.start({ now: clock.now });
  client = createNoxyClient({ endpoint: server.endpoint, authToken: 'tok_poll_any_id_0123', clock });
});

afterEach(async () => {
  client.close();
  await server.close();
});

const polledIds = () => server.callsTo('GetDecisionOutcome').map((c) => c.request.decisionId);

describe('polling a decision id that is not a UUID', () => {
  it('a relay-made id (relay-7f3c…, 49 chars) is polled over gRPC; the server sees exactly that id', async () => {
    expect(RELAY_ID).toHaveLength(49);
    server.setOutcome(RELAY_ID, [{ outcome: PENDING }]);
    await expect(client.getDecisionOutcome({ decisionId: RELAY_ID, identity: ALICE })).resolves.toEqual({
      decisionId: RELAY_ID,
      outcome: 'pending',
      pending: true,
    });
    server.setOutcome(RELAY_ID, [{ outcome: APPROVED }]);
    const waited = await client.waitForDecisionOutcome({ decisionId: RELAY_ID, identity: ALICE });
    expect(waited.outcome).toBe('approved');
    expect(polledIds()).toEqual([RELAY_ID, RELAY_ID]);
    expect(server.callsTo('GetDecisionOutcome')[0]!.request.identityId).toBe(ALICE);
  });

  it.each([
    ['200 characters', 'x'.repeat(200)],
    ['one character', '7'],
    ['spaces, punctuation and non-ASCII', 'agent b / décision #7 — 東京'],
    ['a surrogate pair (emoji)', 'dec-\u{1F600}'],
  ])('%s: accepted and sent unchanged', async (_name, id) => {
    server.setOutcome(id, [{ outcome: APPROVED }]);
    await expect(client.getDecisionOutcome({ decisionId: id, identity: ALICE })).resolves.toMatchObject({
      outcome: 'approved',
    });
    expect(polledIds()).toEqual([id]);
  });

  it('an unknown non-UUID id is asked about and answered NOT_FOUND, not refused locally', async () => {
    await expect(client.getDecisionOutcome({ decisionId: RELAY_ID, identity: ALICE })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
    expect(polledIds()).toEqual([RELAY_ID]);
  });
});

describe('ids refused before any RPC', () => {
  const EXPECTED = '"decisionId" expected a non-empty id of at most 200 characters without control or bidi characters';
  it.each([
    ['empty', ''],
    ['201 characters', 'x'.repeat(201)],
    ['NUL', 'abc\u0000'],
    ['BEL inside', 'ab\u0007cd'],
    ['newline', 'id\n'],
    ['DEL', '\u007fid'],
    ['C1 NEL', 'id\u0085'],
    ['C1 APC', '\u009f'],
    ['lone high surrogate', 'id\ud800'],
    ['lone low surrogate', '\udc00id'],
    ['RIGHT-TO-LEFT OVERRIDE', 'id\u202etxt.exe'],
    ['LEFT-TO-RIGHT ISOLATE', '\u2066id'],
    ['RIGHT-TO-LEFT MARK', 'id\u200f'],
    ['ARABIC LETTER MARK', 'id\u061c'],
    ['a number', 42],
    ['undefined', undefined],
    ['null', null],
  ])('%s → INVALID_ARGUMENT naming decisionId, for one poll and for a wait', async (_name, id) => {
    const poll = client.getDecisionOutcome({ decisionId: id as string, identity: ALICE }).catch((e: unknown) => e);
    const wait = client.waitForDecisionOutcome({ decisionId: id as string, identity: ALICE }).catch((e: unknown) => e);
    for (const err of [await poll, await wait]) {
      expect(NoxyError.isInstance(err)).toBe(true);
      expect(err).toMatchObject({ code: 'INVALID_ARGUMENT', field: 'decisionId' });
      expect((err as Error).message.startsWith(EXPECTED)).toBe(true);
    }
    expect(server.calls).toHaveLength(0);
  });

  it('the message locates the bad character without echoing the id', async () => {
    const err = await client
      .getDecisionOutcome({ decisionId: 'secret-id\u0007', identity: ALICE })
      .catch((e: unknown) => e as Error);
    expect((err as Error).message).toContain('got string of length 10 with U+0007 at index 9');
    expect((err as Error).message).not.toContain('secret');
  });

  it('ids the client sends stay UUIDs: sendDecision refuses a non-UUID decisionId option', async () => {
    await server.addDevices(ALICE, 1);
    await expect(client.sendDecision(ALICE, { title: 't' }, { decisionId: RELAY_ID })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      field: 'decisionId',
      message: expect.stringContaining('expected a UUID'),
    });
    expect(server.calls).toHaveLength(0);
  });
});
