import { createServer } from 'node:net';
import { createNoxyClient, type NoxyClient } from '@noxy-approval/core';
import { startLocalStack, type LocalStack } from '@noxy-approval/testing';
import { afterEach, describe, expect, it } from 'vitest';

// The first failures a new user meets, tried as they would meet them: each message names the fix.
let stack: LocalStack | undefined;
const clients: NoxyClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await stack?.close();
  stack = undefined;
});

const clientFor = (endpoint: string, authToken = 'tok') => {
  const c = createNoxyClient({ endpoint, authToken, kem: 'mlkem', timeouts: { other: 3_000 } });
  clients.push(c);
  return c;
};

/** A loopback port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('errors a newcomer meets name the fix', () => {
  it('nothing listening: asks whether `noxy-relay start` is running', async () => {
    const endpoint = `http://127.0.0.1:${await closedPort()}`;
    const err = await clientFor(endpoint)
      .getQuota()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'RELAY_UNAVAILABLE' });
    expect((err as Error).message).toContain(`cannot reach the relay at ${endpoint}: is \`noxy-relay start\` running`);
    expect((err as Error).message).not.toMatch(/Resolution note: *$/);
  });

  it("the relay's HTTP port given as the gRPC endpoint: says so", async () => {
    stack = await startLocalStack();
    const err = await clientFor(stack.relay.httpUrl, stack.appToken)
      .getQuota()
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain("not as a gRPC relay: is it the relay's HTTP port");
  });

  it('a wrong token names NOXY_AUTH_TOKEN and `noxy-relay app create`, never the token', async () => {
    stack = await startLocalStack();
    const err = await clientFor(stack.relay.grpcUrl, 'not-the-app-token')
      .getQuota()
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((err as Error).message).toContain('NOXY_AUTH_TOKEN');
    expect((err as Error).message).toContain('noxy-relay app create');
    expect((err as Error).message).not.toContain('not-the-app-token');
  });

  it('no device: gives the pair command', async () => {
    stack = await startLocalStack();
    const err = await stack.client.sendDecision('nobody@example.com', { title: 't' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'NO_DEVICES' });
    expect((err as Error).message).toContain('noxy-relay pair --app APP_ID --identity ID');
  });
});
