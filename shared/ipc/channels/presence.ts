// Contract channels of the presence area (see shared/ipc/contract.ts): typing indicators, and
// the per-message and per-conversation actions of the chat view (retry, mute). Read receipts
// ride on `conversations.markRead` (a core channel); their state shows as Message.status 'read'.
// In a group conversation both work per member: typing shows one TypingState per member typing,
// receipts go to each message's sender only, and our outgoing group messages carry
// Message.readBy (the members who read it; status 'read' once every member it went to did).
import { z } from 'zod';
import { channel, Ok } from '../channel.js';
import { MessageSchema } from '../schemas.js';

export const TypingStateSchema = z.object({
  conversationId: z.string(),
  /** who is typing: the conversation's peer, or in a group the member (several entries when several type) */
  peer: z.string(),
  /** ms since epoch (core clock) after which the indicator must disappear unless refreshed */
  until: z.number().int(),
});
export type TypingState = z.infer<typeof TypingStateSchema>;

export const presenceChannels = {
  'presence.typing': channel(
    z.object({ conversationId: z.string(), typing: z.boolean() }),
    z.object({
      /** false when nothing was sent: the `typing` setting is off, the same state was sent moments ago, the peer's identity changed, or (group) we are not a member or reach no member */
      queued: z.boolean(),
    }),
    'Tells the peer (in a group: every member, each pairwise) we started or stopped typing, as an end-to-end encrypted, ephemeral control message. Call on every keystroke (the core throttles) and with typing:false when the draft is cleared or sent.',
  ),
  'presence.state': channel(
    z.object({ conversationId: z.string().optional() }),
    z.object({ typing: z.array(TypingStateSchema) }),
    'Who is typing right now (in one conversation, or all); empty when our `typing` setting is off.',
  ),
  'messages.retry': channel(
    z.object({ messageId: z.string() }),
    MessageSchema,
    'Encrypts a failed outgoing message again and queues it; its status goes back to sending. NOT_RETRYABLE unless it failed.',
  ),
  'conversations.setMuted': channel(
    z.object({ conversationId: z.string(), muted: z.boolean() }),
    Ok,
    'Mutes or unmutes notifications for a conversation (ConversationSummary.muted).',
  ),
} as const;
