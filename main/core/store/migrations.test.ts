import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE, MIGRATIONS, openStore, SCHEMA_VERSION, StoreError } from './index.js';
import { migrate, type Migration } from './migrations.js';
import { randomKey, tempProfile } from './test-helpers.js';

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

  for (let from = 0; from < SCHEMA_VERSION; from++) {
    it(`migrates from version ${from} to ${SCHEMA_VERSION}, ending with the same schema as a fresh database`, () => {
      const key = randomKey();
      const dir = newProfile();
      const old = openStore(dir, key, { migrateTo: from });
      expect(old.schemaVersion).toBe(from);
      old.close();
      const store = openStore(dir, key);
      expect(store.schemaVersion).toBe(SCHEMA_VERSION);
      // the migrated database is usable
      const conv = store.getOrCreateDirectConversation('bob', 1);
      expect(store.insertMessage({ id: 'x', conversationId: conv.id, sender: 'me', outgoing: true, text: 't', sentAt: 1, receivedAt: null, status: 'sending' })).toBe(true);
      store.close();

      const freshKey = randomKey();
      const fresh = newProfile();
      openStore(fresh, freshKey).close();
      expect(schemaOf(dir, key)).toEqual(schemaOf(fresh, freshKey));
    });
  }

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
