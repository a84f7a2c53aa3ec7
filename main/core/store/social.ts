// Repositories of issue 6 (receipts, typing, replies, mute, identity changes), kept out of
// store.ts so the areas can grow independently. Functions take the open Store and use its
// connection; like the store they are synchronous, and callers compose them in store.transaction.
import type Database from '@signalapp/sqlcipher';
import type { Migration } from './migrations.js';
import type { Store } from './store.js';

/**
 * The schema for issue 6, appended to MIGRATIONS (see migrations.ts for its number).
 * - contacts.pending_identity_key: a new identity key seen for a known contact (a reinstall, or
 *   someone else); non-null means "identity changed, sending held until the user accepts".
 * - pending_sessions: sessions with that pending identity (the old ones stay until accepted).
 * - conversations.muted; messages.reply_to (id of the quoted message).
 * - messages.read_at: when WE read an incoming message (null = not yet; drives read receipts).
 * - messages.status may be 'read' (the peer read our message).
 */
export const socialMigration: Omit<Migration, 'version'> = {
  description: "identity changes, pending sessions, mute, replies, read tracking, status 'read'",
  up(db) {
    db.exec(`
      ALTER TABLE contacts ADD COLUMN pending_identity_key BLOB;

      CREATE TABLE pending_sessions (
        username  TEXT    NOT NULL,
        device_id INTEGER NOT NULL,
        record    BLOB    NOT NULL,
        PRIMARY KEY (username, device_id)
      ) STRICT;

      ALTER TABLE conversations ADD COLUMN muted INTEGER NOT NULL DEFAULT 0 CHECK (muted IN (0, 1));
      ALTER TABLE messages ADD COLUMN reply_to TEXT;
      ALTER TABLE messages ADD COLUMN read_at INTEGER;
      CREATE INDEX messages_unread_incoming ON messages (conversation_id) WHERE outgoing = 0 AND read_at IS NULL;
    `);
    // Messages from before this version: the ones the unread count says are unread stay unread
    // (they get read receipts when opened); everything older counts as read without one.
    db.exec(`
      UPDATE messages SET read_at = coalesce(received_at, sent_at)
      WHERE outgoing = 0 AND seq NOT IN (
        SELECT seq FROM (
          SELECT m.seq AS seq, c.unread_count AS unread,
                 row_number() OVER (PARTITION BY m.conversation_id ORDER BY m.sent_at DESC, m.seq DESC) AS rn
          FROM messages m JOIN conversations c ON c.id = m.conversation_id
          WHERE m.outgoing = 0
        ) WHERE rn <= unread
      )
    `);
    widenStatusCheck(db);
  },
};

const OLD_STATUS_CHECK = "CHECK (status IN ('sending', 'sent', 'delivered', 'failed', 'received'))";
const NEW_STATUS_CHECK = "CHECK (status IN ('sending', 'sent', 'delivered', 'failed', 'received', 'read'))";

/**
 * Lets messages.status hold 'read'. SQLite cannot ALTER a CHECK constraint; rebuilding the
 * table would drop the triggers and indexes other migrations hang on it (full-text search), so
 * this uses SQLite's documented in-place procedure for loosening a CHECK constraint
 * (sqlite.org/lang_altertable.html, "writable_schema"): every existing row satisfies the wider
 * constraint, so no data is reinterpreted. Runs inside the migration's transaction.
 */
function widenStatusCheck(db: Database): void {
  const version = db.pragma('schema_version', { simple: true });
  if (typeof version !== 'number') throw new Error('could not read schema_version');
  db.exec('PRAGMA writable_schema = ON');
  try {
    const changed = db
      .prepare("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'messages' AND instr(sql, ?) > 0")
      .run([OLD_STATUS_CHECK, NEW_STATUS_CHECK, OLD_STATUS_CHECK]).changes;
    if (changed !== 1) throw new Error('messages.status constraint not found');
    db.exec(`PRAGMA schema_version = ${version + 1}`);
  } finally {
    db.exec('PRAGMA writable_schema = OFF');
  }
  const check = db.pragma('quick_check', { simple: true });
  if (check !== 'ok') throw new Error('schema check failed after widening messages.status');
}

function conn(store: Store): Database {
  return store.connection();
}

function blob(value: Uint8Array): Uint8Array<ArrayBuffer> {
  return value.buffer instanceof ArrayBuffer ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
}

function asBytes(value: unknown): Uint8Array | null {
  if (value === null || value === undefined) return null;
  if (!(value instanceof Uint8Array)) throw new TypeError('store: expected a blob');
  return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

function strings(values: unknown[]): string[] {
  return values.filter((v): v is string => typeof v === 'string');
}

// ---- identity changes -----------------------------------------------------------------------

/** The pending (changed, not yet accepted) identity key of a contact, or null. */
export function pendingIdentityKey(store: Store, username: string): Uint8Array | null {
  const row = conn(store).prepare('SELECT pending_identity_key AS k FROM contacts WHERE username = ?').get([username]);
  return row ? asBytes(row['k']) : null;
}

/** Usernames of the contacts whose identity changed and was not accepted yet. */
export function changedIdentities(store: Store): Set<string> {
  return new Set(strings(conn(store).prepare('SELECT username FROM contacts WHERE pending_identity_key IS NOT NULL', { pluck: true }).all()));
}

/**
 * Records a new identity key for a known contact and (optionally) a session with it. The contact
 * becomes unverified. A different pending key than before replaces it and its sessions.
 */
export function recordPendingIdentity(
  store: Store,
  username: string,
  identityKey: Uint8Array,
  session?: { deviceId: number; record: Uint8Array },
): void {
  store.transaction(() => {
    const db = conn(store);
    const previous = pendingIdentityKey(store, username);
    if (!previous || !equalBytes(previous, identityKey)) {
      db.prepare('DELETE FROM pending_sessions WHERE username = ?').run([username]);
    }
    db.prepare('UPDATE contacts SET pending_identity_key = ?, verified = 0 WHERE username = ?').run([blob(identityKey), username]);
    if (session) putPendingSession(store, username, session.deviceId, session.record);
  });
}

export function getPendingSession(store: Store, username: string, deviceId: number): Uint8Array | undefined {
  const row = conn(store).prepare('SELECT record FROM pending_sessions WHERE username = ? AND device_id = ?').get([username, deviceId]);
  return row ? (asBytes(row['record']) ?? undefined) : undefined;
}

export function putPendingSession(store: Store, username: string, deviceId: number, record: Uint8Array): void {
  conn(store)
    .prepare(
      `INSERT INTO pending_sessions (username, device_id, record) VALUES (?, ?, ?)
       ON CONFLICT (username, device_id) DO UPDATE SET record = excluded.record`,
    )
    .run([username, deviceId, blob(record)]);
}

export function listPendingSessionDevices(store: Store, username: string): number[] {
  return conn(store)
    .prepare('SELECT device_id FROM pending_sessions WHERE username = ? ORDER BY device_id', { pluck: true })
    .all([username])
    .filter((v): v is number => typeof v === 'number');
}

/**
 * Makes the pending identity the contact's identity: its sessions replace the old ones (sessions
 * with the old identity are dropped), the contact stays unverified. Returns false if nothing was
 * pending.
 */
export function acceptPendingIdentity(store: Store, username: string): boolean {
  return store.transaction(() => {
    const key = pendingIdentityKey(store, username);
    if (!key) return false;
    const db = conn(store);
    db.prepare('UPDATE contacts SET identity_key = ?, pending_identity_key = NULL, verified = 0 WHERE username = ?').run([blob(key), username]);
    db.prepare('DELETE FROM sessions WHERE username = ?').run([username]);
    db.prepare('INSERT INTO sessions (username, device_id, record) SELECT username, device_id, record FROM pending_sessions WHERE username = ?').run([
      username,
    ]);
    db.prepare('DELETE FROM pending_sessions WHERE username = ?').run([username]);
    return true;
  });
}

export function setContactVerified(store: Store, username: string, verified: boolean): boolean {
  return conn(store).prepare('UPDATE contacts SET verified = ? WHERE username = ?').run([verified ? 1 : 0, username]).changes > 0;
}

// ---- conversations -----------------------------------------------------------------------------

export function setConversationMuted(store: Store, conversationId: string, muted: boolean): boolean {
  return conn(store).prepare('UPDATE conversations SET muted = ? WHERE id = ?').run([muted ? 1 : 0, conversationId]).changes > 0;
}

export function mutedConversations(store: Store): Set<string> {
  return new Set(strings(conn(store).prepare('SELECT id FROM conversations WHERE muted = 1', { pluck: true }).all()));
}

// ---- read tracking ----------------------------------------------------------------------------

/**
 * Marks every unread incoming message of a conversation as read at `now` and returns their ids
 * (oldest first), i.e. the messages a read receipt should name.
 */
export function takeUnreadIncoming(store: Store, conversationId: string, now: number): string[] {
  return strings(
    conn(store)
      .prepare(
        `UPDATE messages SET read_at = ? WHERE conversation_id = ? AND outgoing = 0 AND read_at IS NULL
         RETURNING id`,
        { pluck: true },
      )
      .all([now, conversationId]),
  );
}

/** Our outgoing messages in `conversationId` among `ids` become 'read' (from any earlier outgoing state). */
export function markOutgoingRead(store: Store, conversationId: string, ids: readonly string[]): string[] {
  if (ids.length === 0) return [];
  return strings(
    conn(store)
      .prepare(
        `UPDATE messages SET status = 'read'
         WHERE id IN (SELECT value FROM json_each(?)) AND conversation_id = ? AND outgoing = 1
           AND status IN ('sending', 'sent', 'delivered', 'failed')
         RETURNING id`,
        { pluck: true },
      )
      .all([JSON.stringify(ids), conversationId]),
  );
}

// ---- replies -----------------------------------------------------------------------------------

export function setReplyTo(store: Store, messageId: string, replyTo: string): void {
  conn(store).prepare('UPDATE messages SET reply_to = ? WHERE id = ?').run([replyTo, messageId]);
}

export interface ReplyRow {
  /** the quoted message's id */
  id: string;
  /** the quoted message, when it is on this device and in the same conversation */
  quoted: { sender: string; text: string } | null;
}

/** For each of `messageIds` that is a reply: what it quotes. */
export function replyRows(store: Store, messageIds: readonly string[]): Map<string, ReplyRow> {
  const out = new Map<string, ReplyRow>();
  if (messageIds.length === 0) return out;
  const rows = conn(store)
    .prepare(
      `SELECT m.id AS id, m.reply_to AS reply_to, q.sender AS q_sender, q.text AS q_text
       FROM messages m
       LEFT JOIN messages q ON q.id = m.reply_to AND q.conversation_id = m.conversation_id
       WHERE m.id IN (SELECT value FROM json_each(?)) AND m.reply_to IS NOT NULL`,
    )
    .all([JSON.stringify(messageIds)]);
  for (const row of rows) {
    const id = row['id'];
    const replyTo = row['reply_to'];
    if (typeof id !== 'string' || typeof replyTo !== 'string') continue;
    const sender = row['q_sender'];
    const text = row['q_text'];
    out.set(id, { id: replyTo, quoted: typeof sender === 'string' && typeof text === 'string' ? { sender, text } : null });
  }
  return out;
}

// ---- outbox -----------------------------------------------------------------------------------

/** Drops the queued envelopes of a message (before it is re-encrypted for a retry). */
export function deleteOutboxOfMessage(store: Store, messageId: string): number {
  return conn(store).prepare('DELETE FROM outbox WHERE message_id = ?').run([messageId]).changes;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
