// Repositories of groups (issue 8), kept out of store.ts. Functions take the open Store and use
// its connection; like the store they are synchronous, and callers compose them in
// store.transaction(). Group state is client state: none of it ever reaches the relay.
import { randomUUID } from 'node:crypto';
import type { Migration } from './migrations.js';
import type { Store } from './store.js';

/**
 * The schema for groups, appended to MIGRATIONS (see migrations.ts for its number).
 * - groups: one row per group we were ever in; its conversation (kind 'group', peer NULL).
 * - group_members: the membership computed from group_changes (a cache, rebuilt on every change).
 * - group_changes: the membership log (create/add/remove/leave/rename/admin) as received, JSON.
 * - group_sender_keys: other members' sender-key chains, per (sender, device, key id).
 * - group_key_sent: which member devices already hold our current sender key.
 * - group_resend: our own changes still owed to members who joined concurrently.
 * - group_events: which messages are membership events (system messages), with the change.
 */
export const groupsMigration: Omit<Migration, 'version'> = {
  description: 'groups: membership log, members, sender keys, system messages',
  up(db) {
    db.exec(`
      CREATE TABLE groups (
        id              TEXT    PRIMARY KEY,
        conversation_id TEXT    NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
        name            TEXT    NOT NULL,
        version         INTEGER NOT NULL,
        member          INTEGER NOT NULL CHECK (member IN (0, 1)),
        own_key         BLOB,
        created_at      INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE group_members (
        group_id TEXT    NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        username TEXT    NOT NULL,
        admin    INTEGER NOT NULL CHECK (admin IN (0, 1)),
        PRIMARY KEY (group_id, username)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE group_changes (
        group_id TEXT    NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        id       TEXT    NOT NULL,
        version  INTEGER NOT NULL,
        author   TEXT    NOT NULL,
        body     TEXT    NOT NULL,
        PRIMARY KEY (group_id, id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE group_sender_keys (
        group_id   TEXT    NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        sender     TEXT    NOT NULL,
        device_id  INTEGER NOT NULL,
        key_id     INTEGER NOT NULL,
        record     BLOB    NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (group_id, sender, device_id, key_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE group_key_sent (
        group_id  TEXT    NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        username  TEXT    NOT NULL,
        device_id INTEGER NOT NULL,
        key_id    INTEGER NOT NULL,
        PRIMARY KEY (group_id, username, device_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE group_resend (
        group_id  TEXT NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
        username  TEXT NOT NULL,
        change_id TEXT NOT NULL,
        PRIMARY KEY (group_id, username, change_id)
      ) STRICT, WITHOUT ROWID;

      CREATE TABLE group_events (
        message_id TEXT PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        group_id   TEXT NOT NULL,
        change     TEXT NOT NULL
      ) STRICT, WITHOUT ROWID;
    `);
  },
};

export interface GroupRow {
  id: string;
  conversationId: string;
  name: string;
  /** highest membership-change version known */
  version: number;
  /** whether we are a member now (false after we left or were removed) */
  member: boolean;
  /** our serialized sender-key state; null: make a fresh one before the next send */
  ownKey: Uint8Array | null;
  createdAt: number;
}

export interface GroupMemberRow {
  username: string;
  admin: boolean;
}

type Row = Record<string, unknown>;

function text(row: Row, name: string): string {
  const v = row[name];
  if (typeof v !== 'string') throw new TypeError(`groups: column ${name} is not text`);
  return v;
}
function int(row: Row, name: string): number {
  const v = row[name];
  if (typeof v !== 'number') throw new TypeError(`groups: column ${name} is not an integer`);
  return v;
}
function blobOrNull(row: Row, name: string): Uint8Array | null {
  const v = row[name];
  if (v === null || v === undefined) return null;
  if (!(v instanceof Uint8Array)) throw new TypeError(`groups: column ${name} is not a blob`);
  return new Uint8Array(v.buffer, v.byteOffset, v.byteLength);
}
/** The driver wants Uint8Array<ArrayBuffer>. */
function blob(value: Uint8Array): Uint8Array<ArrayBuffer> {
  const buffer = value.buffer;
  return buffer instanceof ArrayBuffer ? new Uint8Array(buffer, value.byteOffset, value.byteLength) : new Uint8Array(value);
}

const GROUP_COLUMNS = 'id, conversation_id, name, version, member, own_key, created_at';

function toGroup(row: Row): GroupRow {
  return {
    id: text(row, 'id'),
    conversationId: text(row, 'conversation_id'),
    name: text(row, 'name'),
    version: int(row, 'version'),
    member: int(row, 'member') === 1,
    ownKey: blobOrNull(row, 'own_key'),
    createdAt: int(row, 'created_at'),
  };
}

/** Creates the group's conversation (kind 'group') and its row. Call inside a transaction. */
export function insertGroup(store: Store, group: { id: string; name: string; createdAt: number }): GroupRow {
  const db = store.connection();
  const conversationId = randomUUID();
  db.prepare(
    `INSERT INTO conversations (id, kind, peer, created_at, updated_at, unread_count) VALUES (?, 'group', NULL, ?, ?, 0)`,
  ).run([conversationId, group.createdAt, group.createdAt]);
  db.prepare(`INSERT INTO groups (${GROUP_COLUMNS}) VALUES (?, ?, ?, 0, 1, NULL, ?)`).run([group.id, conversationId, group.name, group.createdAt]);
  return { id: group.id, conversationId, name: group.name, version: 0, member: true, ownKey: null, createdAt: group.createdAt };
}

export function getGroup(store: Store, id: string): GroupRow | undefined {
  const row = store.connection().prepare(`SELECT ${GROUP_COLUMNS} FROM groups WHERE id = ?`).get([id]);
  return row ? toGroup(row) : undefined;
}

export function getGroupByConversation(store: Store, conversationId: string): GroupRow | undefined {
  const row = store.connection().prepare(`SELECT ${GROUP_COLUMNS} FROM groups WHERE conversation_id = ?`).get([conversationId]);
  return row ? toGroup(row) : undefined;
}

/** Every group, by name. */
export function listGroups(store: Store): GroupRow[] {
  return store.connection().prepare(`SELECT ${GROUP_COLUMNS} FROM groups ORDER BY name, id`).all().map(toGroup);
}

/** Stores the state computed from the log: name, version, our membership and the member list. */
export function saveGroupState(
  store: Store,
  id: string,
  state: { name: string; version: number; member: boolean; members: readonly GroupMemberRow[] },
): void {
  const db = store.connection();
  db.prepare('UPDATE groups SET name = ?, version = ?, member = ? WHERE id = ?').run([state.name, state.version, state.member ? 1 : 0, id]);
  db.prepare('DELETE FROM group_members WHERE group_id = ?').run([id]);
  const insert = db.prepare('INSERT INTO group_members (group_id, username, admin) VALUES (?, ?, ?)');
  for (const m of state.members) insert.run([id, m.username, m.admin ? 1 : 0]);
}

export function listGroupMembers(store: Store, id: string): GroupMemberRow[] {
  return store
    .connection()
    .prepare('SELECT username, admin FROM group_members WHERE group_id = ? ORDER BY username')
    .all([id])
    .map((row) => ({ username: text(row, 'username'), admin: int(row, 'admin') === 1 }));
}

/** Records a change of the log; false if it was known already. */
export function insertGroupChange(store: Store, groupId: string, change: { id: string; v: number; by: string }, body: string): boolean {
  return (
    store
      .connection()
      .prepare('INSERT INTO group_changes (group_id, id, version, author, body) VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING')
      .run([groupId, change.id, change.v, change.by, body]).changes === 1
  );
}

export function hasGroupChange(store: Store, groupId: string, id: string): boolean {
  return store.connection().prepare('SELECT 1 FROM group_changes WHERE group_id = ? AND id = ?', { pluck: true }).get([groupId, id]) !== undefined;
}

/** The log's changes as stored (JSON), in insertion order. */
export function listGroupChanges(store: Store, groupId: string, author?: string): string[] {
  const db = store.connection();
  const rows =
    author === undefined
      ? db.prepare('SELECT body FROM group_changes WHERE group_id = ? ORDER BY version, author, id', { pluck: true }).all([groupId])
      : db.prepare('SELECT body FROM group_changes WHERE group_id = ? AND author = ? ORDER BY version, id', { pluck: true }).all([groupId, author]);
  return rows.filter((v): v is string => typeof v === 'string');
}

export function setOwnSenderKey(store: Store, groupId: string, record: Uint8Array | null): void {
  store
    .connection()
    .prepare('UPDATE groups SET own_key = ? WHERE id = ?')
    .run([record ? blob(record) : null, groupId]);
}

// ---- other members' sender keys ---------------------------------------------------------

/** Chains kept per (group, sender, device): the newest few, so late messages of a rotated chain still open. */
export const SENDER_KEY_CHAINS_KEPT = 3;

export function getSenderKey(store: Store, groupId: string, sender: string, deviceId: number, keyId: number): Uint8Array | undefined {
  const row = store
    .connection()
    .prepare('SELECT record FROM group_sender_keys WHERE group_id = ? AND sender = ? AND device_id = ? AND key_id = ?')
    .get([groupId, sender, deviceId, keyId]);
  return row ? (blobOrNull(row, 'record') ?? undefined) : undefined;
}

/** Stores a chain's state; a new chain pushes out the oldest beyond SENDER_KEY_CHAINS_KEPT. */
export function putSenderKey(store: Store, groupId: string, sender: string, deviceId: number, keyId: number, record: Uint8Array, now: number): void {
  const db = store.connection();
  db.prepare(
    `INSERT INTO group_sender_keys (group_id, sender, device_id, key_id, record, updated_at) VALUES (?, ?, ?, ?, ?, ?)
     ON CONFLICT (group_id, sender, device_id, key_id) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at`,
  ).run([groupId, sender, deviceId, keyId, blob(record), now]);
  db.prepare(
    `DELETE FROM group_sender_keys WHERE group_id = ? AND sender = ? AND device_id = ? AND key_id NOT IN (
       SELECT key_id FROM group_sender_keys WHERE group_id = ? AND sender = ? AND device_id = ? ORDER BY updated_at DESC, key_id LIMIT ?
     )`,
  ).run([groupId, sender, deviceId, groupId, sender, deviceId, SENDER_KEY_CHAINS_KEPT]);
}

/** Forgets the chains of members who are gone (they cannot send to the group any more). */
export function deleteSenderKeysExcept(store: Store, groupId: string, members: readonly string[]): void {
  store
    .connection()
    .prepare('DELETE FROM group_sender_keys WHERE group_id = ? AND sender NOT IN (SELECT value FROM json_each(?))')
    .run([groupId, JSON.stringify(members)]);
}

export function countSenderKeys(store: Store, groupId: string, sender: string): number {
  const n = store.connection().prepare('SELECT count(*) FROM group_sender_keys WHERE group_id = ? AND sender = ?', { pluck: true }).get([groupId, sender]);
  return typeof n === 'number' ? n : 0;
}

// ---- distribution of our own key ----------------------------------------------------------

/** Which of our chains each member device holds, by `${username}\0${deviceId}`. */
export function keysSent(store: Store, groupId: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const row of store.connection().prepare('SELECT username, device_id, key_id FROM group_key_sent WHERE group_id = ?').all([groupId])) {
    out.set(`${text(row, 'username')}\u0000${int(row, 'device_id')}`, int(row, 'key_id'));
  }
  return out;
}

export function markKeySent(store: Store, groupId: string, username: string, deviceId: number, keyId: number): void {
  store
    .connection()
    .prepare(
      `INSERT INTO group_key_sent (group_id, username, device_id, key_id) VALUES (?, ?, ?, ?)
       ON CONFLICT (group_id, username, device_id) DO UPDATE SET key_id = excluded.key_id`,
    )
    .run([groupId, username, deviceId, keyId]);
}

/** After they started a fresh session (reinstall, restore), their device may lack our chains: send them again. */
export function forgetKeysSentTo(store: Store, username: string): void {
  store.connection().prepare('DELETE FROM group_key_sent WHERE username = ?').run([username]);
}

export function clearKeysSent(store: Store, groupId: string): void {
  store.connection().prepare('DELETE FROM group_key_sent WHERE group_id = ?').run([groupId]);
}

// ---- own changes owed to concurrently added members ----------------------------------------

export function addResends(store: Store, groupId: string, username: string, changeIds: readonly string[]): void {
  const insert = store.connection().prepare('INSERT INTO group_resend (group_id, username, change_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
  for (const id of changeIds) insert.run([groupId, username, id]);
}

export function listResends(store: Store, groupId: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const row of store.connection().prepare('SELECT username, change_id FROM group_resend WHERE group_id = ? ORDER BY username').all([groupId])) {
    const name = text(row, 'username');
    const list = out.get(name) ?? [];
    list.push(text(row, 'change_id'));
    out.set(name, list);
  }
  return out;
}

export function clearResends(store: Store, groupId: string, username: string): void {
  store.connection().prepare('DELETE FROM group_resend WHERE group_id = ? AND username = ?').run([groupId, username]);
}

export function getGroupChangeBody(store: Store, groupId: string, id: string): string | undefined {
  const v = store.connection().prepare('SELECT body FROM group_changes WHERE group_id = ? AND id = ?', { pluck: true }).get([groupId, id]);
  return typeof v === 'string' ? v : undefined;
}

// ---- system messages ----------------------------------------------------------------------

/** Marks a stored message as a membership event and takes it out of the unread count. */
export function markGroupEvent(store: Store, messageId: string, groupId: string, change: string, incoming: boolean): void {
  const db = store.connection();
  db.prepare('INSERT INTO group_events (message_id, group_id, change) VALUES (?, ?, ?) ON CONFLICT DO NOTHING').run([messageId, groupId, change]);
  if (incoming) {
    db.prepare(
      'UPDATE conversations SET unread_count = max(unread_count - 1, 0) WHERE id = (SELECT conversation_id FROM messages WHERE id = ?)',
    ).run([messageId]);
  }
}

/** The change JSON of each of `messageIds` that is a membership event. */
export function groupEvents(store: Store, messageIds: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (messageIds.length === 0) return out;
  const rows = store
    .connection()
    .prepare('SELECT message_id, change FROM group_events WHERE message_id IN (SELECT value FROM json_each(?))')
    .all([JSON.stringify(messageIds)]);
  for (const row of rows) out.set(text(row, 'message_id'), text(row, 'change'));
  return out;
}
