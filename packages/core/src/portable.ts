/**
 * `@noxy-approval/core/portable` — everything of core that runs anywhere (browsers, workers,
 * Node): the envelope, identities, endpoint rules and the error type. No Node built-ins below
 * this entry; the device's browser bundle imports it (a test bundles it for the browser).
 *
 * Every export is public API.
 * @module
 */
export * from './envelope/index.js';
export {
  IDENTITY_TYPES,
  inferIdentityType,
  parseIdentity,
  type Identity,
  type IdentityInput,
  type IdentityType,
} from './identity.js';
export { isLoopbackHost, parseEndpoint, type RelayEndpoint } from './endpoint.js';
