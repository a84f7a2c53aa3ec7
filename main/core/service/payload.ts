// What travels inside the ratchet: a small versioned JSON payload, padded so the
// ciphertext length reveals only a coarse size class (like Signal's 160-byte padding).
import { z } from 'zod';
import { GroupIdSchema } from '../../../shared/ipc/channels/groups.js';
import { GroupControlPayloadSchema, GroupMessagePayloadSchema } from './group-log.js';

const PAD_BLOCK = 160;

export const TextPayloadSchema = z.object({
  v: z.literal(1),
  type: z.literal('text'),
  id: z.string().min(1).max(64),
  text: z.string().min(1).max(64 * 1024),
  sentAt: z.number().int().nonnegative(),
  /** the id of the message this one replies to (same conversation); older clients ignore it */
  replyTo: z.string().min(1).max(64).optional(),
});

export const ReceiptPayloadSchema = z.object({
  v: z.literal(1),
  type: z.literal('receipt'),
  /** delivered: always sent on receipt; read: sent when the user opens the conversation, if their `receipts` setting is on */
  kind: z.enum(['delivered', 'read']),
  ids: z.array(z.string().min(1).max(64)).min(1).max(1000),
  /**
   * set for messages of a group: the group id (only ever inside the ciphertext). A group receipt
   * goes pairwise to the message's sender only; absent: messages of the 1:1 conversation.
   */
  g: GroupIdSchema.optional(),
});

/** Ephemeral: never stored as a message; the receiver drops it when older than TYPING_MAX_AGE_MS (service/presence.ts). */
export const TypingPayloadSchema = z.object({
  v: z.literal(1),
  type: z.literal('typing'),
  typing: z.boolean(),
  sentAt: z.number().int().nonnegative(),
  /** set when typing in a group: the group id (only ever inside the ciphertext); sent to each member pairwise */
  g: GroupIdSchema.optional(),
});

/**
 * Sent (encrypted) on a fresh session after a restore from backup (service/backup.ts): it carries
 * nothing, but as a prekey message it makes the peer replace its old session with this one.
 */
export const SessionPayloadSchema = z.object({
  v: z.literal(1),
  type: z.literal('session'),
  kind: z.enum(['reset']),
});

// Group control and group messages (schemas in group-log.ts; handled by groups.ts).
export const PayloadSchema = z.discriminatedUnion('type', [
  TextPayloadSchema,
  ReceiptPayloadSchema,
  TypingPayloadSchema,
  SessionPayloadSchema,
  GroupControlPayloadSchema,
  GroupMessagePayloadSchema,
]);
export type Payload = z.infer<typeof PayloadSchema>;

export class PayloadError extends Error {
  override readonly name = 'PayloadError';
}

export function encodePayload(payload: Payload): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(payload));
  const padded = new Uint8Array(Math.ceil((json.length + 1) / PAD_BLOCK) * PAD_BLOCK);
  padded.set(json);
  padded[json.length] = 0x80; // ISO/IEC 7816-4 padding: 0x80 then zeros
  return padded;
}

export function decodePayload(bytes: Uint8Array): Payload {
  let end = bytes.length - 1;
  while (end >= 0 && bytes[end] === 0) end--;
  if (end < 0 || bytes[end] !== 0x80) throw new PayloadError('payload padding is malformed');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, end)));
  } catch {
    throw new PayloadError('payload is not valid UTF-8 JSON');
  }
  const result = PayloadSchema.safeParse(parsed);
  if (!result.success) throw new PayloadError('payload does not match any known message type');
  return result.data;
}
