// Full-text search over the history and the pages it jumps to (issue 5). Functions take the
// open Store and use its connection, like social.ts; all synchronous.
import { StoreError } from './errors.js';
import { buildSnippet, MARK_CLOSE, MARK_OPEN, occurrences, parseMarked, type Snippet } from './snippet.js';
import { compileQuery, conversationTerm, ftsString } from './search-text.js';
import type { Store } from './store.js';
import type { MessageRow } from './types.js';

/**
 * How many of the newest matches are ranked. bm25 is computed for these only and the best
 * `limit` of them are returned, so a query matching half of a million messages costs about as
 * much as one matching a thousand. Rarer terms (the usual search) rank every match.
 */
export const RANK_WINDOW = 1000;
export const MAX_RESULTS = 100;

/**
 * Phase 1 (parameter: the MATCH expression). Walks the index newest first (rowid =
 * messages.seq), stops after RANK_WINDOW matches and scores them: index pages only, no message
 * is read. bm25 weighs the text column; meta (conversation and emoji terms) counts 0.
 */
export const RANK_SQL = `SELECT rowid AS seq, bm25(messages_fts, 1.0, 0.0) AS score
  FROM messages_fts WHERE messages_fts MATCH ?
  ORDER BY rowid DESC LIMIT ${RANK_WINDOW}`;

/**
 * Phase 2 (parameters: the MATCH expression, the lowest and highest seq of the page, the page's
 * seqs as a JSON array). The same MATCH within that rowid range, highlight() only for the
 * page's rows (`+rowid` keeps the IN list a filter rather than one index lookup per value,
 * which would expand prefix terms again for each), joined to the messages. The bounds are CAST
 * because the driver binds JS numbers as REAL, and FTS5 only seeks on integer rowid bounds (it
 * would otherwise walk every match and leave the range to SQLite).
 */
export const PAGE_SQL = `WITH marked AS (
    SELECT rowid AS seq, highlight(messages_fts, 0, '${MARK_OPEN}', '${MARK_CLOSE}') AS marked
    FROM messages_fts
    WHERE messages_fts MATCH ? AND rowid BETWEEN CAST(? AS INTEGER) AND CAST(? AS INTEGER) AND +rowid IN (SELECT value FROM json_each(?))
  )
  SELECT h.seq AS seq, h.marked AS marked, m.id AS id, m.conversation_id AS conversation_id, m.sender AS sender,
         m.outgoing AS outgoing, m.text AS text, m.sent_at AS sent_at, c.peer AS peer
  FROM marked h
  JOIN messages m ON m.seq = h.seq
  JOIN conversations c ON c.id = m.conversation_id`;

export interface SearchHit {
  messageId: string;
  conversationId: string;
  /** the other party of the conversation */
  peer: string;
  /** 'me' or the sender's username */
  sender: string;
  outgoing: boolean;
  sentAt: number;
  snippet: Snippet;
  /** bm25 score: lower is better (for tests and debugging) */
  score: number;
}

export interface SearchOptions {
  /** only this conversation */
  conversationId?: string | undefined;
  /** 1..MAX_RESULTS */
  limit: number;
}

/**
 * Messages matching `query`, best first: bm25 over the message text (among the newest
 * RANK_WINDOW matches), newest first on ties. Nothing in `query` is FTS5 syntax (see
 * search-text.ts); a query with nothing searchable in it returns [].
 */
export function searchMessages(store: Store, query: string, options: SearchOptions): SearchHit[] {
  const { conversationId, limit } = options;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RESULTS) {
    throw new StoreError('INVALID_ARGUMENT', `The result limit must be 1..${MAX_RESULTS}.`);
  }
  const db = store.connection();
  const compiled = compileQuery(query, (text) => db.signalTokenize(text));
  if (!compiled) return [];
  const match = conversationId === undefined ? compiled.match : `meta : ${ftsString(conversationTerm(conversationId))} AND (${compiled.match})`;
  // Best first; ties (the same text) newest first.
  const ranked = db
    .prepare(RANK_SQL)
    .all([match])
    .map((row) => ({ seq: Number(row['seq']), score: Number(row['score']) }))
    .sort((a, b) => a.score - b.score || b.seq - a.seq)
    .slice(0, limit);
  if (ranked.length === 0) return [];
  const seqs = ranked.map((r) => r.seq);
  const rows = new Map<number, Record<string, unknown>>();
  for (const row of db.prepare(PAGE_SQL).all([match, Math.min(...seqs), Math.max(...seqs), JSON.stringify(seqs)])) {
    rows.set(Number(row['seq']), row);
  }
  const hits: SearchHit[] = [];
  for (const { seq, score } of ranked) {
    const row = rows.get(seq);
    // the conversation term is a prefix of the id: check the id itself
    if (!row || (conversationId !== undefined && row['conversation_id'] !== conversationId)) continue;
    const text = String(row['text']);
    const marked = parseMarked(String(row['marked'] ?? ''), text);
    hits.push({
      messageId: String(row['id']),
      conversationId: String(row['conversation_id']),
      peer: String(row['peer'] ?? ''),
      sender: String(row['sender']),
      outgoing: row['outgoing'] === 1,
      sentAt: Number(row['sent_at']),
      snippet: buildSnippet(text, [...marked.highlights, ...occurrences(text, compiled.emoji)]),
      score,
    });
  }
  return hits;
}

export interface AroundPage {
  /** oldest first; the target is among them, in the middle when the history allows */
  messages: MessageRow[];
  hasMoreBefore: boolean;
  hasMoreAfter: boolean;
}

/**
 * A page of `limit` messages of a conversation with `messageId` in the middle (for jumping to
 * a search hit). Near either end of the history the page extends the other way, so it is full
 * whenever the conversation has `limit` messages. NOT_FOUND if the message is not in it.
 */
export function messagesAround(store: Store, conversationId: string, messageId: string, limit: number): AroundPage {
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new StoreError('INVALID_ARGUMENT', 'The page size must be 1..500.');
  const target = store.getMessage(messageId);
  if (!target || target.conversationId !== conversationId) throw new StoreError('NOT_FOUND', 'That message is not in this conversation.');
  const older = store.listMessages(conversationId, { before: messageId, limit });
  const newer = store.listMessages(conversationId, { after: messageId, limit });
  const room = limit - 1;
  const half = Math.floor(room / 2);
  const before = Math.min(older.messages.length, Math.max(half, room - newer.messages.length));
  const after = Math.min(newer.messages.length, room - before);
  return {
    messages: [...older.messages.slice(older.messages.length - before), target, ...newer.messages.slice(0, after)],
    hasMoreBefore: older.hasMore || older.messages.length > before,
    hasMoreAfter: newer.hasMore || newer.messages.length > after,
  };
}
