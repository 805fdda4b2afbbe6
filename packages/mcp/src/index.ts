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
export { createGateProxy, type GateProxy, type GateProxyOptions } from './gate/proxy.js';
export {
  gateConfigSchema,
  loadGateConfig,
  parseGateConfig,
  type ArgPredicate,
  type GateConfig,
  type ToolRule,
} from './gate/config.js';
export { mergeRules, needsApproval, type GateRules, type GateVerdict } from './gate/rules.js';
export { Upstream, type OnConnect, type UpstreamConnection, type UpstreamSpec } from './gate/upstream.js';
