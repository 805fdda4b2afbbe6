/**
 * Example: The agent client alone: send a decision, wait for the outcome on a paired device (offline, local relay). (being written.)
 * @module
 */
export {};
