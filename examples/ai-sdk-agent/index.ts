/**
 * Example: A Vercel AI SDK agent whose transfer_funds waits for Approve on the user's device (offline, local relay). (being written.)
 * @module
 */
export {};
