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

export const MessageStatusSchema = z.enum(['sending', 'sent', 'delivered', 'failed', 'received']);
export type MessageStatus = z.infer<typeof MessageStatusSchema>;

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
});
export type Message = z.infer<typeof MessageSchema>;

export const ContactSchema = z.object({
  username: z.string(),
  identityKey: z.string(),
  verified: z.boolean(),
  addedAt: z.number().int(),
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

