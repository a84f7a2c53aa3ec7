// Per-member delivery and read receipts of our outgoing group messages (issue 8). Functions take
// the open Store and use its connection; callers compose them in store.transaction().
import type { Migration } from './migrations.js';
import type { Store } from './store.js';

/**
 * The schema for group receipts, appended to MIGRATIONS (see migrations.ts for its number).
 * - group_receipts: one row per (our outgoing group message, member it was sent to), written
 *   when the message is queued; delivered_at / read_at are set when that member's receipt
 *   arrives. Rows go with their message (ON DELETE CASCADE).
 */
export const groupReceiptsMigration: Omit<Migration, 'version'> = {
  description: 'group receipts: who each outgoing group message went to, and who has it and read it',
  up(db) {
    db.exec(`
      CREATE TABLE group_receipts (
        message_id   TEXT    NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        username     TEXT    NOT NULL,
        delivered_at INTEGER,
        read_at      INTEGER,
        PRIMARY KEY (message_id, username),
        CHECK (read_at IS NULL OR delivered_at IS NOT NULL)
      ) STRICT, WITHOUT ROWID;
    `);
  },
};

export type GroupReceiptKind = 'delivered' | 'read';

/** Records the members an outgoing group message was queued for. Call inside the send transaction. */
export function recordGroupRecipients(store: Store, messageId: string, usernames: readonly string[]): void {
  const insert = store.connection().prepare('INSERT INTO group_receipts (message_id, username) VALUES (?, ?) ON CONFLICT DO NOTHING');
  for (const username of usernames) insert.run([messageId, username]);
}

/**
 * `username`'s receipt for `ids`: only our outgoing messages of `conversationId` that were sent
 * to them change (a read implies delivered). Earlier times are kept. Returns the ids recorded.
 */
export function recordGroupReceipt(
  store: Store,
  conversationId: string,
  username: string,
  kind: GroupReceiptKind,
  ids: readonly string[],
  at: number,
): string[] {
  if (ids.length === 0) return [];
  const readAt = kind === 'read' ? at : null;
  return store
    .connection()
    .prepare(
      `UPDATE group_receipts SET delivered_at = coalesce(delivered_at, ?), read_at = coalesce(read_at, ?)
       WHERE username = ? AND message_id IN (
         SELECT id FROM messages WHERE id IN (SELECT value FROM json_each(?)) AND conversation_id = ? AND outgoing = 1
       )
       RETURNING message_id`,
      { pluck: true },
    )
    .all([at, readAt, username, JSON.stringify(ids), conversationId])
    .filter((v): v is string => typeof v === 'string');
}

export interface GroupReceiptProgress {
  messageId: string;
  /** recipients of the message who are still members of the group */
  recipients: number;
  delivered: number;
  read: number;
}

/**
 * For our outgoing messages of the group (`ids`, or every one not yet 'read'): how many of the
 * members it was sent to, counting only those still in the group, have it and have read it.
 * Messages whose recipients have all left are absent.
 */
export function groupReceiptProgress(store: Store, groupId: string, ids?: readonly string[]): GroupReceiptProgress[] {
  const filter = ids === undefined ? "m.status <> 'read'" : 'm.id IN (SELECT value FROM json_each(?))';
  const params = ids === undefined ? [groupId] : [groupId, JSON.stringify(ids)];
  return store
    .connection()
    .prepare(
      `SELECT r.message_id AS id, count(*) AS recipients, count(r.delivered_at) AS delivered, count(r.read_at) AS read
       FROM groups g
       JOIN messages m ON m.conversation_id = g.conversation_id
       JOIN group_receipts r ON r.message_id = m.id
       JOIN group_members gm ON gm.group_id = g.id AND gm.username = r.username
       WHERE g.id = ? AND m.outgoing = 1 AND ${filter}
       GROUP BY r.message_id`,
    )
    .all(params)
    .map((row) => ({
      messageId: String(row['id']),
      recipients: Number(row['recipients']),
      delivered: Number(row['delivered']),
      read: Number(row['read']),
    }));
}

/**
 * Who read each of `messageIds`, earliest first, for the messages that were sent to members of a
 * group (absent: not an outgoing group message). A member who read it and left later stays listed.
 */
export function groupReaders(store: Store, messageIds: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (messageIds.length === 0) return out;
  const rows = store
    .connection()
    .prepare(
      `SELECT message_id, username, read_at FROM group_receipts
       WHERE message_id IN (SELECT value FROM json_each(?))
       ORDER BY message_id, read_at IS NULL, read_at, username`,
    )
    .all([JSON.stringify(messageIds)]);
  for (const row of rows) {
    const id = row['message_id'];
    const username = row['username'];
    if (typeof id !== 'string' || typeof username !== 'string') continue;
    const list = out.get(id) ?? [];
    if (row['read_at'] !== null && row['read_at'] !== undefined) list.push(username);
    out.set(id, list);
  }
  return out;
}
