import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE, MIGRATIONS, openStore, readSettingValues, SCHEMA_VERSION, searchMessages, StoreError } from './index.js';
import { migrate, type Migration } from './migrations.js';
import { groupReaders, recordGroupReceipt, recordGroupRecipients } from './group-receipts.js';
import { randomKey, snapshot, tempProfile } from './test-helpers.js';

let profiles: ReturnType<typeof tempProfile>[] = [];
beforeEach(() => {
  profiles = [];
});
afterEach(() => {
  for (const p of profiles) p.cleanup();
});
function newProfile(): string {
  const p = tempProfile();
  profiles.push(p);
  return p.dir;
}

function rawOpen(dir: string, key: Uint8Array): Database {
  const db = new Database(join(dir, DB_FILE));
  db.exec(`PRAGMA key = "x'${Buffer.from(key).toString('hex')}'"`);
  return db;
}

/** The schema as SQL text, sorted, for comparing a migrated database with a fresh one. */
function schemaOf(dir: string, key: Uint8Array): string[] {
  const db = rawOpen(dir, key);
  try {
    return db
      .prepare("SELECT type || ' ' || name || ': ' || coalesce(sql, '') AS s FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name")
      .all()
      .map((row) => String(row['s']));
  } finally {
    db.close();
  }
}

describe('migrations', () => {
  it('versions are 1..N and SCHEMA_VERSION is N', () => {
    expect(MIGRATIONS.map((m) => m.version)).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('a fresh database ends at the latest version', () => {
    const dir = newProfile();
    const store = openStore(dir, randomKey());
    expect(store.schemaVersion).toBe(SCHEMA_VERSION);
    store.close();
  });

  /**
   * Data as each old version could hold it, written with that version's SQL: everything written
   * at the old version must survive the upgrade and work with the new features.
   */
  function seed(db: Database, version: number): void {
    if (version >= 1) {
      db.exec(`
        INSERT INTO conversations (id, kind, peer, created_at, updated_at, unread_count) VALUES ('old-conv', 'direct', 'bob', 1, 3, 1);
        INSERT INTO messages (id, conversation_id, sender, outgoing, text, sent_at, received_at, status)
          VALUES ('old-ko', 'old-conv', 'bob', 0, '예전에 받은 메시지를 찾아요 🎉', 2, 2, 'received'),
                 ('old-en', 'old-conv', 'me', 1, 'the encrypted archive from before', 3, NULL, 'delivered');
      `);
    }
    if (version >= 3) db.exec(`INSERT INTO settings (key, value) VALUES ('theme', '"dark"')`);
  }

  for (let from = 0; from < SCHEMA_VERSION; from++) {
    it(`migrates from version ${from} to ${SCHEMA_VERSION}: data written at ${from} survives and the schema equals a fresh one`, () => {
      const key = randomKey();
      const dir = newProfile();
      const old = openStore(dir, key, { migrateTo: from });
      expect(old.schemaVersion).toBe(from);
      seed(old.connection(), from);
      old.close();

      const store = openStore(dir, key);
      expect(store.schemaVersion).toBe(SCHEMA_VERSION);
      if (from >= 1) {
        expect(store.getMessage('old-ko')?.text).toBe('예전에 받은 메시지를 찾아요 🎉');
        expect(store.listMessages('old-conv', { limit: 10 }).messages.map((m) => m.id)).toEqual(['old-ko', 'old-en']);
        expect(store.getConversation('old-conv')?.unreadCount).toBe(1);
        // old messages are in the search index (Korean, English, emoji)
        const found = (q: string) => searchMessages(store, q, { limit: 10 }).map((h) => h.messageId);
        expect(found('메시지')).toEqual(['old-ko']);
        expect(found('encrypt')).toEqual(['old-en']);
        expect(found('🎉')).toEqual(['old-ko']);
      }
      expect(readSettingValues(store).get('theme')).toBe(from >= 3 ? '"dark"' : undefined);
      // the migrated database is usable
      const conv = store.getOrCreateDirectConversation('carol', 1);
      expect(store.insertMessage({ id: 'x', conversationId: conv.id, sender: 'me', outgoing: true, text: 'new text', sentAt: 1, receivedAt: null, status: 'sending' })).toBe(true);
      expect(searchMessages(store, 'new', { limit: 10 }).map((h) => h.messageId)).toEqual(['x']);
      // group receipts (version 6) work on it, and go with their message
      recordGroupRecipients(store, 'x', ['carol', 'dave']);
      expect(recordGroupReceipt(store, conv.id, 'carol', 'read', ['x', 'old-en'], 5)).toEqual(['x']);
      expect(groupReaders(store, ['x', 'old-en'])).toEqual(new Map([['x', ['carol']]]));
      store.connection().prepare("DELETE FROM messages WHERE id = 'x'").run();
      expect(store.connection().prepare('SELECT count(*) FROM group_receipts', { pluck: true }).get()).toBe(0);
      store.close();

      const freshKey = randomKey();
      const fresh = newProfile();
      openStore(fresh, freshKey).close();
      expect(schemaOf(dir, key)).toEqual(schemaOf(fresh, freshKey));
    });
  }

  it('a database from a newer Refuge is refused with a clear message and left byte-for-byte unchanged', () => {
    const key = randomKey();
    const dir = newProfile();
    const store = openStore(dir, key);
    seed(store.connection(), SCHEMA_VERSION);
    store.close();
    const raw = rawOpen(dir, key);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();
    const before = snapshot(dir);
    let caught: unknown;
    try {
      openStore(dir, key);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(StoreError);
    expect((caught as StoreError).code).toBe('NEWER_SCHEMA');
    expect((caught as StoreError).message).toBe('This profile was created by a newer version of Refuge. Update Refuge to open it; nothing was changed.');
    expect(snapshot(dir)).toEqual(before);
  });

  it('a failing migration is rolled back entirely and the version stays put', () => {
    const key = randomKey();
    const dir = newProfile();
    openStore(dir, key).close();
    const failing: Migration[] = [
      ...MIGRATIONS,
      {
        version: SCHEMA_VERSION + 1,
        description: 'fails halfway',
        up(db) {
          db.exec('CREATE TABLE half_done (x INTEGER)');
          db.exec('INSERT INTO half_done VALUES (1)');
          throw new Error('boom');
        },
      },
    ];
    const db = rawOpen(dir, key);
    try {
      let caught: unknown;
      try {
        migrate(db, SCHEMA_VERSION + 1, failing);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(StoreError);
      expect((caught as StoreError).code).toBe('MIGRATION_FAILED');
      expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
      expect(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half_done'", { pluck: true }).get()).toBe(0);
    } finally {
      db.close();
    }
    // and the app still opens it
    openStore(dir, key).close();
  });
});
