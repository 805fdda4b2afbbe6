import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { loadKemBackend, type ApprovalOutput, type NoxyClient } from '@noxy-approval/core';
import { createApprovalServer } from '@noxy-approval/mcp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';

const HOST_TIMEOUT_MS = 60_000;
const HUMAN_DELAY_MS = 10 * 60_000;
const request = { tool: 'delete_cluster', args: { name: 'prod-eu-1' }, title: 'Delete the prod-eu-1 cluster' };

let stack: LocalStack | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await stack?.close();
  stack = undefined;
});

// Captured before any test fakes timers: a real pause lets socket I/O (gRPC to the relay)
// and thread-pool work run between fake-time steps.
const realSetTimeout = globalThis.setTimeout;
async function realIo(): Promise<void> {
  await new Promise<void>((r) => realSetTimeout(r, 2));
}

/** Advances fake time in small steps until `promise` settles; bounded by `limitMs`. */
async function settle<T>(promise: Promise<T>, limitMs: number, stepMs = 500): Promise<{ value: T; elapsedMs: number }> {
  let done = false;
  let value!: T;
  let error: unknown;
  promise.then(
    (v) => {
      value = v;
      done = true;
    },
    (e: unknown) => {
      error = e;
      done = true;
    },
  );
  const start = Date.now();
  for (let waited = 0; !done && waited <= limitMs; waited += stepMs) {
    await vi.advanceTimersByTimeAsync(stepMs);
    await realIo();
  }
  if (!done) throw new Error(`still running after ${limitMs} ms of fake time`);
  if (error) throw error;
  return { value, elapsedMs: Date.now() - start };
}

async function connect(s: LocalStack, client: NoxyClient) {
  const mcp = createApprovalServer({ client, identity: s.identity, ttlSeconds: 900 });
  const [a, b] = InMemoryTransport.createLinkedPair();
  const host = new Client({ name: 'slow-host', version: '1' });
  await Promise.all([mcp.connect(b), host.connect(a)]);
  return host;
}

describe('a human slower than the MCP host (fake clock)', () => {
  it.each([false, true])(
    'returns pending before the 60 s host timeout (progressToken: %s), then check returns the outcome',
    async (withProgress) => {
      stack = await startLocalStack({ devices: [{ answer: 'approve', delayMs: HUMAN_DELAY_MS }] });
      await loadKemBackend('mlkem');
      const host = await connect(stack, stack.client);
      await stack.client.getQuota(); // connect the channel on real timers
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      const progressAt: number[] = [];
      const start = Date.now();
      const call = host.callTool({ name: 'request_human_approval', arguments: request }, undefined, {
        timeout: HOST_TIMEOUT_MS,
        ...(withProgress ? { onprogress: () => void progressAt.push(Date.now() - start) } : {}),
      });
      const { value, elapsedMs } = await settle(call, HOST_TIMEOUT_MS + 5_000);
      const first = value.structuredContent as ApprovalOutput;
      expect(value.isError).toBeFalsy();
      expect(first.outcome).toBe('pending');
      expect(elapsedMs).toBeLessThan(HOST_TIMEOUT_MS);
      expect(elapsedMs).toBeGreaterThanOrEqual(45_000);
      if (withProgress) {
        expect(progressAt.length).toBeGreaterThanOrEqual(3);
        const gaps = progressAt.map((t, i) => t - (i === 0 ? 0 : progressAt[i - 1]!));
        expect(Math.max(...gaps)).toBeLessThanOrEqual(15_000);
      } else {
        expect(progressAt).toHaveLength(0);
      }
      // Keep the host happy with check calls (each also under 60 s) until the human answers.
      let final = first;
      for (let i = 0; i < 20 && final.outcome === 'pending'; i++) {
        const check = host.callTool(
          { name: 'check_human_approval', arguments: { decision_id: first.decision_id } },
          undefined,
          { timeout: HOST_TIMEOUT_MS },
        );
        const r = await settle(check, HOST_TIMEOUT_MS + 5_000);
        expect(r.elapsedMs).toBeLessThan(HOST_TIMEOUT_MS);
        final = r.value.structuredContent as ApprovalOutput;
      }
      expect(final.outcome).toBe('approved');
      expect(Date.now() - start).toBeGreaterThanOrEqual(HUMAN_DELAY_MS);
    },
    60_000,
  );
});

describe('cancellation from the host', () => {
  it('stops the wait: the call rejects and no poll is made after the abort', async () => {
    stack = await startLocalStack({ devices: [{ answer: 'never' }] });
    const inner = stack.client;
    let polls = 0;
    const counting: NoxyClient = {
      ...inner,
      waitForDecisionOutcome: (o) =>
        inner.waitForDecisionOutcome({
          ...o,
          onPoll: (info) => {
            polls += 1;
            o.onPoll?.(info);
          },
        }),
    };
    const host = await connect(stack, counting);
    const controller = new AbortController();
    const call = host.callTool({ name: 'request_human_approval', arguments: request }, undefined, {
      signal: controller.signal,
    });
    // The relay holds a hinted poll open (docs/protocol.md §12.3): one poll may be all there is before the abort.
    for (let i = 0; i < 100 && polls < 1; i++) await new Promise((r) => setTimeout(r, 20));
    expect(polls).toBeGreaterThanOrEqual(1);
    controller.abort('user cancelled');
    await expect(call).rejects.toThrow(/cancelled/);
    const atAbort = polls;
    await new Promise((r) => setTimeout(r, 2_500));
    expect(polls).toBe(atAbort);
  });
});
