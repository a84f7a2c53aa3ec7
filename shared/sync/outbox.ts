// Sending the core's outbox over an authenticated RelayClient: batches bounded by count and
// size, markSent only for what the relay accepted, permanent rejections set aside.
import { RefugeError } from '../ipc/contract.js';
import { type OutgoingEnvelope, OutgoingEnvelopeSchema } from '../protocol/envelope.js';
import { BATCH_BODY_CHARS, isTransientErrorCode, MAX_SEND_BATCH } from '../protocol/events.js';
import type { RelayClient } from './client.js';
import type { SyncCore } from './core.js';

export interface OutboxRejection {
  id: string;
  to: string;
  toDeviceId: number;
  code: string;
  message: string;
  /** A refusal that goes away (MAILBOX_FULL...): the envelope stays in the outbox and is sent again later. */
  transient?: boolean;
  /** For a transient refusal: when to try again (ms). */
  retryAfterMs?: number;
}

export interface OutboxFlushOptions {
  /** Envelopes per outbox.pending call and per relay batch (<= 500). Default 200. */
  batchSize?: number;
  /**
   * Ids to leave alone (permanently rejected earlier). Ids rejected during this flush are added,
   * so a caller that keeps the set across flushes never resends a rejected envelope.
   */
  skip?: Set<string>;
  /** Checked before each relay batch; returning false ends the flush early. */
  shouldContinue?: () => boolean;
  onSent?: (ids: string[]) => void;
  onRejected?: (rejection: OutboxRejection) => void;
}

export interface OutboxFlushResult {
  sent: number;
  /** Permanent and transient refusals. */
  rejected: OutboxRejection[];
  /** Envelopes refused for now (transient) and left in the outbox; retry after `retryAfterMs`. Absent when none. */
  deferred?: number;
  retryAfterMs?: number;
}

/** Splits envelopes into relay batches by count and total body size (one envelope always fits). */
export function batchEnvelopes(envelopes: OutgoingEnvelope[], maxCount: number): OutgoingEnvelope[][] {
  const batches: OutgoingEnvelope[][] = [];
  let current: OutgoingEnvelope[] = [];
  let chars = 0;
  for (const e of envelopes) {
    if (current.length > 0 && (current.length >= maxCount || chars + e.body.length > BATCH_BODY_CHARS)) {
      batches.push(current);
      current = [];
      chars = 0;
    }
    current.push(e);
    chars += e.body.length;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Sends everything pending in the outbox; returns when the outbox holds nothing sendable. */
export async function flushOutboxWith(client: RelayClient, core: SyncCore, options: OutboxFlushOptions = {}): Promise<OutboxFlushResult> {
  const batchSize = Math.max(1, Math.min(MAX_SEND_BATCH, options.batchSize ?? 200));
  const skip = options.skip ?? new Set<string>();
  const accepted = new Set<string>(); // guards against a core whose markSent does not take effect
  const deferred = new Set<string>(); // refused for now: left alone for the rest of this flush only
  let retryAfterMs: number | undefined;
  const rejected: OutboxRejection[] = [];
  let sent = 0;
  const reject = (e: OutgoingEnvelope, code: string, message: string, retryAfter?: number) => {
    const transient = isTransientErrorCode(code);
    if (transient) {
      deferred.add(e.id);
      retryAfterMs = Math.max(retryAfterMs ?? 0, retryAfter ?? 0);
    } else {
      skip.add(e.id);
    }
    const rejection: OutboxRejection = { id: e.id, to: e.to, toDeviceId: e.toDeviceId, code, message };
    if (transient) {
      rejection.transient = true;
      if (retryAfter !== undefined) rejection.retryAfterMs = retryAfter;
    }
    rejected.push(rejection);
    options.onRejected?.(rejection);
  };

  const proceed = options.shouldContinue ?? (() => true);
  while (proceed()) {
    const limit = Math.min(1000, batchSize + skip.size + accepted.size + deferred.size);
    const pending = (await core.pendingOutbox(limit)).filter((e) => !skip.has(e.id) && !accepted.has(e.id) && !deferred.has(e.id));
    if (pending.length === 0) break;
    const valid: OutgoingEnvelope[] = [];
    for (const e of pending) {
      if (OutgoingEnvelopeSchema.safeParse(e).success) valid.push(e);
      else reject(e, 'BAD_REQUEST', 'the outbox holds a malformed envelope');
    }
    for (const batch of batchEnvelopes(valid, batchSize)) {
      if (!proceed()) break;
      const results = await client.sendEnvelopes(batch);
      const byId = new Map(batch.map((e) => [e.id, e]));
      const ok: string[] = [];
      for (const r of results) {
        const envelope = byId.get(r.id);
        if (!envelope) continue;
        if (r.accepted) ok.push(r.id);
        else reject(envelope, r.error.code, r.error.message, r.error.retryAfterMs);
      }
      if (ok.length > 0) {
        await core.markSent(ok);
        for (const id of ok) accepted.add(id);
        sent += ok.length;
        options.onSent?.(ok);
      }
      const answered = new Set(results.map((r) => r.id));
      const missing = batch.filter((e) => !answered.has(e.id));
      if (missing.length > 0) throw new RefugeError('PROTOCOL_ERROR', 'the relay did not answer for every envelope');
    }
  }
  const result: OutboxFlushResult = { sent, rejected };
  if (deferred.size > 0) {
    result.deferred = deferred.size;
    result.retryAfterMs = retryAfterMs ?? 0;
  }
  return result;
}
