/**
 * The chat's contract, the very one examples/chat's server serves: this example is a second
 * front-end for the same server.
 */
export * from '../../chat/src/contract.js';
