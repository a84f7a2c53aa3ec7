// shared/sync: the one client of the relay, used by the renderer and the CLI.
// Runs in browsers and Node alike: socket.io-client, zod and shared/* only.
export { RelayClient, type RelayClientOptions, type PrekeyCounts } from './client.js';
export { coreFromApi, type SignedChallenge, type SyncCore } from './core.js';
export { Emitter } from './emitter.js';
export { RelayRefusal, SyncErrorCode, toRefugeError } from './errors.js';
export {
  SyncEngine,
  type BackoffOptions,
  type DrainOptions,
  type SyncEngineOptions,
  type SyncEvents,
  type SyncState,
} from './engine.js';
export { addContact, authenticate, flushOutbox, reestablishSessions, registerAccount, withRelay, type SessionResetResult } from './flows.js';
export { batchEnvelopes, flushOutboxWith, type OutboxFlushOptions, type OutboxFlushResult, type OutboxRejection } from './outbox.js';
export { ensureSessions, type EnsureSessionsResult } from './flows.js';
