// Contract channels of the search area (see shared/ipc/contract.ts): full-text search over the
// local history and the page a hit jumps to.
import { z } from 'zod';
import { channel } from '../channel.js';
import { MessageSchema } from '../schemas.js';

/**
 * Plain text plus the character ranges to highlight: never markup, so a message cannot inject
 * any into the results. Ranges are [start, end) UTF-16 offsets into `text` (JS string indices),
 * sorted, non-overlapping, and never split a grapheme (emoji, surrogate pair, ZWJ sequence).
 */
export const SnippetSchema = z.object({
  text: z.string(),
  highlights: z.array(z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])),
});
export type Snippet = z.infer<typeof SnippetSchema>;

export const SearchResultSchema = z.object({
  messageId: z.string(),
  conversationId: z.string(),
  /** the other party of the conversation */
  peer: z.string(),
  /** 'me' for our own messages, otherwise the sender's username (like Message.sender) */
  sender: z.string(),
  outgoing: z.boolean(),
  sentAt: z.number().int(),
  /** the whole message when short, else a window around the first match with '…' where cut */
  snippet: SnippetSchema,
});
export type SearchResult = z.infer<typeof SearchResultSchema>;

export const searchChannels = {
  'search.query': channel(
    z.object({
      /** what the user typed: words (all must match, each also as a prefix: `메시지` finds `메시지를`, `encrypt` finds `encrypted`), emoji; no query syntax */
      query: z.string().min(1).max(200),
      /** search only this conversation */
      conversationId: z.string().optional(),
      limit: z.number().int().min(1).max(100).default(50),
    }),
    z.object({ results: z.array(SearchResultSchema) }),
    'Full-text search of the local history: best match first (bm25 over the newest 1000 matches, newer first on ties), with a plain-text snippet and highlight ranges. A query with nothing searchable (only punctuation) gives no results.',
  ),
  'search.around': channel(
    z.object({
      conversationId: z.string(),
      messageId: z.string(),
      limit: z.number().int().min(1).max(200).default(50),
    }),
    z.object({
      /** oldest first; the target is in the middle (or as near as the history allows) */
      messages: z.array(MessageSchema),
      hasMoreBefore: z.boolean(),
      hasMoreAfter: z.boolean(),
    }),
    'The page of a conversation around one message, for jumping to a search hit; page on with messages.list before/after. NOT_FOUND if the message is not in the conversation.',
  ),
} as const;
