// The embedded relay storage: one SQLite file (dataDir/relay.sqlite) in WAL mode.
// Opened without a key: the relay only holds public keys and ciphertext.
// The driver is synchronous and the relay runs in one process, so every transaction below is
// atomic with respect to every other request (no interleaving inside a call).
//
// What is left after a delete: secure_delete=ON overwrites deleted cells and freed pages with
// zeros, and scrub() checkpoints and truncates the WAL (which still holds old page images) and
// returns free pages to the file system (auto_vacuum=INCREMENTAL).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import type { DeviceKeysUpload, PrekeyBundle } from '../../shared/protocol/keys.js';
import {
  type CreateAccountResult,
  type DeviceAddress,
  type DeviceRecord,
  type MailboxQuota,
  MAX_STORED_ONE_TIME_PREKEYS,
  type NewEnvelope,
  type PrekeyCounts,
  PrekeyLimitError,
  type RelayStorage,
  type StoredEnvelope,
  type StoreEnvelopesResult,
  type StoreOutcome,
} from './types.js';

const SCHEMA_VERSION = 2;

// v2: accounts keep only the creation day; devices keep no time at all; envelopes record their
// size (for mailbox quotas); seq is no longer AUTOINCREMENT (which kept a lifetime count of
// envelopes in sqlite_sequence); deleting an account cascades to its devices, prekeys and mailbox.
const TABLES = `
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  created_day TEXT NOT NULL
);
CREATE TABLE devices (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
  device_id INTEGER NOT NULL,
  identity_key TEXT NOT NULL,
  signed_prekey_id INTEGER NOT NULL,
  signed_prekey TEXT NOT NULL,
  signed_prekey_sig TEXT NOT NULL,
  kyber_lr_id INTEGER NOT NULL,
  kyber_lr TEXT NOT NULL,
  kyber_lr_sig TEXT NOT NULL,
  UNIQUE (account_id, device_id)
);
CREATE TABLE one_time_prekeys (
  device INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  key_id INTEGER NOT NULL,
  public_key TEXT NOT NULL,
  PRIMARY KEY (device, key_id)
) WITHOUT ROWID;
CREATE TABLE kyber_prekeys (
  device INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  key_id INTEGER NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (device, key_id)
) WITHOUT ROWID;
-- seq orders a mailbox. The storage assigns it from an in-memory counter that starts above the
-- highest row present, so it only grows while the relay runs (delivery cursors rely on that) and
-- nothing on disk counts the envelopes ever stored.
CREATE TABLE envelopes (
  seq INTEGER PRIMARY KEY,
  device INTEGER NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
  id TEXT NOT NULL,
  sender TEXT NOT NULL,
  sender_device INTEGER NOT NULL,
  body TEXT NOT NULL,
  size INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  UNIQUE (device, id)
);
CREATE INDEX envelopes_by_device ON envelopes (device, seq);
CREATE INDEX envelopes_by_expiry ON envelopes (expires_at);
`;

/** v1 -> v2: copy into the new tables (dropping the timestamps), then swap. Runs with foreign keys off. */
const MIGRATE_1_TO_2 = `
ALTER TABLE accounts RENAME TO accounts_v1;
ALTER TABLE devices RENAME TO devices_v1;
ALTER TABLE one_time_prekeys RENAME TO one_time_prekeys_v1;
ALTER TABLE kyber_prekeys RENAME TO kyber_prekeys_v1;
ALTER TABLE envelopes RENAME TO envelopes_v1;
DROP INDEX IF EXISTS envelopes_by_device;
DROP INDEX IF EXISTS envelopes_by_expiry;
${TABLES}
INSERT INTO accounts (id, username, created_day) SELECT id, username, date(created_at / 1000, 'unixepoch') FROM accounts_v1;
INSERT INTO devices (id, account_id, device_id, identity_key, signed_prekey_id, signed_prekey, signed_prekey_sig, kyber_lr_id, kyber_lr, kyber_lr_sig)
  SELECT id, account_id, device_id, identity_key, signed_prekey_id, signed_prekey, signed_prekey_sig, kyber_lr_id, kyber_lr, kyber_lr_sig FROM devices_v1;
INSERT INTO one_time_prekeys SELECT device, key_id, public_key FROM one_time_prekeys_v1;
INSERT INTO kyber_prekeys SELECT device, key_id, public_key, signature FROM kyber_prekeys_v1;
INSERT INTO envelopes (seq, device, id, sender, sender_device, body, size, received_at, expires_at)
  SELECT seq, device, id, sender, sender_device, body, length(body), received_at, expires_at FROM envelopes_v1 ORDER BY seq;
DROP TABLE envelopes_v1;
DROP TABLE kyber_prekeys_v1;
DROP TABLE one_time_prekeys_v1;
DROP TABLE devices_v1;
DROP TABLE accounts_v1;
DELETE FROM sqlite_sequence;
`;

type Row = Record<string, unknown>;

export interface SqliteStorageOptions {
  /** PRAGMA synchronous: 'full' fsyncs every commit (an accepted envelope survives power loss); 'normal' is faster. Default 'full'. */
  synchronous?: 'full' | 'normal';
}

/** UTC calendar day of a timestamp, e.g. 2030-01-01: the only time an account record keeps. */
export function creationDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10);
}

interface Usage {
  envelopes: number;
  bytes: number;
}

export class SqliteRelayStorage implements RelayStorage {
  readonly seqOrderedCommits = true;
  /** One process owns the file, so storeEnvelopes sees every write to a mailbox and can report it. */
  readonly reportsStoredEnvelopes = true;
  readonly path: string;
  #db: Database;
  #deviceRows = new Map<string, number>();
  /** Mailbox usage per device row, loaded lazily; a cache of what the envelopes table holds. */
  #usage = new Map<number, Usage>();
  #s: ReturnType<SqliteRelayStorage['prepareAll']>;
  #closed = false;
  /** Last seq handed out (see the envelopes table). */
  #seq = 0;
  /** Group commit: hot-path writes issued in the same event-loop turn share one transaction (one fsync). */
  #queue: Array<{ op: () => unknown; resolve: (value: never) => void; reject: (error: unknown) => void }> = [];
  #flushScheduled = false;

  constructor(dataDir: string, options: SqliteStorageOptions = {}) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, 'relay.sqlite');
    this.#db = new Database(this.path, { cacheStatements: true });
    try {
      this.open(options);
    } catch (e) {
      this.#db.close();
      throw e;
    }
    this.#s = this.prepareAll();
    this.#seq = Number(this.#s.maxSeq.get() ?? 0);
  }

  private open(options: SqliteStorageOptions): void {
    const db = this.#db;
    // auto_vacuum must be chosen before the first table exists (an existing file is converted below).
    db.pragma('auto_vacuum = INCREMENTAL');
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('secure_delete = ON'); // deleted cells and freed pages are overwritten with zeros
    db.pragma('journal_size_limit = 67108864');
    // Checkpoint every ~40 MB of WAL instead of every 4 MB: most envelopes are inserted and deleted
    // (acked) between two checkpoints, so their pages reach the main file once per checkpoint, not
    // once per version, and the checkpoint's fsync of the main file runs a tenth as often. Every
    // commit still fsyncs the WAL (synchronous=FULL); scrub() still truncates it.
    db.pragma('wal_autocheckpoint = 10000');
    const version = Number(db.pragma('user_version', { simple: true }) ?? 0);
    if (version > SCHEMA_VERSION) throw new Error(`relay database schema ${version} is newer than this relay (${SCHEMA_VERSION})`);
    if (version < SCHEMA_VERSION) {
      db.pragma('foreign_keys = OFF'); // table swaps; checked below
      db.transaction(() => {
        const hasTables = db.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'accounts'").get();
        if (version === 0 && Number(hasTables?.n ?? 0) === 0) db.exec(TABLES);
        else if (version <= 1) db.exec(MIGRATE_1_TO_2);
        const broken = db.pragma('foreign_key_check');
        if (broken.length > 0) throw new Error('relay database migration left dangling references');
        db.pragma(`user_version = ${SCHEMA_VERSION}`);
      })();
      // A file created before auto_vacuum was set only switches on VACUUM; this also rewrites every page.
      if (Number(db.pragma('auto_vacuum', { simple: true })) !== 2) db.exec('VACUUM');
    }
    db.pragma('foreign_keys = ON');
  }

  private prepareAll() {
    const db = this.#db;
    const p = (sql: string) => db.prepare(sql, { persistent: true });
    const n = (sql: string) => db.prepare(sql, { persistent: true, pluck: true });
    return {
      accountByName: p('SELECT id FROM accounts WHERE username = ?'),
      insertAccount: p('INSERT INTO accounts (username, created_day) VALUES (?, ?)'),
      deleteAccount: p('DELETE FROM accounts WHERE id = ?'),
      deviceByAddress: p(
        'SELECT d.id AS id, d.identity_key AS identity_key FROM devices d JOIN accounts a ON a.id = d.account_id WHERE a.username = ? AND d.device_id = ?',
      ),
      devicesOfAccount: p('SELECT * FROM devices WHERE account_id = ? ORDER BY device_id'),
      insertDevice: p(
        `INSERT INTO devices (account_id, device_id, identity_key, signed_prekey_id, signed_prekey, signed_prekey_sig,
           kyber_lr_id, kyber_lr, kyber_lr_sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      updateDeviceKeys: p(
        `UPDATE devices SET signed_prekey_id = ?, signed_prekey = ?, signed_prekey_sig = ?,
           kyber_lr_id = ?, kyber_lr = ?, kyber_lr_sig = ? WHERE id = ?`,
      ),
      deleteOneTime: p('DELETE FROM one_time_prekeys WHERE device = ?'),
      deleteKyber: p('DELETE FROM kyber_prekeys WHERE device = ?'),
      insertOneTime: p('INSERT OR REPLACE INTO one_time_prekeys (device, key_id, public_key) VALUES (?, ?, ?)'),
      insertKyber: p('INSERT OR REPLACE INTO kyber_prekeys (device, key_id, public_key, signature) VALUES (?, ?, ?, ?)'),
      countOneTime: n('SELECT COUNT(*) FROM one_time_prekeys WHERE device = ?'),
      countKyber: n('SELECT COUNT(*) FROM kyber_prekeys WHERE device = ?'),
      takeOneTime: p(
        `DELETE FROM one_time_prekeys WHERE device = $device AND key_id =
           (SELECT key_id FROM one_time_prekeys WHERE device = $device ORDER BY key_id LIMIT 1)
         RETURNING key_id, public_key`,
      ),
      takeKyber: p(
        `DELETE FROM kyber_prekeys WHERE device = $device AND key_id =
           (SELECT key_id FROM kyber_prekeys WHERE device = $device ORDER BY key_id LIMIT 1)
         RETURNING key_id, public_key, signature`,
      ),
      insertEnvelope: p(
        `INSERT INTO envelopes (seq, device, id, sender, sender_device, body, size, received_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device, id) DO NOTHING`,
      ),
      maxSeq: n('SELECT MAX(seq) FROM envelopes'),
      envelopeExists: n('SELECT 1 FROM envelopes WHERE device = ? AND id = ?'),
      usage: p('SELECT COUNT(*) AS n, TOTAL(size) AS bytes FROM envelopes WHERE device = ?'),
      pending: p(
        `SELECT seq, id, sender, sender_device, body, received_at FROM envelopes
         WHERE device = ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`,
      ),
      pendingExcluding: p(
        `SELECT seq, id, sender, sender_device, body, received_at FROM envelopes
         WHERE device = ? AND seq > ? AND expires_at > ? AND id NOT IN (SELECT value FROM json_each(?)) ORDER BY seq LIMIT ?`,
      ),
      existing: n('SELECT id FROM envelopes WHERE device = ? AND id IN (SELECT value FROM json_each(?))'),
      countPending: n('SELECT COUNT(*) FROM envelopes WHERE device = ? AND expires_at > ?'),
      countAllPending: n('SELECT COUNT(*) FROM envelopes WHERE expires_at > ?'),
      // one statement per ack request, whatever its size (ids arrive as one JSON array)
      ack: p('DELETE FROM envelopes WHERE device = ? AND id IN (SELECT value FROM json_each(?)) RETURNING size'),
      purge: p('DELETE FROM envelopes WHERE expires_at <= ?'),
      ping: n('SELECT 1'),
    };
  }

  /** Runs `op` inside the next group-commit transaction (in its own savepoint) and resolves after COMMIT. */
  private grouped<T>(op: () => T): Promise<T> {
    if (this.#closed) return Promise.reject(new Error('relay storage is closed'));
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ op, resolve: resolve as (value: never) => void, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.flushQueue());
      }
    });
  }

  private flushQueue(): void {
    this.#flushScheduled = false;
    const jobs = this.#queue.splice(0);
    if (jobs.length === 0) return;
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.#db.transaction(() => {
        for (const job of jobs) {
          try {
            outcomes.push({ ok: true, value: this.#db.transaction(job.op)() });
          } catch (error) {
            this.#usage.clear(); // a rolled-back savepoint may have counted rows that are not there
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      this.#usage.clear();
      for (const job of jobs) job.reject(error);
      return;
    }
    jobs.forEach((job, i) => {
      const outcome = outcomes[i];
      if (outcome?.ok) job.resolve(outcome.value as never);
      else job.reject(outcome?.error);
    });
  }

  private key(username: string, deviceId: number): string {
    return `${username}\u0000${deviceId}`;
  }

  /** Internal row id of a device, cached (cleared when an account is deleted). */
  private deviceRow(username: string, deviceId: number): number | undefined {
    const key = this.key(username, deviceId);
    const cached = this.#deviceRows.get(key);
    if (cached !== undefined) return cached;
    const row = this.#s.deviceByAddress.get([username, deviceId]) as Row | undefined;
    if (!row) return undefined;
    const id = Number(row.id);
    this.#deviceRows.set(key, id);
    return id;
  }

  private requireDevice(address: DeviceAddress): number {
    const row = this.deviceRow(address.username, address.deviceId);
    if (row === undefined) throw new Error('unknown device');
    return row;
  }

  private usageOf(device: number): Usage {
    let usage = this.#usage.get(device);
    if (!usage) {
      const row = this.#s.usage.get([device]) as Row | undefined;
      usage = { envelopes: Number(row?.n ?? 0), bytes: Number(row?.bytes ?? 0) };
      this.#usage.set(device, usage);
    }
    return usage;
  }

  private insertPrekeys(device: number, keys: DeviceKeysUpload): void {
    for (const k of keys.oneTimePrekeys) this.#s.insertOneTime.run([device, k.id, k.publicKey]);
    for (const k of keys.kyberOneTimePrekeys) this.#s.insertKyber.run([device, k.id, k.publicKey, k.signature]);
  }

  private counts(device: number): PrekeyCounts {
    return {
      oneTimePrekeys: Number(this.#s.countOneTime.get([device]) ?? 0),
      kyberOneTimePrekeys: Number(this.#s.countKyber.get([device]) ?? 0),
    };
  }

  async createAccount(username: string, deviceId: number, keys: DeviceKeysUpload, now: number): Promise<CreateAccountResult> {
    this.#deviceRows.clear();
    return this.#db.transaction((): CreateAccountResult => {
      const account = this.#s.accountByName.get([username]) as Row | undefined;
      if (account) {
        const device = this.#s.deviceByAddress.get([username, deviceId]) as Row | undefined;
        if (!device || device.identity_key !== keys.identityKey) return { status: 'taken' };
        const row = Number(device.id);
        this.updateKeys(row, keys);
        this.#s.deleteOneTime.run([row]);
        this.#s.deleteKyber.run([row]);
        this.insertPrekeys(row, keys);
        return { status: 'reregistered' };
      }
      const accountId = this.#s.insertAccount.run([username, creationDay(now)]).lastInsertRowid;
      const sp = keys.signedPrekey;
      const lr = keys.kyberLastResort;
      const row = this.#s.insertDevice.run([
        accountId,
        deviceId,
        keys.identityKey,
        sp.id,
        sp.publicKey,
        sp.signature,
        lr.id,
        lr.publicKey,
        lr.signature,
      ]).lastInsertRowid;
      this.insertPrekeys(row, keys);
      return { status: 'created' };
    })();
  }

  private updateKeys(row: number, keys: DeviceKeysUpload): void {
    const sp = keys.signedPrekey;
    const lr = keys.kyberLastResort;
    this.#s.updateDeviceKeys.run([sp.id, sp.publicKey, sp.signature, lr.id, lr.publicKey, lr.signature, row]);
  }

  async getDevice(address: DeviceAddress): Promise<DeviceRecord | undefined> {
    const row = this.#s.deviceByAddress.get([address.username, address.deviceId]) as Row | undefined;
    if (!row) return undefined;
    return { username: address.username, deviceId: address.deviceId, identityKey: String(row.identity_key) };
  }

  async uploadPrekeys(address: DeviceAddress, keys: DeviceKeysUpload): Promise<PrekeyCounts> {
    const row = this.requireDevice(address);
    return this.#db.transaction(() => {
      this.updateKeys(row, keys);
      this.insertPrekeys(row, keys);
      const counts = this.counts(row);
      if (counts.oneTimePrekeys > MAX_STORED_ONE_TIME_PREKEYS || counts.kyberOneTimePrekeys > MAX_STORED_ONE_TIME_PREKEYS) {
        throw new PrekeyLimitError(`at most ${MAX_STORED_ONE_TIME_PREKEYS} unused one-time prekeys of each kind per device`);
      }
      return counts;
    })();
  }

  async prekeyCounts(address: DeviceAddress): Promise<PrekeyCounts> {
    return this.counts(this.requireDevice(address));
  }

  async takeBundles(username: string): Promise<PrekeyBundle[] | undefined> {
    return this.#db.transaction(() => {
      const account = this.#s.accountByName.get([username]) as Row | undefined;
      if (!account) return undefined;
      const devices = this.#s.devicesOfAccount.all([account.id as number]) as Row[];
      return devices.map((d): PrekeyBundle => {
        const device = Number(d.id);
        const otp = this.#s.takeOneTime.get({ device }) as Row | undefined;
        const kyber = this.#s.takeKyber.get({ device }) as Row | undefined;
        const bundle: PrekeyBundle = {
          username,
          deviceId: Number(d.device_id),
          identityKey: String(d.identity_key),
          signedPrekey: { id: Number(d.signed_prekey_id), publicKey: String(d.signed_prekey), signature: String(d.signed_prekey_sig) },
          kyberPrekey: kyber
            ? { id: Number(kyber.key_id), publicKey: String(kyber.public_key), signature: String(kyber.signature), lastResort: false }
            : { id: Number(d.kyber_lr_id), publicKey: String(d.kyber_lr), signature: String(d.kyber_lr_sig), lastResort: true },
        };
        if (otp) bundle.oneTimePrekey = { id: Number(otp.key_id), publicKey: String(otp.public_key) };
        return bundle;
      });
    })();
  }

  async storeEnvelopes(
    from: DeviceAddress,
    envelopes: NewEnvelope[],
    receivedAt: number,
    expiresAt: number,
    quota?: MailboxQuota,
  ): Promise<StoreEnvelopesResult> {
    return this.grouped(() => {
      const outcomes: StoreOutcome[] = [];
      const recipients = new Map<number, DeviceAddress & { stored: number }>();
      const storedEnvelopes: NonNullable<StoreEnvelopesResult['storedEnvelopes']> = [];
      for (const e of envelopes) {
        const device = this.deviceRow(e.to, e.toDeviceId);
        if (device === undefined) {
          outcomes.push('unknown-recipient');
          continue;
        }
        const size = e.body.length;
        if (quota) {
          const usage = this.usageOf(device);
          if (usage.envelopes + 1 > quota.maxEnvelopes || usage.bytes + size > quota.maxBytes) {
            // a copy already waiting is accepted again (idempotent), not refused
            outcomes.push(this.#s.envelopeExists.get([device, e.id]) ? 'duplicate' : 'mailbox-full');
            continue;
          }
        }
        const seq = this.#seq + 1;
        const { changes } = this.#s.insertEnvelope.run([seq, device, e.id, from.username, from.deviceId, e.body, size, receivedAt, expiresAt]);
        if (changes > 0) {
          this.#seq = seq;
          outcomes.push('stored');
          storedEnvelopes.push({ seq, id: e.id, from: from.username, fromDeviceId: from.deviceId, body: e.body, receivedAt, to: e.to, toDeviceId: e.toDeviceId });
          const usage = this.#usage.get(device);
          if (usage) {
            usage.envelopes++;
            usage.bytes += size;
          }
          const seen = recipients.get(device);
          if (seen) seen.stored++;
          else recipients.set(device, { username: e.to, deviceId: e.toDeviceId, stored: 1 });
        } else {
          outcomes.push('duplicate');
        }
      }
      return { outcomes, recipients: [...recipients.values()], storedEnvelopes };
    });
  }

  async pendingEnvelopes(
    address: DeviceAddress,
    afterSeq: number,
    now: number,
    limit: number,
    exclude: readonly string[] = [],
  ): Promise<StoredEnvelope[]> {
    const device = this.deviceRow(address.username, address.deviceId);
    if (device === undefined) return [];
    const rows = (
      exclude.length === 0
        ? this.#s.pending.all([device, afterSeq, now, limit])
        : this.#s.pendingExcluding.all([device, afterSeq, now, JSON.stringify(exclude), limit])
    ) as Row[];
    return rows.map((r) => ({
      seq: Number(r.seq),
      id: String(r.id),
      from: String(r.sender),
      fromDeviceId: Number(r.sender_device),
      body: String(r.body),
      receivedAt: Number(r.received_at),
    }));
  }

  async existingEnvelopes(address: DeviceAddress, ids: readonly string[]): Promise<string[]> {
    const device = this.deviceRow(address.username, address.deviceId);
    if (device === undefined || ids.length === 0) return [];
    return (this.#s.existing.all([device, JSON.stringify(ids)]) as unknown[]).map(String);
  }

  async countPending(address: DeviceAddress, now: number): Promise<number> {
    const device = this.deviceRow(address.username, address.deviceId);
    if (device === undefined) return 0;
    return Number(this.#s.countPending.get([device, now]) ?? 0);
  }

  async ackEnvelopes(address: DeviceAddress, ids: string[]): Promise<number> {
    const device = this.deviceRow(address.username, address.deviceId);
    if (device === undefined) return 0;
    if (ids.length === 0) return 0;
    const json = JSON.stringify(ids);
    return this.grouped(() => {
      const sizes = this.#s.ack.all([device, json]) as Row[];
      const usage = this.#usage.get(device);
      if (usage) {
        usage.envelopes -= sizes.length;
        for (const row of sizes) usage.bytes -= Number(row.size);
      }
      return sizes.length;
    });
  }

  async purgeExpired(now: number): Promise<number> {
    if (this.#closed) return 0;
    // Goes through the group-commit queue so it never interleaves with a half-applied batch's usage counts.
    return this.grouped(() => {
      const { changes } = this.#s.purge.run([now]);
      if (changes > 0) this.#usage.clear();
      return changes;
    });
  }

  async deleteAccount(username: string): Promise<DeviceAddress[] | undefined> {
    return this.grouped(() => {
      const account = this.#s.accountByName.get([username]) as Row | undefined;
      if (!account) return undefined;
      const devices = (this.#s.devicesOfAccount.all([account.id as number]) as Row[]).map((d) => ({
        username,
        deviceId: Number(d.device_id),
      }));
      this.#s.deleteAccount.run([account.id as number]); // cascades: devices, prekeys, mailboxes
      // inside the op, so the next write of this same group commit no longer finds the device
      this.#deviceRows.clear();
      this.#usage.clear();
      return devices;
    });
  }

  async countAllPending(now: number): Promise<number> {
    return Number(this.#s.countAllPending.get([now]) ?? 0);
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('relay storage is closed');
    this.#s.ping.get();
  }

  async scrub(): Promise<boolean> {
    if (this.#closed) return false;
    this.flushQueue();
    this.#db.pragma('incremental_vacuum');
    // TRUNCATE: the WAL (old page images, with deleted rows in them) is checkpointed and cut to zero bytes.
    const [result] = this.#db.pragma('wal_checkpoint(TRUNCATE)') as Row[];
    return Number(result?.busy ?? 0) === 0;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.flushQueue();
    this.#closed = true;
    try {
      this.#db.pragma('wal_checkpoint(TRUNCATE)');
    } catch {
      // best effort
    }
    this.#db.close();
  }
}
