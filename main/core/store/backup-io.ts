// Bulk reads and writes for encrypted backups (main/core/backup). Each side opens its own
// connection to refuge.db with the profile's key, so neither disturbs the app's Store:
// - the snapshot reader runs in one read transaction (WAL: a consistent view of the whole
//   history while the app keeps writing) and pages through messages by rowid, so memory stays
//   flat however long the history is; message rows come out as JSON text built by SQLite;
// - the bulk writer fills a freshly created (migrated, empty) profile with rows exactly as they
//   were: conversation ids, timestamps and unread counts included. Ratchet sessions, sender
//   keys (ours and the others'), which devices hold our sender key, the outbox and
//   processed-envelope ids are never read or written here.
import Database from '@signalapp/sqlcipher';
import { join } from 'node:path';
import { DB_FILE, KEY_BYTES } from './store.js';
import { StoreError } from './errors.js';
import { emojiTerms } from './search-text.js';
import type { AccountRow, ContactRow, ConversationRow, MessageRow, PrekeyKind } from './types.js';

type Row = Record<string, unknown>;
export type SettingValue = string | number | null | { b64: string };

export interface PrekeyExportRow {
  kind: PrekeyKind;
  id: number;
  record: Uint8Array;
  lastResort: boolean;
}

/** A conversation as backed up: the row (peer null for a group) plus optional columns of later schemas. */
export type ConversationExportRow = Omit<ConversationRow, 'peer'> & { peer: string | null; muted?: boolean };

/** A group as backed up: the row of store/groups.ts without our sender key (never backed up). */
export interface GroupExportRow {
  id: string;
  conversationId: string;
  name: string;
  version: number;
  member: boolean;
  createdAt: number;
}
export interface GroupMemberExportRow {
  groupId: string;
  username: string;
  admin: boolean;
}
/** One change of a group's membership log, its JSON body as stored. */
export interface GroupChangeExportRow {
  groupId: string;
  id: string;
  version: number;
  author: string;
  body: string;
}
export interface GroupResendExportRow {
  groupId: string;
  username: string;
  changeId: string;
}
export interface GroupEventExportRow {
  messageId: string;
  groupId: string;
  change: string;
}
/** A member one of our outgoing group messages went to, with their receipts (store/group-receipts.ts). */
export interface GroupReceiptExportRow {
  messageId: string;
  username: string;
  deliveredAt: number | null;
  readAt: number | null;
}
/** A message as restored: the row plus optional columns of later schemas (undefined: the backup did not have it). */
export type MessageImportRow = MessageRow & { replyTo?: string | null; readAt?: number | null };

/** Columns added by later migrations (social.ts): copied when the schema has them. */
interface OptionalColumns {
  replyTo: boolean;
  readAt: boolean;
  muted: boolean;
  /** search-schema.ts: computed on insert here (NULL would make openStore fill it, re-indexing every row) */
  searchTerms: boolean;
}

function optionalColumns(db: Database): OptionalColumns {
  const messages = new Set(columnsOf(db, 'messages'));
  const conversations = new Set(columnsOf(db, 'conversations'));
  return {
    replyTo: messages.has('reply_to'),
    readAt: messages.has('read_at'),
    muted: conversations.has('muted'),
    searchTerms: messages.has('search_terms'),
  };
}

export interface BackupCounts {
  prekeys: number;
  contacts: number;
  conversations: number;
  messages: number;
  settings: number;
  groups: number;
  groupMembers: number;
  groupChanges: number;
  groupResends: number;
  groupEvents: number;
  groupReceipts: number;
}

/** The group tables (migration 5, store/groups.ts; 6, store/group-receipts.ts) and the count each one backs. */
const GROUP_TABLES = {
  groups: 'groups',
  groupMembers: 'group_members',
  groupChanges: 'group_changes',
  groupResends: 'group_resend',
  groupEvents: 'group_events',
  groupReceipts: 'group_receipts',
} as const;

/** The table some later schema may add for settings; copied generically if it exists. */
const SETTINGS_TABLE = 'settings';

function openKeyed(profileDir: string, key: Uint8Array): Database {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw new StoreError('INVALID_ARGUMENT', `The database key must be ${KEY_BYTES} bytes.`);
  }
  let db: Database;
  try {
    db = new Database(join(profileDir, DB_FILE), { cacheStatements: true });
  } catch {
    throw new StoreError('OPEN_FAILED', 'Could not open the database.');
  }
  try {
    const hex = Buffer.from(key.buffer, key.byteOffset, key.byteLength).toString('hex');
    db.exec(`PRAGMA key = "x'${hex}'"`);
    db.exec('PRAGMA cipher_compatibility = 4');
    db.exec('PRAGMA busy_timeout = 5000');
    db.exec('PRAGMA temp_store = MEMORY');
    db.prepare('SELECT count(*) FROM sqlite_master', { pluck: true, persistent: false }).get();
    // FTS5 tables (and triggers feeding them) may use Signal's tokenizer.
    db.initTokenizer();
    return db;
  } catch (error) {
    db.close();
    if (error instanceof StoreError) throw error;
    throw new StoreError('OPEN_FAILED', 'Could not open the database (wrong key or not a Refuge database).');
  }
}

function num(row: Row, name: string): number {
  const v = row[name];
  if (typeof v !== 'number') throw new TypeError(`backup-io: column ${name} is not a number`);
  return v;
}
function numOrNull(row: Row, name: string): number | null {
  return row[name] === null ? null : num(row, name);
}
function bool(row: Row, name: string): boolean {
  return num(row, name) === 1;
}
function text(row: Row, name: string): string {
  const v = row[name];
  if (typeof v !== 'string') throw new TypeError(`backup-io: column ${name} is not text`);
  return v;
}
function blobOf(row: Row, name: string): Uint8Array {
  const v = row[name];
  if (!(v instanceof Uint8Array)) throw new TypeError(`backup-io: column ${name} is not a blob`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}
function toArrayBufferBytes(value: Uint8Array): Uint8Array<ArrayBuffer> {
  return value.buffer instanceof ArrayBuffer ? new Uint8Array(value.buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
}

function hasTable(db: Database, name: string): boolean {
  return db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", { pluck: true }).get([name]) !== undefined;
}

function columnsOf(db: Database, table: string): string[] {
  return db
    .prepare(`SELECT name FROM pragma_table_info(?)`, { pluck: true })
    .all([table])
    .filter((v): v is string => typeof v === 'string');
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A consistent, read-only view of a profile's history for export. Call close() when done. */
export class BackupSnapshot {
  #db: Database | null;
  readonly #optional: OptionalColumns;

  private constructor(db: Database) {
    this.#db = db;
    this.#optional = optionalColumns(db);
  }

  /** Opens a second connection and starts a read transaction (the snapshot). */
  static open(profileDir: string, key: Uint8Array): BackupSnapshot {
    const db = openKeyed(profileDir, key);
    try {
      db.exec('PRAGMA query_only = ON');
      db.exec('BEGIN');
      // The first read fixes the snapshot.
      db.prepare('SELECT count(*) FROM account', { pluck: true, persistent: false }).get();
      return new BackupSnapshot(db);
    } catch {
      db.close();
      throw new StoreError('OPEN_FAILED', 'Could not read the database for the backup.');
    }
  }

  close(): void {
    const db = this.#db;
    if (!db) return;
    this.#db = null;
    try {
      db.exec('COMMIT');
    } catch {
      // nothing was written; the transaction ends with the connection anyway
    }
    db.close();
  }

  counts(): BackupCounts {
    const db = this.#conn();
    const count = (sql: string) => Number(db.prepare(sql, { pluck: true }).get() ?? 0);
    const rows = (table: string) => (hasTable(db, table) ? count(`SELECT count(*) FROM ${quoteIdent(table)}`) : 0);
    return {
      prekeys: count('SELECT count(*) FROM prekeys'),
      contacts: count('SELECT count(*) FROM contacts'),
      conversations: count('SELECT count(*) FROM conversations'),
      messages: count('SELECT count(*) FROM messages'),
      settings: rows(SETTINGS_TABLE),
      groups: rows(GROUP_TABLES.groups),
      groupMembers: rows(GROUP_TABLES.groupMembers),
      groupChanges: rows(GROUP_TABLES.groupChanges),
      groupResends: rows(GROUP_TABLES.groupResends),
      groupEvents: rows(GROUP_TABLES.groupEvents),
      groupReceipts: rows(GROUP_TABLES.groupReceipts),
    };
  }

  account(): AccountRow | undefined {
    const row = this.#conn()
      .prepare('SELECT username, device_id, server_url, identity, registered, created_at, next_prekey_id FROM account WHERE id = 1')
      .get();
    if (!row) return undefined;
    return {
      username: text(row, 'username'),
      deviceId: num(row, 'device_id'),
      serverUrl: text(row, 'server_url'),
      identity: blobOf(row, 'identity'),
      registered: num(row, 'registered') === 1,
      createdAt: num(row, 'created_at'),
      nextPrekeyId: num(row, 'next_prekey_id'),
    };
  }

  /** Private prekeys of every kind (a few hundred at most). */
  prekeys(): PrekeyExportRow[] {
    return this.#conn()
      .prepare('SELECT kind, id, record, last_resort FROM prekeys ORDER BY kind, id')
      .all()
      .map((row) => ({
        kind: text(row, 'kind') as PrekeyKind,
        id: num(row, 'id'),
        record: blobOf(row, 'record'),
        lastResort: num(row, 'last_resort') === 1,
      }));
  }

  /** Contacts after `after` (by username), up to `limit`. */
  contacts(after: string | null, limit: number): ContactRow[] {
    return this.#conn()
      .prepare('SELECT username, identity_key, verified, added_at FROM contacts WHERE username > ? ORDER BY username LIMIT ?')
      .all([after ?? '', limit])
      .map((row) => ({
        username: text(row, 'username'),
        identityKey: blobOf(row, 'identity_key'),
        verified: num(row, 'verified') === 1,
        addedAt: num(row, 'added_at'),
      }));
  }

  /** Conversations after `after` (by id), up to `limit`: direct ones and groups' (peer null). */
  conversations(after: string | null, limit: number): ConversationExportRow[] {
    const muted = this.#optional.muted ? ', muted' : '';
    return this.#conn()
      .prepare(`SELECT id, kind, peer, created_at, updated_at, unread_count${muted} FROM conversations WHERE id > ? ORDER BY id LIMIT ?`)
      .all([after ?? '', limit])
      .map((row) => {
        const kind = text(row, 'kind');
        if (kind !== 'direct' && kind !== 'group') throw new StoreError('INVALID_ARGUMENT', `Conversations of kind ${kind} cannot be backed up by this build.`);
        const out: ConversationExportRow = {
          id: text(row, 'id'),
          kind,
          peer: kind === 'group' ? null : text(row, 'peer'),
          createdAt: num(row, 'created_at'),
          updatedAt: num(row, 'updated_at'),
          unreadCount: num(row, 'unread_count'),
        };
        if (this.#optional.muted) out.muted = num(row, 'muted') === 1;
        return out;
      });
  }

  /** Every group (a handful to a few hundred rows): our sender key (own_key) is not read. */
  groups(): GroupExportRow[] {
    return this.#tableRows(GROUP_TABLES.groups, 'SELECT id, conversation_id, name, version, member, created_at FROM groups ORDER BY id', (row) => ({
      id: text(row, 'id'),
      conversationId: text(row, 'conversation_id'),
      name: text(row, 'name'),
      version: num(row, 'version'),
      member: bool(row, 'member'),
      createdAt: num(row, 'created_at'),
    }));
  }

  groupMembers(): GroupMemberExportRow[] {
    return this.#tableRows(GROUP_TABLES.groupMembers, 'SELECT group_id, username, admin FROM group_members ORDER BY group_id, username', (row) => ({
      groupId: text(row, 'group_id'),
      username: text(row, 'username'),
      admin: bool(row, 'admin'),
    }));
  }

  /** The membership log of every group (a change per row; thousands at most per group). */
  groupChanges(): GroupChangeExportRow[] {
    const sql = 'SELECT group_id, id, version, author, body FROM group_changes ORDER BY group_id, version, author, id';
    return this.#tableRows(GROUP_TABLES.groupChanges, sql, (row) => ({
      groupId: text(row, 'group_id'),
      id: text(row, 'id'),
      version: num(row, 'version'),
      author: text(row, 'author'),
      body: text(row, 'body'),
    }));
  }

  groupResends(): GroupResendExportRow[] {
    const sql = 'SELECT group_id, username, change_id FROM group_resend ORDER BY group_id, username, change_id';
    return this.#tableRows(GROUP_TABLES.groupResends, sql, (row) => ({ groupId: text(row, 'group_id'), username: text(row, 'username'), changeId: text(row, 'change_id') }));
  }

  /** Which messages are membership events (system lines), in message order. */
  groupEvents(): GroupEventExportRow[] {
    const sql = 'SELECT e.message_id, e.group_id, e.change FROM group_events e LEFT JOIN messages m ON m.id = e.message_id ORDER BY m.seq, e.message_id';
    return this.#tableRows(GROUP_TABLES.groupEvents, sql, (row) => ({ messageId: text(row, 'message_id'), groupId: text(row, 'group_id'), change: text(row, 'change') }));
  }

  /** Who our outgoing group messages went to and their receipts, in message order. */
  groupReceipts(): GroupReceiptExportRow[] {
    // LEFT JOIN keeps group_receipts the outer loop (each row's message exists: a foreign key);
    // with an inner join SQLite scanned every message instead, ~25% of a 100,000-message export
    // that has no receipt at all.
    const sql = 'SELECT r.message_id, r.username, r.delivered_at, r.read_at FROM group_receipts r LEFT JOIN messages m ON m.id = r.message_id ORDER BY m.seq, r.username';
    return this.#tableRows(GROUP_TABLES.groupReceipts, sql, (row) => ({
      messageId: text(row, 'message_id'),
      username: text(row, 'username'),
      deliveredAt: numOrNull(row, 'delivered_at'),
      readAt: numOrNull(row, 'read_at'),
    }));
  }

  /** The rows of `sql`, mapped; none when this schema has no `table`. */
  #tableRows<T>(table: string, sql: string, map: (row: Row) => T): T[] {
    const db = this.#conn();
    return hasTable(db, table) ? db.prepare(sql).all().map(map) : [];
  }

  /** The largest message rowid (0 without messages): the end of messageRecords' ranges. */
  maxMessageSeq(): number {
    const max = this.#conn().prepare('SELECT coalesce(max(seq), 0) FROM messages', { pluck: true }).get();
    return typeof max === 'number' ? max : 0;
  }

  /**
   * The messages with rowid in [fromSeq, toSeq), in insertion order, as the backup's message
   * records: one line of UTF-8 JSON each ({"type":"message", ...MessageImportRow} and "\n"),
   * built and concatenated by SQLite and returned as one byte array with the row count. The
   * export's hot path: no row becomes a JS string (decoded from UTF-8 only to be encoded again)
   * or a JS object.
   */
  messageRecords(fromSeq: number, toSeq: number): { bytes: Uint8Array; count: number } {
    const extra = `${this.#optional.replyTo ? ", 'replyTo', reply_to" : ''}${this.#optional.readAt ? ", 'readAt', read_at" : ''}`;
    // The rows come from a rowid range in rowid order (a co-routine, no sort): an ORDER BY inside
    // group_concat would sort every page through a temp b-tree, about a third of the export's time.
    // json('true') has constant arguments, so SQLite evaluates it once per statement, not per row.
    const row = this.#conn()
      .prepare(
        `SELECT count(*) AS n, CAST(group_concat(line, '') AS BLOB) AS j FROM (
           SELECT json_object('type', 'message',
             'id', id, 'conversationId', conversation_id, 'sender', sender,
             'outgoing', CASE outgoing WHEN 1 THEN json('true') ELSE json('false') END,
             'text', text, 'sentAt', sent_at, 'receivedAt', received_at, 'status', status${extra}) || char(10) AS line
           FROM messages WHERE seq >= ? AND seq < ? ORDER BY seq
         )`,
      )
      .get([fromSeq, toSeq]);
    const count = row ? num(row, 'n') : 0;
    if (count === 0) return { bytes: new Uint8Array(0), count: 0 };
    return { bytes: blobOf(row ?? {}, 'j'), count };
  }

  /** Rows of the settings table, if this schema has one (blobs as base64 in { b64 }). */
  settings(): Record<string, SettingValue>[] {
    const db = this.#conn();
    if (!hasTable(db, SETTINGS_TABLE)) return [];
    return db
      .prepare(`SELECT * FROM ${quoteIdent(SETTINGS_TABLE)}`)
      .all()
      .map((row) => {
        const out: Record<string, SettingValue> = {};
        for (const [name, value] of Object.entries(row)) {
          if (value instanceof Uint8Array) out[name] = { b64: Buffer.from(value).toString('base64url') };
          else if (typeof value === 'string' || typeof value === 'number' || value === null) out[name] = value;
        }
        return out;
      });
  }

  #conn(): Database {
    if (!this.#db) throw new StoreError('CLOSED', 'The backup snapshot is closed.');
    return this.#db;
  }
}

/**
 * Writes restored rows into a NEW profile's database (created and migrated by openStore, still
 * empty). Durability comes from the caller: it closes this writer, fsyncs, and renames the
 * finished profile into place, so synchronous = OFF is safe here.
 */
export class BackupBulkWriter {
  #db: Database | null;
  #inTransaction = false;
  readonly #settingsColumns: Set<string> | null;
  readonly #optional: OptionalColumns;

  private constructor(db: Database) {
    this.#db = db;
    this.#optional = optionalColumns(db);
    this.#settingsColumns = hasTable(db, SETTINGS_TABLE) ? new Set(columnsOf(db, SETTINGS_TABLE)) : null;
  }

  static open(profileDir: string, key: Uint8Array): BackupBulkWriter {
    const db = openKeyed(profileDir, key);
    try {
      const empty = db.prepare('SELECT (SELECT count(*) FROM account) + (SELECT count(*) FROM messages)', { pluck: true }).get();
      if (empty !== 0) throw new StoreError('INVALID_ARGUMENT', 'Backups are restored into an empty profile only.');
      db.exec('PRAGMA foreign_keys = ON');
      db.exec('PRAGMA synchronous = OFF');
      return new BackupBulkWriter(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  begin(): void {
    if (this.#inTransaction) return;
    this.#conn().exec('BEGIN IMMEDIATE');
    this.#inTransaction = true;
  }

  commit(): void {
    if (!this.#inTransaction) return;
    this.#conn().exec('COMMIT');
    this.#inTransaction = false;
  }

  /** Closes the connection (rolling back anything uncommitted) and checkpoints the WAL into refuge.db. */
  close(): void {
    const db = this.#db;
    if (!db) return;
    this.#db = null;
    try {
      if (this.#inTransaction) db.exec('ROLLBACK');
      else db.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      db.close();
    }
  }

  saveAccount(row: AccountRow): void {
    this.#conn()
      .prepare(
        `INSERT INTO account (id, username, device_id, server_url, identity, registered, created_at, next_prekey_id)
         VALUES (1, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run([row.username, row.deviceId, row.serverUrl, toArrayBufferBytes(row.identity), row.registered ? 1 : 0, row.createdAt, row.nextPrekeyId]);
  }

  putPrekey(row: PrekeyExportRow): void {
    this.#conn()
      .prepare('INSERT INTO prekeys (kind, id, record, last_resort) VALUES (?, ?, ?, ?)')
      .run([row.kind, row.id, toArrayBufferBytes(row.record), row.lastResort ? 1 : 0]);
  }

  insertContact(row: ContactRow): void {
    this.#conn()
      .prepare('INSERT INTO contacts (username, identity_key, verified, added_at) VALUES (?, ?, ?, ?)')
      .run([row.username, toArrayBufferBytes(row.identityKey), row.verified ? 1 : 0, row.addedAt]);
  }

  insertConversation(row: ConversationExportRow): void {
    const values = [row.id, row.kind, row.peer, row.createdAt, row.updatedAt, row.unreadCount];
    if (this.#optional.muted) {
      this.#conn()
        .prepare('INSERT INTO conversations (id, kind, peer, created_at, updated_at, unread_count, muted) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run([...values, row.muted === true ? 1 : 0]);
      return;
    }
    this.#conn().prepare('INSERT INTO conversations (id, kind, peer, created_at, updated_at, unread_count) VALUES (?, ?, ?, ?, ?, ?)').run(values);
  }

  insertGroup(row: GroupExportRow): void {
    // own_key NULL: the restored device makes a fresh sender key before its next group send.
    this.#conn()
      .prepare('INSERT INTO groups (id, conversation_id, name, version, member, own_key, created_at) VALUES (?, ?, ?, ?, ?, NULL, ?)')
      .run([row.id, row.conversationId, row.name, row.version, row.member ? 1 : 0, row.createdAt]);
  }

  insertGroupMember(row: GroupMemberExportRow): void {
    this.#conn().prepare('INSERT INTO group_members (group_id, username, admin) VALUES (?, ?, ?)').run([row.groupId, row.username, row.admin ? 1 : 0]);
  }

  insertGroupChange(row: GroupChangeExportRow): void {
    this.#conn()
      .prepare('INSERT INTO group_changes (group_id, id, version, author, body) VALUES (?, ?, ?, ?, ?)')
      .run([row.groupId, row.id, row.version, row.author, row.body]);
  }

  insertGroupResend(row: GroupResendExportRow): void {
    this.#conn().prepare('INSERT INTO group_resend (group_id, username, change_id) VALUES (?, ?, ?)').run([row.groupId, row.username, row.changeId]);
  }

  insertGroupEvent(row: GroupEventExportRow): void {
    this.#conn().prepare('INSERT INTO group_events (message_id, group_id, change) VALUES (?, ?, ?)').run([row.messageId, row.groupId, row.change]);
  }

  insertGroupReceipt(row: GroupReceiptExportRow): void {
    this.#conn()
      .prepare('INSERT INTO group_receipts (message_id, username, delivered_at, read_at) VALUES (?, ?, ?, ?)')
      .run([row.messageId, row.username, row.deliveredAt, row.readAt]);
  }

  /**
   * What foreign keys cannot say about restored groups, as a list of problems (empty: sound):
   * every group conversation belongs to a group, every owed change is in that group's log,
   * every system line is a message of its own group's conversation, and every receipt is on
   * one of our outgoing messages of a group.
   */
  groupProblems(): string[] {
    const db = this.#conn();
    if (!hasTable(db, GROUP_TABLES.groups)) return [];
    const count = (sql: string) => Number(db.prepare(sql, { pluck: true }).get() ?? 0);
    const problems: string[] = [];
    if (count("SELECT count(*) FROM conversations c WHERE c.kind = 'group' AND NOT EXISTS (SELECT 1 FROM groups g WHERE g.conversation_id = c.id)") > 0) {
      problems.push('a group conversation without its group');
    }
    if (count("SELECT count(*) FROM groups g JOIN conversations c ON c.id = g.conversation_id WHERE c.kind != 'group'") > 0) {
      problems.push('a group on a direct conversation');
    }
    if (count('SELECT count(*) FROM group_resend r WHERE NOT EXISTS (SELECT 1 FROM group_changes c WHERE c.group_id = r.group_id AND c.id = r.change_id)') > 0) {
      problems.push('an owed change missing from its log');
    }
    if (
      count(
        'SELECT count(*) FROM group_events e LEFT JOIN messages m ON m.id = e.message_id LEFT JOIN groups g ON g.id = e.group_id WHERE g.id IS NULL OR m.conversation_id IS NOT g.conversation_id',
      ) > 0
    ) {
      problems.push('a system line outside its group');
    }
    if (
      hasTable(db, GROUP_TABLES.groupReceipts) &&
      count(
        'SELECT count(*) FROM group_receipts r JOIN messages m ON m.id = r.message_id WHERE m.outgoing = 0 OR NOT EXISTS (SELECT 1 FROM groups g WHERE g.conversation_id = m.conversation_id)',
      ) > 0
    ) {
      problems.push('a receipt on a message that is not our outgoing group message');
    }
    return problems;
  }

  /**
   * Inserts a message as it was (the conversation's counters are restored from its own row).
   * An incoming message whose backup carries no read time counts as read, as the migration that
   * added read_at decided for older rows: a restore must not send read receipts for old history.
   */
  insertMessage(row: MessageImportRow): void {
    const o = this.#optional;
    const readAt = row.readAt !== undefined ? row.readAt : row.outgoing ? null : (row.receivedAt ?? row.sentAt);
    this.#conn()
      .prepare(
        `INSERT INTO messages (id, conversation_id, sender, outgoing, text, sent_at, received_at, status${o.replyTo ? ', reply_to' : ''}${o.readAt ? ', read_at' : ''}${o.searchTerms ? ', search_terms' : ''})
         VALUES (?, ?, ?, ?, ?, ?, ?, ?${o.replyTo ? ', ?' : ''}${o.readAt ? ', ?' : ''}${o.searchTerms ? ', ?' : ''})`,
      )
      .run([
        row.id,
        row.conversationId,
        row.sender,
        row.outgoing ? 1 : 0,
        row.text,
        row.sentAt,
        row.receivedAt,
        row.status,
        ...(o.replyTo ? [row.replyTo ?? null] : []),
        ...(o.readAt ? [readAt] : []),
        ...(o.searchTerms ? [emojiTerms(row.text)] : []),
      ]);
  }

  /** Restores one settings row; columns this schema does not have are dropped. Returns false if there is no settings table. */
  putSetting(values: Record<string, SettingValue>): boolean {
    if (!this.#settingsColumns) return false;
    const entries = Object.entries(values).filter(([name]) => this.#settingsColumns?.has(name));
    if (entries.length === 0) return true;
    const names = entries.map(([name]) => quoteIdent(name)).join(', ');
    const marks = entries.map(() => '?').join(', ');
    this.#conn()
      .prepare(`INSERT OR REPLACE INTO ${quoteIdent(SETTINGS_TABLE)} (${names}) VALUES (${marks})`, { persistent: false })
      .run(entries.map(([, v]) => (v !== null && typeof v === 'object' ? toArrayBufferBytes(Buffer.from(v.b64, 'base64url')) : v)));
    return true;
  }

  /** Counts as stored, to check against what the backup announced. */
  counts(): Omit<BackupCounts, 'settings'> {
    const db = this.#conn();
    const count = (sql: string) => Number(db.prepare(sql, { pluck: true }).get() ?? 0);
    const rows = (table: string) => (hasTable(db, table) ? count(`SELECT count(*) FROM ${quoteIdent(table)}`) : 0);
    return {
      prekeys: count('SELECT count(*) FROM prekeys'),
      contacts: count('SELECT count(*) FROM contacts'),
      conversations: count('SELECT count(*) FROM conversations'),
      messages: count('SELECT count(*) FROM messages'),
      groups: rows(GROUP_TABLES.groups),
      groupMembers: rows(GROUP_TABLES.groupMembers),
      groupChanges: rows(GROUP_TABLES.groupChanges),
      groupResends: rows(GROUP_TABLES.groupResends),
      groupEvents: rows(GROUP_TABLES.groupEvents),
      groupReceipts: rows(GROUP_TABLES.groupReceipts),
    };
  }

  #conn(): Database {
    if (!this.#db) throw new StoreError('CLOSED', 'The restore writer is closed.');
    return this.#db;
  }
}

/** Whether a driver error is a constraint violation (duplicate id, unknown conversation, bad value). */
export function isConstraintError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' && error.code.startsWith('SQLITE_CONSTRAINT');
}
