/**
 * The "model": a tiny deterministic script of turns, so the demo runs offline, needs no API
 * key and always tells the same story. It speaks the shape every chat-model tool loop uses
 * (messages in; either a tool call or a final answer out), so swapping in a real model would
 * touch only this file. Real-model support is out of scope here (see README).
 * @module
 */

/** A tool call the model asks for. */
export interface ToolCall {
  id: string;
  name: string;
  args: Record<string, unknown>;
}

/** The conversation, as the model sees it. */
export type ChatMessage =
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCall?: ToolCall }
  | { role: 'tool'; toolCallId: string; content: string };

/** One model turn: call a tool, or answer the user. */
export type ModelTurn = { kind: 'tool_call'; text: string; call: ToolCall } | { kind: 'final'; text: string };

/** What the agent loop needs from a model. */
export interface ChatModel {
  readonly name: string;
  next(messages: readonly ChatMessage[]): Promise<ModelTurn>;
}

/** The user's request the script answers. */
export const USER_PROMPT = "Please pay Bob's Bikes invoice #1042 (250 EUR) from my account.";

/** The risky call the script makes: the arguments the human will see and approve. */
export const SCRIPTED_TRANSFER = { to: 'DE89 3704 0044 0532 0130 00', amount: 250, currency: 'EUR' } as const;

/** What the tool answered, as the agent loop reports it back to the model (JSON). */
interface ToolReply {
  status: 'executed' | 'not_executed';
  /** Why it did not run: rejected, expired, pending or action_mismatch. */
  reason?: string;
  message: string;
  result?: { transfer_id?: string };
}

/** The script's answer when the transfer did not run, by the gate's reason. */
const NOT_DONE: Record<string, string> = {
  rejected: "You rejected the transfer on your device, so I did not pay invoice #1042 and I won't retry it.",
  expired: 'Nobody approved the transfer in time, so I did not pay invoice #1042; nothing was sent.',
  pending: 'The transfer is still waiting for your approval, so invoice #1042 is not paid yet; nothing was sent.',
  action_mismatch: 'The transfer was blocked: its arguments differed from the ones you approved. Nothing was sent.',
};

/**
 * The scripted model. Turn 1: call `transfer_funds`. Turn 2: read the tool's reply and tell
 * the user what happened — quoting, when nothing was executed, what the approval gate told it.
 */
export function createScriptedModel(): ChatModel {
  return {
    name: 'scripted-model (offline, deterministic)',
    async next(messages) {
      const last = messages.at(-1);
      if (last?.role === 'user') {
        return {
          kind: 'tool_call',
          text: "Invoice #1042 is from Bob's Bikes; I'll transfer 250 EUR to their IBAN.",
          call: { id: 'call_1', name: 'transfer_funds', args: { ...SCRIPTED_TRANSFER } },
        };
      }
      if (last?.role === 'tool') {
        const reply = JSON.parse(last.content) as ToolReply;
        if (reply.status === 'executed') {
          return {
            kind: 'final',
            text: `Done: invoice #1042 is paid (transfer ${reply.result?.transfer_id ?? '?'}, 250 EUR to Bob's Bikes).`,
          };
        }
        return {
          kind: 'final',
          text:
            NOT_DONE[reply.reason ?? ''] ??
            'I did not pay invoice #1042: the transfer did not run, so nothing was sent.',
        };
      }
      return { kind: 'final', text: 'I have nothing to do.' };
    },
  };
}
