// Error codes the sync client raises itself (the relay's own codes are in shared/protocol/events.ts).
import { RefugeError } from '../ipc/contract.js';

export const SyncErrorCode = {
  /** Cannot connect, or the connection dropped while a request was outstanding. */
  RELAY_UNREACHABLE: 'RELAY_UNREACHABLE',
  /** The relay did not answer a request in time. */
  RELAY_TIMEOUT: 'RELAY_TIMEOUT',
  /** The relay answered something that does not match the protocol. */
  PROTOCOL_ERROR: 'PROTOCOL_ERROR',
  /** A request failed local validation before it was sent. */
  BAD_REQUEST: 'BAD_REQUEST',
  /** core.receive threw: nothing was acked, the relay will redeliver. */
  CORE_RECEIVE_FAILED: 'CORE_RECEIVE_FAILED',
  /** The engine was stopped while drain() waited. */
  SYNC_STOPPED: 'SYNC_STOPPED',
  /** drain() did not finish within its timeout. */
  DRAIN_TIMEOUT: 'DRAIN_TIMEOUT',
  /** The relay closed the socket because a message was above its size limit (WebSocket close 1009). */
  MESSAGE_TOO_LARGE: 'MESSAGE_TOO_LARGE',
} as const;

/**
 * A refusal the relay answered with. `retryAfterMs` is set for transient refusals (rate limits,
 * a full mailbox): the same request may succeed after that long (see isTransientErrorCode).
 */
export class RelayRefusal extends RefugeError {
  constructor(
    code: string,
    message: string,
    readonly retryAfterMs?: number,
  ) {
    super(code, message);
  }
}

/** Anything thrown (RefugeError, an IPC error object with code+message, an Error) as a RefugeError. */
export function toRefugeError(error: unknown, fallbackCode = 'INTERNAL'): RefugeError {
  if (error instanceof RefugeError) return error;
  if (error && typeof error === 'object') {
    const { code, message } = error as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && typeof message === 'string') return new RefugeError(code, message);
    if (typeof message === 'string') return new RefugeError(fallbackCode, message);
  }
  return new RefugeError(fallbackCode, String(error));
}
