/**
 * @noxy-approval/mcp — an MCP server whose tools ask the user's own phone or browser for
 * approval through Noxy. The bin `noxy-mcp` serves it over stdio or Streamable HTTP.
 *
 * Every export is public API.
 * @module
 */
export {
  createApprovalServer,
  defaultOwner,
  SERVER_VERSION,
  type ApprovalServerOptions,
  type IdentityContext,
} from './server.js';
export { configWarnings, loadConfig, maskIdentity, type ConfigResult, type McpConfig } from './config.js';
export { serveHttp, type HttpEndpoint, type HttpOptions } from './http.js';
