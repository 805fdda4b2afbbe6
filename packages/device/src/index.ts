/**
 * @noxy-approval/device — a Noxy device (keys, registration, decryption, ack, outcome) over
 * gRPC or WebSocket, and the display of decisions for a human.
 *
 * Every export is public API. This entry is for Node (it adds the file key store, the gRPC
 * transport and `ws`); browser code imports `@noxy-approval/device/browser`, which has no Node
 * built-ins.
 * @module
 */
export {
  registrationMessage,
  registrationSignature,
  verifyRegistrationSignature,
  type RegistrationFields,
} from './registration.js';
export { createNoxyDevice, type NoxyDeviceNodeOptions } from './node-device.js';
export { createFileKeyStore, keyFileName } from './file-key-store.js';
export { createGrpcTransport, grpcTarget, type GrpcTarget, type GrpcTransportOptions } from './transport-grpc.js';
export { deviceSignature, checkDeviceKeys, generateDeviceKeys } from './keys.js';
export { webPageBuilt, webPageDir } from './web-page.js';
export { nodeEd25519Sign } from './node-sign.js';
export * from './browser.js';
