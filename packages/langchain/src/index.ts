/**
 * @noxy-approval/langchain — LangChain.js integration (in progress).
 *
 * Every export is public API.
 * @module
 */
export {};
