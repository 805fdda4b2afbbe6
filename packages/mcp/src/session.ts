/**
 * Small helpers shared by the approval server and the gate proxy, kept apart from server.ts so
 * that the gate does not load `McpServer` and the tasks machinery it never uses (cold start).
 * @module
 */
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { IdentityContext } from './server.js';

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/**
 * The default owner of a decision: the authenticated principal when the transport attached one,
 * else the MCP session, else `''` (stdio: one host, the configured identity).
 */
export function defaultOwner(ctx: IdentityContext): string {
  if (ctx.authInfo) return `principal:${ctx.authInfo.clientId}`;
  if (ctx.sessionId) return `session:${ctx.sessionId}`;
  return '';
}

/**
 * Sends `notifications/progress` every `intervalMs` while `work` runs, only when the request
 * carried a progressToken (sending otherwise is a protocol error for some hosts).
 * @internal shared with the gate proxy
 */
export async function withProgress<T>(extra: Extra, intervalMs: number, work: () => Promise<T>): Promise<T> {
  const token = extra._meta?.progressToken;
  if (token === undefined) return work();
  let ticks = 0;
  const timer = setInterval(() => {
    ticks++;
    extra
      .sendNotification({
        method: 'notifications/progress',
        params: {
          progressToken: token,
          progress: ticks,
          message: `Waiting for the user's answer on their device (${Math.round((ticks * intervalMs) / 1000)} s)`,
        },
      })
      .catch(() => undefined); // a closed transport must not crash the wait
  }, intervalMs);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
