// The embedded relay storage: one SQLite file (dataDir/relay.sqlite) in WAL mode.
// Opened without a key: the relay only holds public keys and ciphertext.
// The driver is synchronous and the relay runs in one process, so every transaction below is
// atomic with respect to every other request (no interleaving inside a call).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import type { DeviceKeysUpload, PrekeyBundle } from '../../shared/protocol/keys.js';
import {
  type CreateAccountResult,
  type DeviceAddress,
  type DeviceRecord,
  MAX_STORED_ONE_TIME_PREKEYS,
  type NewEnvelope,
  type PrekeyCounts,
  PrekeyLimitError,
  type RelayStorage,
  type StoredEnvelope,
  type StoreEnvelopesResult,
  type StoreOutcome,
} from './types.js';

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS accounts (
  id INTEGER PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  created_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS devices (
  id INTEGER PRIMARY KEY,
  account_id INTEGER NOT NULL REFERENCES accounts(id),
  device_id INTEGER NOT NULL,
  identity_key TEXT NOT NULL,
  signed_prekey_id INTEGER NOT NULL,
  signed_prekey TEXT NOT NULL,
  signed_prekey_sig TEXT NOT NULL,
  kyber_lr_id INTEGER NOT NULL,
  kyber_lr TEXT NOT NULL,
  kyber_lr_sig TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  UNIQUE (account_id, device_id)
);
CREATE TABLE IF NOT EXISTS one_time_prekeys (
  device INTEGER NOT NULL REFERENCES devices(id),
  key_id INTEGER NOT NULL,
  public_key TEXT NOT NULL,
  PRIMARY KEY (device, key_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kyber_prekeys (
  device INTEGER NOT NULL REFERENCES devices(id),
  key_id INTEGER NOT NULL,
  public_key TEXT NOT NULL,
  signature TEXT NOT NULL,
  PRIMARY KEY (device, key_id)
) WITHOUT ROWID;
-- seq is AUTOINCREMENT so it is never reused: delivery cursors rely on it only growing.
CREATE TABLE IF NOT EXISTS envelopes (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  device INTEGER NOT NULL,
  id TEXT NOT NULL,
  sender TEXT NOT NULL,
  sender_device INTEGER NOT NULL,
  body TEXT NOT NULL,
  received_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  UNIQUE (device, id)
);
CREATE INDEX IF NOT EXISTS envelopes_by_device ON envelopes (device, seq);
CREATE INDEX IF NOT EXISTS envelopes_by_expiry ON envelopes (expires_at);
`;

type Row = Record<string, unknown>;

export interface SqliteStorageOptions {
  /** PRAGMA synchronous: 'full' fsyncs every commit (an accepted envelope survives power loss); 'normal' is faster. Default 'full'. */
  synchronous?: 'full' | 'normal';
}

export class SqliteRelayStorage implements RelayStorage {
  readonly path: string;
  #db: Database;
  #deviceRows = new Map<string, number>();
  #s: ReturnType<SqliteRelayStorage['prepareAll']>;
  #closed = false;
  /** Group commit: hot-path writes issued in the same event-loop turn share one transaction (one fsync). */
  #queue: Array<{ op: () => unknown; resolve: (value: never) => void; reject: (error: unknown) => void }> = [];
  #flushScheduled = false;

  constructor(dataDir: string, options: SqliteStorageOptions = {}) {
    mkdirSync(dataDir, { recursive: true });
    this.path = join(dataDir, 'relay.sqlite');
    this.#db = new Database(this.path, { cacheStatements: true });
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    this.#db.pragma('foreign_keys = ON');
    this.#db.pragma('secure_delete = ON'); // acked ciphertext is overwritten, not left in free pages
    this.#db.pragma('journal_size_limit = 67108864');
    const version = Number(this.#db.pragma('user_version', { simple: true }) ?? 0);
    if (version > SCHEMA_VERSION) throw new Error(`relay database schema ${version} is newer than this relay (${SCHEMA_VERSION})`);
    this.#db.transaction(() => {
      this.#db.exec(SCHEMA);
      this.#db.pragma(`user_version = ${SCHEMA_VERSION}`);
    })();
    this.#s = this.prepareAll();
  }

  private prepareAll() {
    const db = this.#db;
    const p = (sql: string) => db.prepare(sql, { persistent: true });
    const n = (sql: string) => db.prepare(sql, { persistent: true, pluck: true });
    return {
      accountByName: p('SELECT id FROM accounts WHERE username = ?'),
      insertAccount: p('INSERT INTO accounts (username, created_at) VALUES (?, ?)'),
      deviceByAddress: p(
        'SELECT d.id AS id, d.identity_key AS identity_key FROM devices d JOIN accounts a ON a.id = d.account_id WHERE a.username = ? AND d.device_id = ?',
      ),
      devicesOfAccount: p('SELECT * FROM devices WHERE account_id = ? ORDER BY device_id'),
      insertDevice: p(
        `INSERT INTO devices (account_id, device_id, identity_key, signed_prekey_id, signed_prekey, signed_prekey_sig,
           kyber_lr_id, kyber_lr, kyber_lr_sig, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
        `INSERT INTO envelopes (device, id, sender, sender_device, body, received_at, expires_at)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (device, id) DO NOTHING`,
      ),
      pending: p(
        `SELECT seq, id, sender, sender_device, body, received_at FROM envelopes
         WHERE device = ? AND seq > ? AND expires_at > ? ORDER BY seq LIMIT ?`,
      ),
      countPending: n('SELECT COUNT(*) FROM envelopes WHERE device = ? AND expires_at > ?'),
      ack: p('DELETE FROM envelopes WHERE device = ? AND id = ?'),
      purge: p('DELETE FROM envelopes WHERE expires_at <= ?'),
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
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
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

  /** Internal row id of a device, cached (devices are never deleted). */
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
      const accountId = this.#s.insertAccount.run([username, now]).lastInsertRowid;
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
        now,
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

  async storeEnvelopes(from: DeviceAddress, envelopes: NewEnvelope[], receivedAt: number, expiresAt: number): Promise<StoreEnvelopesResult> {
    return this.grouped(() => {
      const outcomes: StoreOutcome[] = [];
      const recipients = new Map<number, DeviceAddress & { stored: number }>();
      for (const e of envelopes) {
        const device = this.deviceRow(e.to, e.toDeviceId);
        if (device === undefined) {
          outcomes.push('unknown-recipient');
          continue;
        }
        const { changes } = this.#s.insertEnvelope.run([device, e.id, from.username, from.deviceId, e.body, receivedAt, expiresAt]);
        if (changes > 0) {
          outcomes.push('stored');
          const seen = recipients.get(device);
          if (seen) seen.stored++;
          else recipients.set(device, { username: e.to, deviceId: e.toDeviceId, stored: 1 });
        } else {
          outcomes.push('duplicate');
        }
      }
      return { outcomes, recipients: [...recipients.values()] };
    });
  }

  async pendingEnvelopes(address: DeviceAddress, afterSeq: number, now: number, limit: number): Promise<StoredEnvelope[]> {
    const device = this.deviceRow(address.username, address.deviceId);
    if (device === undefined) return [];
    const rows = this.#s.pending.all([device, afterSeq, now, limit]) as Row[];
    return rows.map((r) => ({
      seq: Number(r.seq),
      id: String(r.id),
      from: String(r.sender),
      fromDeviceId: Number(r.sender_device),
      body: String(r.body),
      receivedAt: Number(r.received_at),
    }));
  }

  async countPending(address: DeviceAddress, now: number): Promise<number> {
    const device = this.deviceRow(address.username, address.deviceId);
    if (device === undefined) return 0;
    return Number(this.#s.countPending.get([device, now]) ?? 0);
  }

  async ackEnvelopes(address: DeviceAddress, ids: string[]): Promise<number> {
    const device = this.deviceRow(address.username, address.deviceId);
    if (device === undefined) return 0;
    return this.grouped(() => {
      let deleted = 0;
      for (const id of ids) deleted += this.#s.ack.run([device, id]).changes;
      return deleted;
    });
  }

  async purgeExpired(now: number): Promise<number> {
    return this.#s.purge.run([now]).changes;
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
