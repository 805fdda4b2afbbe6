/**
 * The agent: the usual tool loop (ask the model; run the tool it calls; give it the result;
 * repeat until it answers). It knows nothing about approvals: core's gate is inside the tool
 * (demo.ts, `gatedTransfer`), which is how the MCP, LangChain and AI SDK wrappers gate tools too.
 * @module
 */
import { safe, type DemoLog } from './log.js';
import type { ChatMessage, ChatModel, ToolCall } from './model.js';

/** A tool as the agent sees it: a call in, the JSON text the model reads out. */
export type AgentTool = (call: ToolCall) => Promise<string>;

/** The end of a run. */
export interface AgentRun {
  /** The model's answer to the user. */
  finalText: string;
  /** The whole conversation, for inspection. */
  messages: ChatMessage[];
}

/** Stops a model that keeps calling tools (a real model can loop; a demo must end). */
const MAX_TURNS = 4;

/**
 * Runs the loop for one user request.
 * @throws Error when the model calls an unknown tool or does not finish within a few turns
 */
export async function runAgent(
  model: ChatModel,
  userPrompt: string,
  tools: Readonly<Record<string, AgentTool>>,
  log: DemoLog,
): Promise<AgentRun> {
  log.say('agent', `model: ${model.name}; tools: ${Object.keys(tools).join(', ')}`);
  log.say('agent', `user asks: "${safe(userPrompt)}"`);
  const messages: ChatMessage[] = [{ role: 'user', content: userPrompt }];
  for (let turn = 0; turn < MAX_TURNS; turn++) {
    const next = await model.next(messages);
    if (next.kind === 'final') {
      messages.push({ role: 'assistant', content: next.text });
      log.say('model', `says: "${safe(next.text)}"`);
      return { finalText: next.text, messages };
    }
    const { call } = next;
    messages.push({ role: 'assistant', content: next.text, toolCall: call });
    log.say('model', `says: "${safe(next.text)}"`);
    log.say('model', `calls ${safe(call.name)}(${safe(JSON.stringify(call.args))})`);
    const tool = tools[call.name];
    if (!tool) throw new Error(`the model called an unknown tool "${safe(call.name)}"`);
    const content = await tool(call);
    log.say('agent', `the tool's result goes back to the model (${content.length} characters of JSON)`);
    messages.push({ role: 'tool', toolCallId: call.id, content });
  }
  throw new Error(`the model did not finish within ${MAX_TURNS} turns`);
}
