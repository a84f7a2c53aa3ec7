// The core's presence area: read receipts, typing indicators, replies, retry and mute.
// Handlers for shared/ipc/channels/presence.ts, plus the pieces core.ts calls on its send,
// receive and mark-read paths.
//
// Receipts and typing travel as end-to-end encrypted control payloads (payload.ts) inside the
// same Double Ratchet sessions as text; the relay cannot tell them from messages.
// - Delivery receipts are always sent (as in Signal: they confirm the envelope arrived, and
//   the relay could infer delivery from the ack anyway); they are not affected by `receipts`.
// - Read receipts obey the `receipts` setting both ways: with it off we send none AND ignore
//   the ones we get, so our messages never show 'read' (Signal's rule).
// - Typing obeys the `typing` setting both ways likewise. Typing state is never stored: it
//   lives in memory (PresenceState) and expires.
import { randomUUID } from 'node:crypto';
import { RefugeError, REPLY_QUOTE_CHARS, type Message, type ReplyRef } from '../../../shared/ipc/contract.js';
import type { presenceChannels, TypingState } from '../../../shared/ipc/channels/presence.js';
import { toBase64url } from '../../../shared/encoding/base64url.js';
import { deserializeSession, encryptMessage, serializeSession } from '../crypto/index.js';
import type { MessageRow, Store } from '../store/index.js';
import {
  deleteOutboxOfMessage,
  markOutgoingRead,
  pendingIdentityKey,
  replyRows,
  setConversationMuted,
  setReplyTo,
  takeUnreadIncoming,
} from '../store/social.js';
import { encodePayload, type Payload } from './payload.js';
import type { AreaHandlers, CoreContext } from './context.js';
import { readSettings } from './settings.js';
import { assertSendable } from './verify.js';
import { toMessage } from './views.js';

/** A typing payload older than this on arrival is dropped (it was queued while offline). */
export const TYPING_MAX_AGE_MS = 10_000;
/** How long an indicator shows after a "started typing" arrives, unless refreshed or stopped. */
export const TYPING_SHOW_MS = 15_000;
/** While typing continues, "started" is re-sent at most this often (the receiver's TTL is longer). */
export const TYPING_RESEND_MS = 5_000;
/** Ids per receipt payload (the payload schema's limit). */
const RECEIPT_BATCH = 1000;

export interface SocialSettings {
  /** send read receipts and show the peer's */
  receipts: boolean;
  /** send typing indicators and show the peer's */
  typing: boolean;
}

/** The user's receipts/typing choices (settings.ts; both default to on). */
export function socialSettings(store: Store): SocialSettings {
  const { receipts, typing } = readSettings(store);
  return { receipts, typing };
}

/** In-memory presence of one core: who is typing to us, and when we last told whom. */
export class PresenceState {
  readonly #incoming = new Map<string, { peer: string; until: number }>();
  readonly #sentTyping = new Map<string, number>();

  setIncoming(conversationId: string, peer: string, typing: boolean, now: number): void {
    if (typing) this.#incoming.set(conversationId, { peer, until: now + TYPING_SHOW_MS });
    else this.#incoming.delete(conversationId);
  }

  clearIncoming(conversationId: string): void {
    this.#incoming.delete(conversationId);
  }

  list(now: number, conversationId?: string): TypingState[] {
    const out: TypingState[] = [];
    for (const [id, entry] of this.#incoming) {
      if (entry.until <= now) {
        this.#incoming.delete(id);
        continue;
      }
      if (conversationId === undefined || conversationId === id) out.push({ conversationId: id, peer: entry.peer, until: entry.until });
    }
    return out;
  }

  /** Whether a typing change should go out now (throttles repeats), recording it if so. */
  shouldSend(conversationId: string, typing: boolean, now: number): boolean {
    const last = this.#sentTyping.get(conversationId);
    if (typing) {
      if (last !== undefined && now - last < TYPING_RESEND_MS && now >= last) return false;
      this.#sentTyping.set(conversationId, now);
      return true;
    }
    this.#sentTyping.delete(conversationId);
    // A stop only matters while the peer may still show our last start.
    return last !== undefined && now - last < TYPING_SHOW_MS;
  }

  /** We sent a message: the peer clears our indicator, so the next keystroke starts afresh. */
  sentMessage(conversationId: string): void {
    this.#sentTyping.delete(conversationId);
  }

  clear(): void {
    this.#incoming.clear();
    this.#sentTyping.clear();
  }
}

/**
 * Encrypts `payload` for `deviceIds` (default: every device we have a session with) of `peer`,
 * advances each session and queues the envelopes. Call inside a transaction.
 */
export function queueForPeer(store: Store, peer: string, payload: Payload, messageId: string | null, now: number, deviceIds?: number[]): void {
  const devices = deviceIds ?? store.listSessionDevices(peer);
  if (devices.length === 0) throw new RefugeError('NO_SESSION', `There is no secure session with ${peer} yet.`);
  const plaintext = encodePayload(payload);
  const rows = devices.map((deviceId) => {
    const record = store.getSession(peer, deviceId);
    if (!record) throw new RefugeError('NO_SESSION', `There is no secure session with ${peer} yet.`);
    const { session, ciphertext } = encryptMessage(deserializeSession(record), plaintext, now);
    store.putSession(peer, deviceId, serializeSession(session));
    return { envelopeId: randomUUID(), messageId, to: peer, toDeviceId: deviceId, body: toBase64url(ciphertext), createdAt: now };
  });
  store.enqueueOutbox(rows);
}

// ---- replies ------------------------------------------------------------------------------------

function quote(text: string): string {
  const chars = Array.from(text); // by code point: never split a surrogate pair
  return chars.length <= REPLY_QUOTE_CHARS ? text : `${chars.slice(0, REPLY_QUOTE_CHARS).join('')}…`;
}

/** The reply reference for a message being sent; the quoted message must be in the same conversation. */
export function replyTarget(store: Store, conversationId: string, replyTo: string): ReplyRef {
  const quoted = store.getMessage(replyTo);
  if (!quoted || quoted.conversationId !== conversationId) {
    throw new RefugeError('UNKNOWN_MESSAGE', 'The message you are replying to is not in this conversation.');
  }
  return { id: quoted.id, found: true, sender: quoted.sender, text: quote(quoted.text) };
}

/** Fills in Message.replyTo for messages read from the store. */
export function withReplies(store: Store, messages: Message[]): Message[] {
  const replies = replyRows(store, messages.map((m) => m.id));
  if (replies.size === 0) return messages.map((m) => ({ ...m, replyTo: null }));
  return messages.map((m) => {
    const row = replies.get(m.id);
    if (!row) return { ...m, replyTo: null };
    const replyTo: ReplyRef = row.quoted
      ? { id: row.id, found: true, sender: row.quoted.sender, text: quote(row.quoted.text) }
      : { id: row.id, found: false, sender: '', text: '' };
    return { ...m, replyTo };
  });
}

// ---- receive and mark-read paths (called by core.ts) ----------------------------------------

/** A text message from `from` was stored: remember what it replies to, and the peer stopped typing. */
export function onIncomingText(store: Store, state: PresenceState, row: MessageRow, replyTo: string | undefined): void {
  if (replyTo !== undefined && replyTo !== row.id) setReplyTo(store, row.id, replyTo);
  state.clearIncoming(row.conversationId);
}

/** Applies a receipt or typing payload from `from`. Call inside the receive transaction. */
export function receiveControl(
  store: Store,
  state: PresenceState,
  from: string,
  payload: Extract<Payload, { type: 'receipt' | 'typing' }>,
  now: number,
): void {
  const conversation = store.getOrCreateDirectConversation(from, now);
  if (payload.type === 'typing') {
    if (!socialSettings(store).typing) return;
    if (now - payload.sentAt > TYPING_MAX_AGE_MS) return; // queued while someone was offline: stale
    state.setIncoming(conversation.id, from, payload.typing, now);
    return;
  }
  const own = payload.ids.filter((id) => {
    const message = store.getMessage(id);
    return message !== undefined && message.outgoing && message.conversationId === conversation.id;
  });
  if (own.length === 0) return;
  if (payload.kind === 'delivered') store.updateMessageStatus(own, 'delivered');
  else if (socialSettings(store).receipts) markOutgoingRead(store, conversation.id, own);
}

/**
 * conversations.markRead: clears the unread count and, if the `receipts` setting is on, queues
 * one encrypted read receipt naming the incoming messages read just now.
 */
export function markConversationRead(store: Store, conversationId: string, now: number): void {
  store.transaction(() => {
    store.markConversationRead(conversationId);
    const conversation = store.getConversation(conversationId);
    if (!conversation) return;
    const ids = takeUnreadIncoming(store, conversationId, now);
    if (ids.length === 0 || !socialSettings(store).receipts) return;
    // Nothing goes out to an identity the user has not accepted; no session: nothing to say.
    if (pendingIdentityKey(store, conversation.peer) || store.listSessionDevices(conversation.peer).length === 0) return;
    for (let i = 0; i < ids.length; i += RECEIPT_BATCH) {
      queueForPeer(store, conversation.peer, { v: 1, type: 'receipt', kind: 'read', ids: ids.slice(i, i + RECEIPT_BATCH) }, null, now);
    }
  });
}

// ---- handlers -------------------------------------------------------------------------------

export function presenceHandlers(ctx: CoreContext, state: PresenceState): AreaHandlers<keyof typeof presenceChannels> {
  return {
    'presence.typing': (req) => {
      const store = ctx.requireReady();
      const conversation = store.getConversation(req.conversationId);
      if (!conversation) throw new RefugeError('UNKNOWN_CONVERSATION', 'That conversation does not exist.');
      const now = ctx.now();
      if (!socialSettings(store).typing) {
        state.sentMessage(conversation.id); // forget any start sent before the setting went off
        return { queued: false };
      }
      if (pendingIdentityKey(store, conversation.peer) || store.listSessionDevices(conversation.peer).length === 0) return { queued: false };
      if (!state.shouldSend(conversation.id, req.typing, now)) return { queued: false };
      store.transaction(() => queueForPeer(store, conversation.peer, { v: 1, type: 'typing', typing: req.typing, sentAt: now }, null, now));
      return { queued: true };
    },
    'presence.state': (req) => {
      const store = ctx.requireReady();
      if (!socialSettings(store).typing) return { typing: [] };
      return { typing: state.list(ctx.now(), req.conversationId) };
    },
    'messages.retry': (req) => {
      const store = ctx.requireReady();
      const message = store.getMessage(req.messageId);
      if (!message) throw new RefugeError('UNKNOWN_MESSAGE', 'That message does not exist.');
      if (!message.outgoing || message.status !== 'failed') throw new RefugeError('NOT_RETRYABLE', 'Only a message that failed to send can be retried.');
      const conversation = store.getConversation(message.conversationId);
      if (!conversation) throw new RefugeError('UNKNOWN_CONVERSATION', 'That conversation does not exist.');
      assertSendable(store, conversation.peer);
      const now = ctx.now();
      const replyTo = replyRows(store, [message.id]).get(message.id)?.id;
      store.transaction(() => {
        // Whatever is still queued for it goes too: one fresh copy per device. The recipient
        // deduplicates by message id, so a copy that did arrive before is not shown twice.
        deleteOutboxOfMessage(store, message.id);
        const payload: Payload = {
          v: 1,
          type: 'text',
          id: message.id,
          text: message.text,
          sentAt: message.sentAt,
          ...(replyTo !== undefined ? { replyTo } : {}),
        };
        queueForPeer(store, conversation.peer, payload, message.id, now);
        store.updateMessageStatus([message.id], 'sending');
      });
      const [view] = withReplies(store, [{ ...toMessage(message), status: 'sending' }]);
      if (!view) throw new RefugeError('INTERNAL', 'Something went wrong inside Refuge.');
      return view;
    },
    'conversations.setMuted': (req) => {
      const store = ctx.requireReady();
      if (!setConversationMuted(store, req.conversationId, req.muted)) {
        throw new RefugeError('UNKNOWN_CONVERSATION', 'That conversation does not exist.');
      }
      return { ok: true as const };
    },
  };
}

