/**
 * Example: noxy-mcp as Claude Desktop runs it: a config for a local checkout and a script that plays the host (offline). (being written.)
 * @module
 */
export {};
