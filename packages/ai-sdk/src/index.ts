/**
 * @noxy-approval/ai-sdk — Vercel AI SDK integration (in progress).
 *
 * Every export is public API.
 * @module
 */
export {};
