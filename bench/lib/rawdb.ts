// Baselines that talk to SQLCipher directly: the same driver, key format, PRAGMAs and schema as
// the store (main/core/store), none of its code paths. What "raw SQLCipher" costs on this disk.
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { migrate } from '../../main/core/store/migrations.js';

export function keyDatabase(db: Database, key: Uint8Array): void {
  db.exec(`PRAGMA key = "x'${Buffer.from(key).toString('hex')}'"`);
  db.exec('PRAGMA cipher_compatibility = 4');
}

/** A fresh encrypted database in `dir` with the store's schema and connection settings. */
export function openRawDatabase(dir: string): Database {
  const db = new Database(join(dir, 'raw.db'), { cacheStatements: true });
  keyDatabase(db, randomBytes(32));
  db.exec('PRAGMA temp_store = MEMORY');
  db.exec('PRAGMA secure_delete = ON');
  db.exec('PRAGMA foreign_keys = ON');
  db.pragma('journal_mode = WAL');
  db.exec('PRAGMA synchronous = FULL');
  migrate(db);
  return db;
}

/** An existing profile's database opened with its key (read-only use). */
export function openExistingDatabase(path: string, key: Uint8Array): Database {
  const db = new Database(path, { cacheStatements: true });
  keyDatabase(db, key);
  db.exec('PRAGMA temp_store = MEMORY');
  return db;
}
