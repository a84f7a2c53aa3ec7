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
// - In a group (issue 8) the same payloads carry the group id `g`, inside the ciphertext only.
//   Typing goes to every member pairwise; a receipt goes to the message's sender only. Our
//   outgoing group message records who it went to (store/group-receipts.ts) and becomes
//   'delivered' / 'read' once every recipient still in the group has it / read it; readBy
//   names who read it. Typing and receipts from anyone not (or no longer) a member are ignored.
import { randomUUID } from 'node:crypto';
import { RefugeError, REPLY_QUOTE_CHARS, type Message, type ReplyRef } from '../../../shared/ipc/contract.js';
import type { presenceChannels, TypingState } from '../../../shared/ipc/channels/presence.js';
import { toBase64url } from '../../../shared/encoding/base64url.js';
import { deserializeSession, encryptMessage, serializeSession } from '../crypto/index.js';
import type { MessageRow, Store } from '../store/index.js';
import { getGroup, getGroupByConversation, groupEvents, listGroupMembers } from '../store/groups.js';
import { groupReaders, groupReceiptProgress, recordGroupReceipt } from '../store/group-receipts.js';
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
  /** by conversation, then by who is typing (several members of a group may type at once) */
  readonly #incoming = new Map<string, Map<string, number>>();
  readonly #sentTyping = new Map<string, number>();

  setIncoming(conversationId: string, peer: string, typing: boolean, now: number): void {
    const typists = this.#incoming.get(conversationId) ?? new Map<string, number>();
    if (typing) typists.set(peer, now + TYPING_SHOW_MS);
    else typists.delete(peer);
    if (typists.size > 0) this.#incoming.set(conversationId, typists);
    else this.#incoming.delete(conversationId);
  }

  /** `peer` sent a message: their indicator goes. */
  clearIncoming(conversationId: string, peer: string): void {
    this.setIncoming(conversationId, peer, false, 0);
  }

  list(now: number, conversationId?: string): TypingState[] {
    const out: TypingState[] = [];
    for (const [id, typists] of this.#incoming) {
      for (const [peer, until] of typists) {
        if (until <= now) typists.delete(peer);
        else if (conversationId === undefined || conversationId === id) out.push({ conversationId: id, peer, until });
      }
      if (typists.size === 0) this.#incoming.delete(id);
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
  state.clearIncoming(row.conversationId, row.sender);
}

/** Applies a receipt or typing payload from `from`. Call inside the receive transaction. */
export function receiveControl(
  store: Store,
  state: PresenceState,
  from: string,
  payload: Extract<Payload, { type: 'receipt' | 'typing' }>,
  now: number,
): void {
  if (payload.g !== undefined) {
    receiveGroupControl(store, state, from, { ...payload, g: payload.g }, now);
    return;
  }
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

/** Whether anything can go to `username` now: a session, and no changed identity waiting for the user. */
function reachable(store: Store, username: string): boolean {
  return pendingIdentityKey(store, username) === null && store.listSessionDevices(username).length > 0;
}

/** The group of `groupId` if we are in it and `from` is a member now; null otherwise. */
function groupWithMember(store: Store, groupId: string, from: string) {
  const group = getGroup(store, groupId);
  if (!group || !group.member) return null;
  return listGroupMembers(store, group.id).some((m) => m.username === from) ? group : null;
}

/** A receipt or typing payload naming group `g`: from a current member only. */
function receiveGroupControl(
  store: Store,
  state: PresenceState,
  from: string,
  payload: Extract<Payload, { type: 'receipt' | 'typing' }> & { g: string },
  now: number,
): void {
  const group = groupWithMember(store, payload.g, from);
  if (!group) return; // a non-member (or someone removed): nothing they say about the group counts
  if (payload.type === 'typing') {
    if (!socialSettings(store).typing) return;
    if (now - payload.sentAt > TYPING_MAX_AGE_MS) return;
    state.setIncoming(group.conversationId, from, payload.typing, now);
    return;
  }
  // With our `receipts` setting off a read receipt still proves delivery, but never shows 'read'.
  const kind = payload.kind === 'read' && socialSettings(store).receipts ? 'read' : 'delivered';
  const recorded = recordGroupReceipt(store, group.conversationId, from, kind, payload.ids, now);
  if (recorded.length > 0) settleGroupReceipts(store, group.id, recorded);
}

/**
 * Moves our outgoing group messages (`ids`, or all not yet read) to 'delivered' / 'read' once
 * every member they were sent to who is still in the group has them / read them: members who
 * left do not hold a message back. Call inside a transaction (also after a member left).
 */
export function settleGroupReceipts(store: Store, groupId: string, ids?: readonly string[]): void {
  const group = getGroup(store, groupId);
  if (!group) return;
  const progress = groupReceiptProgress(store, groupId, ids);
  const read = progress.filter((p) => p.read === p.recipients).map((p) => p.messageId);
  const delivered = progress.filter((p) => p.delivered === p.recipients && p.read < p.recipients).map((p) => p.messageId);
  // Reads are recorded only while `receipts` is on; with it off now, nothing new shows 'read'.
  if (socialSettings(store).receipts) markOutgoingRead(store, group.conversationId, read);
  else delivered.push(...read);
  store.updateMessageStatus(delivered, 'delivered');
}

/** For messages.list: Message.readBy on our outgoing group messages (the members who read each). */
export function withReadBy(store: Store, messages: Message[]): Message[] {
  const outgoing = messages.filter((m) => m.outgoing && !m.system).map((m) => m.id);
  const readers = groupReaders(store, outgoing);
  if (readers.size === 0) return messages;
  return messages.map((m) => {
    const readBy = readers.get(m.id);
    return readBy === undefined ? m : { ...m, readBy };
  });
}

/**
 * Read receipts for a group conversation: one per sender (pairwise, never to the group), naming
 * the messages of theirs just read. Nothing to members who left, nothing for membership events.
 */
function queueGroupReadReceipts(store: Store, conversationId: string, ids: readonly string[], now: number): void {
  const group = getGroupByConversation(store, conversationId);
  if (!group || !group.member) return;
  const members = new Set(listGroupMembers(store, group.id).map((m) => m.username));
  const events = groupEvents(store, ids);
  const bySender = new Map<string, string[]>();
  for (const id of ids) {
    if (events.has(id)) continue;
    const sender = store.getMessage(id)?.sender;
    if (sender === undefined || !members.has(sender)) continue;
    const list = bySender.get(sender) ?? [];
    list.push(id);
    bySender.set(sender, list);
  }
  for (const [sender, theirs] of bySender) {
    if (!reachable(store, sender)) continue;
    for (let i = 0; i < theirs.length; i += RECEIPT_BATCH) {
      queueForPeer(store, sender, { v: 1, type: 'receipt', kind: 'read', ids: theirs.slice(i, i + RECEIPT_BATCH), g: group.id }, null, now);
    }
  }
}

/** presence.typing on a group conversation: the typing payload to every member we can reach. */
function sendGroupTyping(store: Store, state: PresenceState, me: string, conversationId: string, typing: boolean, now: number): boolean {
  const group = getGroupByConversation(store, conversationId);
  if (!group || !group.member) return false;
  const to = listGroupMembers(store, group.id)
    .map((m) => m.username)
    .filter((u) => u !== me && reachable(store, u));
  if (to.length === 0 || !state.shouldSend(conversationId, typing, now)) return false;
  store.transaction(() => {
    for (const member of to) queueForPeer(store, member, { v: 1, type: 'typing', typing, sentAt: now, g: group.id }, null, now);
  });
  return true;
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
    if (conversation.kind === 'group') {
      queueGroupReadReceipts(store, conversationId, ids, now);
      return;
    }
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
      if (conversation.kind === 'group') {
        const me = ctx.requireAccount(store).username;
        return { queued: sendGroupTyping(store, state, me, conversation.id, req.typing, now) };
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

