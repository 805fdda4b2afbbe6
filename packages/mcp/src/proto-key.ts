/**
 * Refusing `__proto__` keys in tool arguments.
 *
 * `JSON.parse` keeps a `"__proto__"` key as an own property, but the SDK's zod parsing of
 * `tools/call` copies arguments by assignment, where `__proto__` sets the prototype instead:
 * the key vanished silently, so the action a device was asked to approve (and the action hash)
 * was not the one the model sent. Such a call is refused before the SDK sees it, with a tool
 * error that names the key's path, so the model can rename it (docs/security.md: fail closed).
 * @module
 */
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

type OnMessage = NonNullable<Transport['onmessage']>;

/** Most nodes visited; a tool call's arguments are far smaller (the servers bound them to 64 KiB). */
const MAX_NODES = 100_000;

/**
 * The path of the first own `__proto__` key in `value` (e.g. `arguments.args.__proto__`), if any.
 * Walks iteratively, so deep nesting cannot overflow the stack; past {@link MAX_NODES} it
 * reports the value as refused too (fail closed).
 */
export function findProtoKey(value: unknown, root = 'arguments'): string | undefined {
  const stack: { node: unknown; path: string }[] = [{ node: value, path: root }];
  for (let visited = 0; stack.length > 0; visited++) {
    if (visited >= MAX_NODES) return `${root} (too large to check)`;
    const { node, path } = stack.pop()!;
    if (typeof node !== 'object' || node === null) continue;
    if (Object.hasOwn(node, '__proto__')) return `${path}.__proto__`;
    const isArray = Array.isArray(node);
    for (const [key, item] of Object.entries(node)) {
      stack.push({ node: item, path: isArray ? `${path}[${key}]` : `${path}.${key}` });
    }
  }
  return undefined;
}

/** The tool error for a refused call. */
export function protoKeyMessage(tool: string, path: string): string {
  return (
    `Invalid arguments for ${tool}: the key "__proto__" (${path}) is not accepted. JavaScript would drop it ` +
    'silently, so the action approved would not be the one you sent. Rename that key and call again.'
  );
}

/**
 * Makes `transport` answer a `tools/call` whose arguments hold a `__proto__` key with a tool
 * error instead of passing it on. Call after the server connected to the transport.
 */
export function refuseProtoKeys(transport: Transport): void {
  const inner = transport.onmessage;
  transport.onmessage = ((message, extra) => {
    const m = message as { id?: unknown; method?: unknown; params?: { name?: unknown; arguments?: unknown } };
    if (m.method === 'tools/call' && m.id !== undefined && m.params?.arguments !== undefined) {
      const path = findProtoKey(m.params.arguments);
      if (path !== undefined) {
        const text = protoKeyMessage(String(m.params.name), path);
        const refusal = { jsonrpc: '2.0', id: m.id, result: { isError: true, content: [{ type: 'text', text }] } };
        transport.send(refusal as unknown as JSONRPCMessage).catch(() => undefined);
        return;
      }
    }
    inner?.(message, extra);
  }) as OnMessage;
}
