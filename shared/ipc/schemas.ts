// Schemas shared by several areas of the contract.
import { z } from 'zod';
import { DeviceId, DeviceKeysUploadSchema } from '../protocol/keys.js';
import { EnvelopeIdSchema } from '../protocol/envelope.js';

export const AppStatusSchema = z.object({
  /** no-account: onboarding; unregistered: keys exist but the relay has not accepted them; locked: profile exists, key wrapped; ready: unlocked. */
  state: z.enum(['no-account', 'unregistered', 'locked', 'ready']),
  username: z.string().optional(),
  deviceId: DeviceId.optional(),
  serverUrl: z.string().optional(),
  /** true when unlocking needs a passphrase (no OS keychain, or the user chose an app lock). */
  passphraseRequired: z.boolean(),
});
export type AppStatus = z.infer<typeof AppStatusSchema>;

/** read: the peer read our (outgoing) message; shown only while both sides have read receipts on. */
export const MessageStatusSchema = z.enum(['sending', 'sent', 'delivered', 'failed', 'received', 'read']);
export type MessageStatus = z.infer<typeof MessageStatusSchema>;

/** How much of a quoted message a reply carries for display. */
export const REPLY_QUOTE_CHARS = 200;

/** What a reply quotes. `found` is false when the quoted message is not on this device (text and sender are then ''). */
export const ReplyRefSchema = z.object({
  id: z.string(),
  found: z.boolean(),
  /** 'me' or the username, like Message.sender */
  sender: z.string(),
  /** the quoted text, truncated (REPLY_QUOTE_CHARS characters and an ellipsis) */
  text: z.string(),
});
export type ReplyRef = z.infer<typeof ReplyRefSchema>;

/** A group membership change, as a system message. `actor` and the usernames in `members` are 'me' for us. */
export const GroupEventSchema = z.object({
  kind: z.enum(['create', 'add', 'remove', 'leave', 'rename', 'admin']),
  actor: z.string(),
  /** create/add: who joined; remove/admin: the member concerned */
  members: z.array(z.string()).optional(),
  /** create/rename: the group's (new) name */
  name: z.string().optional(),
  /** admin: granted (true) or revoked (false) */
  admin: z.boolean().optional(),
});
export type GroupEvent = z.infer<typeof GroupEventSchema>;

export const MessageSchema = z.object({
  id: z.string(),
  conversationId: z.string(),
  /** 'me' for our own messages, otherwise the sender's username. */
  sender: z.string(),
  outgoing: z.boolean(),
  text: z.string(),
  sentAt: z.number().int(),
  receivedAt: z.number().int().nullable(),
  status: MessageStatusSchema,
  /** the message this one replies to (absent or null: not a reply) */
  replyTo: ReplyRefSchema.nullable().optional(),
  /** set on a group's membership events: show as a system line, not a bubble (text is an English fallback) */
  system: GroupEventSchema.optional(),
  /**
   * Our outgoing group messages (messages.list): the members who read it, earliest first ([]:
   * nobody yet). Absent on every other message. Only read receipts that arrived while our
   * `receipts` setting was on count; status becomes 'read' once every member it was sent to who
   * is still in the group read it.
   */
  readBy: z.array(z.string()).optional(),
});
export type Message = z.infer<typeof MessageSchema>;

export const ContactSchema = z.object({
  username: z.string(),
  identityKey: z.string(),
  verified: z.boolean(),
  addedAt: z.number().int(),
  /** their identity key changed and the user has not accepted it yet: sending is held (IDENTITY_CHANGED) */
  identityChanged: z.boolean(),
});
export type Contact = z.infer<typeof ContactSchema>;

export const ConversationSummarySchema = z.object({
  id: z.string(),
  peer: z.string(),
  lastMessage: z
    .object({ text: z.string(), outgoing: z.boolean(), sentAt: z.number().int(), status: MessageStatusSchema })
    .nullable(),
  unreadCount: z.number().int().nonnegative(),
  updatedAt: z.number().int(),
  /** no notifications for this conversation */
  muted: z.boolean(),
  /** the peer's identity key changed and was not accepted yet (show the banner; sending is held) */
  identityChanged: z.boolean(),
  /** 'group': `peer` is '' and `groupId`/`name` say which group (groups.info has its members) */
  kind: z.enum(['direct', 'group']).optional(),
  groupId: z.string().optional(),
  name: z.string().optional(),
});
export type ConversationSummary = z.infer<typeof ConversationSummarySchema>;

export const MessageText = z.string().min(1).max(64 * 1024);
export const Passphrase = z.string().min(1).max(1024);

export const RegistrationSchema = z.object({
  username: z.string(),
  deviceId: DeviceId,
  keys: DeviceKeysUploadSchema,
});
export type Registration = z.infer<typeof RegistrationSchema>;

export const EnvelopeResultSchema = z.object({
  id: EnvelopeIdSchema,
  /** stored: new and saved; duplicate: seen before; rejected: undecryptable — ack all three, the relay must drop them. */
  outcome: z.enum(['stored', 'duplicate', 'rejected']),
  reason: z.string().optional(),
  /** the chat message this envelope carried, when it was a new one (for display and notifications) */
  message: MessageSchema.optional(),
});
export type EnvelopeResult = z.infer<typeof EnvelopeResultSchema>;

