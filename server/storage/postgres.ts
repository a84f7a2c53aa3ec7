// Relay storage on PostgreSQL, shared by every node of a cluster. Same contract as the SQLite
// adapter (types.ts). Tables live in their own schema (default "refuge"), created and migrated
// at start-up under an advisory lock so several nodes may start at once.
//
// Hot path: one statement per call (storeEnvelopes resolves recipients, checks quotas and inserts
// a whole batch with unnest(); acks delete a mailbox's ids with unnest()), named so each
// connection prepares it once.
// Inserts into one mailbox are serialised by an advisory lock, so a reader's cursor never skips
// a row that commits late (see storeEnvelopes below). Mailbox counter rows are locked in device
// order by inserts and acks alike, and an ack statement covers one mailbox: acks merged across
// mailboxes used to deadlock on those rows, and PostgreSQL then aborted a whole batch of acks.
// Concurrent commits share WAL flushes, so PostgreSQL group-commits across the pool by itself.
//
// What is left after a delete: PostgreSQL keeps a deleted row's bytes in the table file (dead
// tuple, then free space inside the page) until the page is rewritten. Plain VACUUM frees the
// space but does not overwrite it; scrub() runs VACUUM FULL on the mailbox table, which writes
// a fresh copy holding only live rows. See docs/DEPLOY.md for WAL and backups.
import pg from 'pg';
import type { DeviceKeysUpload, PrekeyBundle } from '../../shared/protocol/keys.js';
import { creationDay } from './sqlite.js';
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
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const NO_QUOTA = { maxEnvelopes: Number.MAX_SAFE_INTEGER, maxBytes: Number.MAX_SAFE_INTEGER };

export interface PostgresStorageOptions {
  /** postgres://user@host:port/db */
  connectionString: string;
  /** Schema for the relay's tables (created if missing). Default "refuge". */
  schema?: string;
  /** Pool size. Default 20 (with 10, a node's inserts queued for a connection under load: relay_cluster ran 10-20 % slower). */
  maxConnections?: number;
  /** lock_timeout for the VACUUM FULL of scrub(): if the table cannot be locked this fast, the scrub is skipped. Default 5 s. */
  scrubLockTimeoutMs?: number;
  /**
   * VACUUM FULL locks the mailbox table while it copies it. Above this size (table + TOAST + indexes)
   * scrub() runs a plain VACUUM instead (no lock, but freed space keeps its old bytes) and returns
   * false. Default 512 MiB.
   */
  scrubMaxBytes?: number;
}

type Row = Record<string, unknown>;

function tables(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.accounts (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username text NOT NULL UNIQUE,
  created_day date NOT NULL
);
CREATE TABLE IF NOT EXISTS ${s}.devices (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  account_id bigint NOT NULL REFERENCES ${s}.accounts(id) ON DELETE CASCADE,
  device_id integer NOT NULL,
  identity_key text NOT NULL,
  signed_prekey_id bigint NOT NULL,
  signed_prekey text NOT NULL,
  signed_prekey_sig text NOT NULL,
  kyber_lr_id bigint NOT NULL,
  kyber_lr text NOT NULL,
  kyber_lr_sig text NOT NULL,
  UNIQUE (account_id, device_id)
);
CREATE TABLE IF NOT EXISTS ${s}.one_time_prekeys (
  device bigint NOT NULL REFERENCES ${s}.devices(id) ON DELETE CASCADE,
  key_id bigint NOT NULL,
  public_key text NOT NULL,
  PRIMARY KEY (device, key_id)
);
CREATE TABLE IF NOT EXISTS ${s}.kyber_prekeys (
  device bigint NOT NULL REFERENCES ${s}.devices(id) ON DELETE CASCADE,
  key_id bigint NOT NULL,
  public_key text NOT NULL,
  signature text NOT NULL,
  PRIMARY KEY (device, key_id)
);
-- No foreign key to devices: the hot insert path would take a share lock on the device row per
-- envelope. Recipients are resolved inside the insert; scrub() removes rows of deleted devices.
CREATE TABLE IF NOT EXISTS ${s}.envelopes (
  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  device bigint NOT NULL,
  id text NOT NULL,
  sender text NOT NULL,
  sender_device integer NOT NULL,
  body text NOT NULL,
  size integer NOT NULL,
  received_at bigint NOT NULL,
  expires_at bigint NOT NULL,
  UNIQUE (device, id)
);
CREATE INDEX IF NOT EXISTS envelopes_by_device ON ${s}.envelopes (device, seq) INCLUDE (size, expires_at);
CREATE INDEX IF NOT EXISTS envelopes_by_expiry ON ${s}.envelopes (expires_at);
-- ciphertext does not compress; EXTERNAL stores long bodies out of line without trying
ALTER TABLE ${s}.envelopes ALTER COLUMN body SET STORAGE EXTERNAL;
-- vacuum the mailbox table as soon as a few hundred rows are dead, without throttling
ALTER TABLE ${s}.envelopes SET (
  autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 500, autovacuum_vacuum_cost_delay = 0,
  toast.autovacuum_vacuum_scale_factor = 0, toast.autovacuum_vacuum_threshold = 500, toast.autovacuum_vacuum_cost_delay = 0
);
`;
}

/**
 * v2: what each mailbox holds, updated in the same statement as every insert, ack and purge, so
 * the quota check reads one row instead of counting a mailbox (a large backlog made every batch to
 * it slow). Only counts: no sender, no time. The scrub drops a row once its mailbox is empty.
 */
function mailboxTable(s: string): string {
  return `
CREATE TABLE IF NOT EXISTS ${s}.mailboxes (
  device bigint PRIMARY KEY REFERENCES ${s}.devices(id) ON DELETE CASCADE,
  envelopes bigint NOT NULL,
  bytes bigint NOT NULL
);
ALTER TABLE ${s}.mailboxes SET (fillfactor = 50, autovacuum_vacuum_scale_factor = 0, autovacuum_vacuum_threshold = 200);
INSERT INTO ${s}.mailboxes (device, envelopes, bytes)
  SELECT e.device, count(*), sum(e.size) FROM ${s}.envelopes e JOIN ${s}.devices d ON d.id = e.device GROUP BY e.device
  ON CONFLICT (device) DO UPDATE SET envelopes = excluded.envelopes, bytes = excluded.bytes;
`;
}

/**
 * Group commit for acks, per mailbox: the acks of one mailbox that arrive in the same event-loop
 * turn, or while its previous statement runs, go to PostgreSQL as one statement. One statement
 * per mailbox at a time, mailboxes in parallel: a statement spanning every mailbox would hold all
 * their counter rows at once and make every insert wait for it (and, run concurrently, such
 * statements deadlocked). (Inserts are not merged: see storeEnvelopes.)
 */
class MailboxBatcher<In, Out> {
  #queues = new Map<string, { pending: Array<{ input: In; resolve: (out: Out) => void; reject: (e: unknown) => void }>; running: boolean }>();
  #scheduled = false;

  constructor(private readonly run: (inputs: In[]) => Promise<Out[]>) {}

  add(mailbox: string, input: In): Promise<Out> {
    return new Promise<Out>((resolve, reject) => {
      let queue = this.#queues.get(mailbox);
      if (!queue) {
        queue = { pending: [], running: false };
        this.#queues.set(mailbox, queue);
      }
      queue.pending.push({ input, resolve, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      for (const [mailbox, queue] of this.#queues) {
        if (queue.running) continue;
        const jobs = queue.pending.splice(0);
        if (jobs.length === 0) {
          this.#queues.delete(mailbox);
          continue;
        }
        queue.running = true;
        this.run(jobs.map((j) => j.input))
          .then(
            (outs) => jobs.forEach((j, i) => j.resolve(outs[i] as Out)),
            (e: unknown) => jobs.forEach((j) => j.reject(e)),
          )
          .finally(() => {
            queue.running = false;
            if (queue.pending.length > 0) this.schedule();
            else if (this.#queues.get(mailbox) === queue) this.#queues.delete(mailbox);
          });
      }
    });
  }
}

/** deadlock_detected, serialization_failure: the statement was rolled back whole and may simply run again. */
const RETRYABLE = new Set(['40P01', '40001']);
const MAX_ATTEMPTS = 4;

interface StoreRow {
  to: string;
  toDeviceId: number;
  id: string;
  body: string;
  sender: string;
  senderDevice: number;
  receivedAt: number;
  expiresAt: number;
}

export class PostgresRelayStorage implements RelayStorage {
  /** storeEnvelopes locks each recipient mailbox before drawing seqs, so per mailbox, commit order is seq order. */
  readonly seqOrderedCommits = true;
  readonly schema: string;
  readonly #pool: pg.Pool;
  readonly #q: ReturnType<typeof queries>;
  readonly #scrubLockTimeoutMs: number;
  readonly #scrubMaxBytes: number;
  #closed = false;
  readonly #ackBatcher = new MailboxBatcher<{ address: DeviceAddress; ids: string[] }, number>((calls) => this.ackMany(calls));

  private constructor(pool: pg.Pool, schema: string, options: PostgresStorageOptions) {
    this.#pool = pool;
    this.schema = schema;
    this.#q = queries(`"${schema}"`);
    this.#scrubLockTimeoutMs = options.scrubLockTimeoutMs ?? 5000;
    this.#scrubMaxBytes = options.scrubMaxBytes ?? 512 * 1024 * 1024;
  }

  /** Connects, creates or migrates the schema, and returns the adapter. */
  static async open(options: PostgresStorageOptions): Promise<PostgresRelayStorage> {
    const schema = options.schema ?? 'refuge';
    if (!SCHEMA_NAME.test(schema)) throw new Error('the PostgreSQL schema name must match [a-z_][a-z0-9_]*');
    const pool = new pg.Pool({ connectionString: options.connectionString, max: options.maxConnections ?? 20 });
    // An idle client that loses its connection reports here; the pool replaces it. Never crash for it.
    pool.on('error', () => {});
    const storage = new PostgresRelayStorage(pool, schema, options);
    try {
      await storage.migrate();
    } catch (e) {
      await pool.end().catch(() => {});
      throw e;
    }
    return storage;
  }

  private async migrate(): Promise<void> {
    const s = `"${this.schema}"`;
    const client = await this.#pool.connect();
    try {
      // one node migrates at a time; the others wait and then find the schema current
      await client.query('SELECT pg_advisory_lock(hashtext($1))', [`refuge-relay-migrate:${this.schema}`]);
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
        await client.query(`CREATE TABLE IF NOT EXISTS ${s}.meta (key text PRIMARY KEY, value text NOT NULL)`);
        const { rows } = await client.query(`SELECT value FROM ${s}.meta WHERE key = 'schema_version'`);
        const version = Number(rows[0]?.value ?? 0);
        if (version > SCHEMA_VERSION) throw new Error(`relay database schema ${version} is newer than this relay (${SCHEMA_VERSION})`);
        if (version < SCHEMA_VERSION) {
          await client.query('BEGIN');
          try {
            if (version < 1) await client.query(tables(s));
            await client.query(mailboxTable(s));
            await client.query(
              `INSERT INTO ${s}.meta (key, value) VALUES ('schema_version', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value`,
              [String(SCHEMA_VERSION)],
            );
            await client.query('COMMIT');
          } catch (e) {
            await client.query('ROLLBACK').catch(() => {});
            throw e;
          }
        }
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [`refuge-relay-migrate:${this.schema}`]);
      }
    } finally {
      client.release();
    }
  }

  private async tx<T>(fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    if (this.#closed) throw new Error('relay storage is closed');
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      try {
        const result = await fn(client);
        await client.query('COMMIT');
        return result;
      } catch (e) {
        await client.query('ROLLBACK').catch(() => {});
        throw e;
      }
    } finally {
      client.release();
    }
  }

  private query(q: { name: string; text: string }, values: unknown[], client?: pg.PoolClient): Promise<pg.QueryResult<Row>> {
    if (this.#closed) return Promise.reject(new Error('relay storage is closed'));
    return (client ?? this.#pool).query<Row>({ name: q.name, text: q.text, values });
  }

  /** A single-statement write (its own transaction), run again if PostgreSQL aborted it for a deadlock or a serialization failure. */
  private async write(q: { name: string; text: string }, values: unknown[]): Promise<pg.QueryResult<Row>> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.query(q, values);
      } catch (e) {
        const code = (e as { code?: unknown }).code;
        if (attempt >= MAX_ATTEMPTS || typeof code !== 'string' || !RETRYABLE.has(code) || this.#closed) throw e;
      }
    }
  }

  private async insertPrekeys(client: pg.PoolClient, device: number, keys: DeviceKeysUpload): Promise<void> {
    if (keys.oneTimePrekeys.length > 0) {
      await this.query(this.#q.insertOneTime, [device, keys.oneTimePrekeys.map((k) => k.id), keys.oneTimePrekeys.map((k) => k.publicKey)], client);
    }
    if (keys.kyberOneTimePrekeys.length > 0) {
      const k = keys.kyberOneTimePrekeys;
      await this.query(this.#q.insertKyber, [device, k.map((x) => x.id), k.map((x) => x.publicKey), k.map((x) => x.signature)], client);
    }
  }

  private async updateKeys(client: pg.PoolClient, device: number, keys: DeviceKeysUpload): Promise<void> {
    const sp = keys.signedPrekey;
    const lr = keys.kyberLastResort;
    await this.query(this.#q.updateDeviceKeys, [sp.id, sp.publicKey, sp.signature, lr.id, lr.publicKey, lr.signature, device], client);
  }

  private async counts(device: number, client?: pg.PoolClient): Promise<PrekeyCounts> {
    const { rows } = await this.query(this.#q.counts, [device], client);
    return { oneTimePrekeys: Number(rows[0]?.otp ?? 0), kyberOneTimePrekeys: Number(rows[0]?.kyber ?? 0) };
  }

  private async deviceRow(address: DeviceAddress, client?: pg.PoolClient, lock = false): Promise<Row | undefined> {
    const { rows } = await this.query(lock ? this.#q.deviceForUpdate : this.#q.device, [address.username, address.deviceId], client);
    return rows[0];
  }

  async createAccount(username: string, deviceId: number, keys: DeviceKeysUpload, now: number): Promise<CreateAccountResult> {
    return this.tx(async (client) => {
      const inserted = await this.query(this.#q.insertAccount, [username, creationDay(now)], client);
      const accountId = inserted.rows[0]?.id;
      if (accountId === undefined) {
        // the name exists: a retried registration by the same identity key replaces the keys
        const device = await this.deviceRow({ username, deviceId }, client, true);
        if (!device || device.identity_key !== keys.identityKey) return { status: 'taken' };
        const row = Number(device.id);
        await this.updateKeys(client, row, keys);
        await this.query(this.#q.deleteOneTime, [row], client);
        await this.query(this.#q.deleteKyber, [row], client);
        await this.insertPrekeys(client, row, keys);
        return { status: 'reregistered' };
      }
      const sp = keys.signedPrekey;
      const lr = keys.kyberLastResort;
      const device = await this.query(
        this.#q.insertDevice,
        [accountId, deviceId, keys.identityKey, sp.id, sp.publicKey, sp.signature, lr.id, lr.publicKey, lr.signature],
        client,
      );
      await this.insertPrekeys(client, Number(device.rows[0]?.id), keys);
      return { status: 'created' };
    });
  }

  async getDevice(address: DeviceAddress): Promise<DeviceRecord | undefined> {
    const row = await this.deviceRow(address);
    if (!row) return undefined;
    return { username: address.username, deviceId: address.deviceId, identityKey: String(row.identity_key) };
  }

  async uploadPrekeys(address: DeviceAddress, keys: DeviceKeysUpload): Promise<PrekeyCounts> {
    return this.tx(async (client) => {
      const device = await this.deviceRow(address, client, true);
      if (!device) throw new Error('unknown device');
      const row = Number(device.id);
      await this.updateKeys(client, row, keys);
      await this.insertPrekeys(client, row, keys);
      const counts = await this.counts(row, client);
      if (counts.oneTimePrekeys > MAX_STORED_ONE_TIME_PREKEYS || counts.kyberOneTimePrekeys > MAX_STORED_ONE_TIME_PREKEYS) {
        throw new PrekeyLimitError(`at most ${MAX_STORED_ONE_TIME_PREKEYS} unused one-time prekeys of each kind per device`);
      }
      return counts;
    });
  }

  async prekeyCounts(address: DeviceAddress): Promise<PrekeyCounts> {
    const device = await this.deviceRow(address);
    if (!device) throw new Error('unknown device');
    return this.counts(Number(device.id));
  }

  async takeBundles(username: string): Promise<PrekeyBundle[] | undefined> {
    return this.tx(async (client) => {
      const { rows: devices } = await this.query(this.#q.devicesOfUser, [username], client);
      if (devices.length === 0) {
        const { rowCount } = await this.query(this.#q.accountExists, [username], client);
        return rowCount ? [] : undefined;
      }
      const bundles: PrekeyBundle[] = [];
      for (const d of devices) {
        const device = Number(d.id);
        // SKIP LOCKED: a concurrent fetch takes the next key instead of waiting for this one and then finding none
        const otp = (await this.query(this.#q.takeOneTime, [device], client)).rows[0];
        const kyber = (await this.query(this.#q.takeKyber, [device], client)).rows[0];
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
        bundles.push(bundle);
      }
      return bundles;
    });
  }

  async storeEnvelopes(
    from: DeviceAddress,
    envelopes: NewEnvelope[],
    receivedAt: number,
    expiresAt: number,
    quota: MailboxQuota = NO_QUOTA,
  ): Promise<StoreEnvelopesResult> {
    // The same (recipient, id) twice in one batch: only the first goes to the database.
    const firstOf = new Map<string, number>();
    const unique: number[] = [];
    const repeatOf: number[] = [];
    envelopes.forEach((e, i) => {
      const key = `${e.to}\u0000${e.toDeviceId}\u0000${e.id}`;
      const first = firstOf.get(key);
      if (first === undefined) {
        firstOf.set(key, i);
        unique.push(i);
      }
      repeatOf[i] = first ?? i;
    });
    if (this.#closed) throw new Error('relay storage is closed');
    const input: StoreRow[] = unique.map((i) => {
      const e = envelopes[i] as NewEnvelope;
      return { to: e.to, toDeviceId: e.toDeviceId, id: e.id, body: e.body, sender: from.username, senderDevice: from.deviceId, receivedAt, expiresAt };
    });
    // One statement per call, not one per turn: each takes the advisory locks of its recipients,
    // and merged batches would serialise senders that write to different mailboxes.
    const { rows } = await this.write(this.#q.storeEnvelopes, [
      input.map((r) => r.to),
      input.map((r) => r.toDeviceId),
      input.map((r) => r.id),
      input.map((r) => r.body),
      input.map((r) => r.sender),
      input.map((r) => r.senderDevice),
      input.map((r) => r.receivedAt),
      input.map((r) => r.expiresAt),
      quota.maxEnvelopes,
      quota.maxBytes,
    ]);
    const byOrd = new Map<number, Row>();
    const inserted = new Set<string>();
    for (const r of rows) {
      if (r.inserted === true) inserted.add(`${String(r.device)}\u0000${String(r.id)}`);
      else byOrd.set(Number(r.ord), r);
    }
    const outcomeOf = new Map<number, StoreOutcome>();
    const recipients = new Map<string, DeviceAddress & { stored: number }>();
    unique.forEach((original, k) => {
      const r = byOrd.get(k + 1);
      let outcome: StoreOutcome;
      if (!r) outcome = 'unknown-recipient';
      else if (r.dup === true) outcome = 'duplicate';
      else if (r.fits === false) outcome = 'mailbox-full';
      else if (inserted.has(`${String(r.device)}\u0000${String(r.id)}`)) outcome = 'stored';
      else outcome = 'duplicate'; // inserted concurrently by another request
      outcomeOf.set(original, outcome);
      if (outcome === 'stored') {
        const e = envelopes[original] as NewEnvelope;
        const key = `${e.to}\u0000${e.toDeviceId}`;
        const seen = recipients.get(key);
        if (seen) seen.stored++;
        else recipients.set(key, { username: e.to, deviceId: e.toDeviceId, stored: 1 });
      }
    });
    const outcomes = envelopes.map((_, i) => {
      const first = repeatOf[i] ?? i;
      const outcome = outcomeOf.get(first) ?? 'unknown-recipient';
      return first !== i && outcome === 'stored' ? 'duplicate' : outcome;
    });
    return { outcomes, recipients: [...recipients.values()] };
  }

  /** One statement for these ackEnvelopes calls (all of one mailbox: see the batcher's key); returns how many each deleted. */
  private async ackMany(calls: Array<{ address: DeviceAddress; ids: string[] }>): Promise<number[]> {
    const first = calls[0];
    if (!first) return [];
    const ids: string[] = [];
    const callOf: number[] = [];
    calls.forEach((c, i) => {
      for (const id of c.ids) {
        ids.push(id);
        callOf.push(i);
      }
    });
    const { rows } = await this.write(this.#q.ack, [first.address.username, first.address.deviceId, ids, callOf]);
    const deleted = calls.map(() => 0);
    for (const r of rows) deleted[Number(r.call)] = Number(r.deleted);
    return deleted;
  }

  async pendingEnvelopes(
    address: DeviceAddress,
    afterSeq: number,
    now: number,
    limit: number,
    exclude: readonly string[] = [],
  ): Promise<StoredEnvelope[]> {
    const { rows } = await this.query(this.#q.pending, [address.username, address.deviceId, afterSeq, now, [...exclude], limit]);
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
    if (ids.length === 0) return [];
    const { rows } = await this.query(this.#q.existing, [address.username, address.deviceId, [...ids]]);
    return rows.map((r) => String(r.id));
  }

  async countPending(address: DeviceAddress, now: number): Promise<number> {
    const { rows } = await this.query(this.#q.countPending, [address.username, address.deviceId, now]);
    return Number(rows[0]?.n ?? 0);
  }

  async ackEnvelopes(address: DeviceAddress, ids: string[]): Promise<number> {
    if (ids.length === 0) return 0;
    if (this.#closed) throw new Error('relay storage is closed');
    return this.#ackBatcher.add(`${address.username}\u0000${address.deviceId}`, { address, ids });
  }

  async purgeExpired(now: number): Promise<number> {
    if (this.#closed) return 0;
    const { rows } = await this.query(this.#q.purge, [now]);
    return Number(rows[0]?.deleted ?? 0);
  }

  async deleteAccount(username: string): Promise<DeviceAddress[] | undefined> {
    return this.tx(async (client) => {
      const { rows: account } = await this.query(this.#q.lockAccount, [username], client);
      const accountId = account[0]?.id;
      if (accountId === undefined) return undefined;
      const { rows: devices } = await this.query(this.#q.devicesOfAccount, [accountId], client);
      await this.query(this.#q.deleteMailboxes, [devices.map((d) => Number(d.id))], client);
      await this.query(this.#q.deleteAccount, [accountId], client); // cascades: devices, prekeys
      return devices.map((d) => ({ username, deviceId: Number(d.device_id) }));
    });
  }

  async countAllPending(now: number): Promise<number> {
    const { rows } = await this.query(this.#q.countAllPending, [now]);
    return Number(rows[0]?.n ?? 0);
  }

  async ping(): Promise<void> {
    await this.query(this.#q.ping, []);
  }

  async scrub(): Promise<boolean> {
    if (this.#closed) return false;
    const s = `"${this.schema}"`;
    const client = await this.#pool.connect();
    const lockKey = `refuge-relay-scrub:${this.schema}`;
    try {
      // one node at a time; the others skip this round
      const { rows } = await client.query('SELECT pg_try_advisory_lock(hashtext($1)) AS ok', [lockKey]);
      if (rows[0]?.ok !== true) return false;
      try {
        await client.query(`DELETE FROM ${s}.envelopes e WHERE NOT EXISTS (SELECT 1 FROM ${s}.devices d WHERE d.id = e.device)`);
        // forget empty mailboxes (the next insert recreates the row)
        await client.query(`DELETE FROM ${s}.mailboxes WHERE envelopes <= 0`);
        const { rows: size } = await client.query(`SELECT pg_total_relation_size('${s}.envelopes') AS bytes`);
        if (Number(size[0]?.bytes ?? 0) > this.#scrubMaxBytes) {
          // too big to lock for a copy: reclaim the dead tuples at least
          await client.query(`VACUUM ${s}.envelopes, ${s}.mailboxes`);
          return false;
        }
        await client.query(`SET lock_timeout = ${Math.max(1, Math.floor(this.#scrubLockTimeoutMs))}`);
        // VACUUM FULL writes a new copy of the table (and its TOAST table and indexes) with live rows only
        await client.query(`VACUUM (FULL) ${s}.envelopes, ${s}.mailboxes`);
        return true;
      } catch (e) {
        if ((e as { code?: string }).code === '55P03') return false; // lock_timeout: busy, try next round
        throw e;
      } finally {
        await client.query('RESET lock_timeout').catch(() => {});
        await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => {});
      }
    } finally {
      client.release();
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#pool.end();
  }
}

function pgLiteral(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** Every statement, named (prepared once per connection) and qualified with the schema `s` (already quoted). */
function queries(s: string) {
  const name = (n: string) => `refuge_${n}_${s.replace(/\W/g, '')}`;
  const q = (n: string, text: string) => ({ name: name(n), text });
  // advisory lock class of this schema's mailboxes (the object id is the device row id)
  const lockClass = `hashtext('refuge-relay-mailbox:' || ${pgLiteral(s)})`;
  const deviceOf = `(SELECT d.id FROM ${s}.devices d JOIN ${s}.accounts a ON a.id = d.account_id WHERE a.username = $1 AND d.device_id = $2)`;
  return {
    insertAccount: q('insert_account', `INSERT INTO ${s}.accounts (username, created_day) VALUES ($1, $2::date) ON CONFLICT (username) DO NOTHING RETURNING id`),
    accountExists: q('account_exists', `SELECT 1 FROM ${s}.accounts WHERE username = $1`),
    lockAccount: q('lock_account', `SELECT id FROM ${s}.accounts WHERE username = $1 FOR UPDATE`),
    deleteAccount: q('delete_account', `DELETE FROM ${s}.accounts WHERE id = $1`),
    deleteMailboxes: q('delete_mailboxes', `DELETE FROM ${s}.envelopes WHERE device = ANY($1::bigint[])`),
    device: q(
      'device',
      `SELECT d.id, d.identity_key FROM ${s}.devices d JOIN ${s}.accounts a ON a.id = d.account_id WHERE a.username = $1 AND d.device_id = $2`,
    ),
    deviceForUpdate: q(
      'device_for_update',
      `SELECT d.id, d.identity_key FROM ${s}.devices d JOIN ${s}.accounts a ON a.id = d.account_id WHERE a.username = $1 AND d.device_id = $2 FOR UPDATE OF d`,
    ),
    devicesOfUser: q(
      'devices_of_user',
      `SELECT d.* FROM ${s}.devices d JOIN ${s}.accounts a ON a.id = d.account_id WHERE a.username = $1 ORDER BY d.device_id`,
    ),
    devicesOfAccount: q('devices_of_account', `SELECT id, device_id FROM ${s}.devices WHERE account_id = $1 ORDER BY device_id`),
    insertDevice: q(
      'insert_device',
      `INSERT INTO ${s}.devices (account_id, device_id, identity_key, signed_prekey_id, signed_prekey, signed_prekey_sig, kyber_lr_id, kyber_lr, kyber_lr_sig)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
    ),
    updateDeviceKeys: q(
      'update_device_keys',
      `UPDATE ${s}.devices SET signed_prekey_id = $1, signed_prekey = $2, signed_prekey_sig = $3, kyber_lr_id = $4, kyber_lr = $5, kyber_lr_sig = $6 WHERE id = $7`,
    ),
    deleteOneTime: q('delete_one_time', `DELETE FROM ${s}.one_time_prekeys WHERE device = $1`),
    deleteKyber: q('delete_kyber', `DELETE FROM ${s}.kyber_prekeys WHERE device = $1`),
    insertOneTime: q(
      'insert_one_time',
      `INSERT INTO ${s}.one_time_prekeys (device, key_id, public_key) SELECT $1, k, p FROM unnest($2::bigint[], $3::text[]) AS t(k, p)
       ON CONFLICT (device, key_id) DO UPDATE SET public_key = excluded.public_key`,
    ),
    insertKyber: q(
      'insert_kyber',
      `INSERT INTO ${s}.kyber_prekeys (device, key_id, public_key, signature) SELECT $1, k, p, g FROM unnest($2::bigint[], $3::text[], $4::text[]) AS t(k, p, g)
       ON CONFLICT (device, key_id) DO UPDATE SET public_key = excluded.public_key, signature = excluded.signature`,
    ),
    counts: q(
      'counts',
      `SELECT (SELECT count(*) FROM ${s}.one_time_prekeys WHERE device = $1) AS otp, (SELECT count(*) FROM ${s}.kyber_prekeys WHERE device = $1) AS kyber`,
    ),
    takeOneTime: q(
      'take_one_time',
      `DELETE FROM ${s}.one_time_prekeys WHERE (device, key_id) =
         (SELECT device, key_id FROM ${s}.one_time_prekeys WHERE device = $1 ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING key_id, public_key`,
    ),
    takeKyber: q(
      'take_kyber',
      `DELETE FROM ${s}.kyber_prekeys WHERE (device, key_id) =
         (SELECT device, key_id FROM ${s}.kyber_prekeys WHERE device = $1 ORDER BY key_id LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING key_id, public_key, signature`,
    ),
    // One batch from one sender, in one statement: resolve each recipient device, lock its
    // mailbox (see below), set aside ids already waiting there, count what each mailbox holds,
    // admit envelopes in order while the mailbox stays within the quota, insert them. Returns one
    // row per envelope whose recipient exists, then one per row inserted (device, id).
    //
    // The lock: a transaction-level advisory lock per recipient device, taken in device order
    // (no deadlock) before any seq is drawn and held until COMMIT. So for each mailbox, rows
    // become visible in seq order, and a reader may keep a cursor (seqOrderedCommits).
    storeEnvelopes: q(
      'store_envelopes',
      `WITH input AS (
         SELECT * FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::text[], $6::int[], $7::bigint[], $8::bigint[])
           WITH ORDINALITY AS t(username, device_id, id, body, sender, sender_device, received_at, expires_at, ord)
       ), recipients AS (
         -- each distinct recipient looked up once by its index (joined per row, the planner hashed every device)
         SELECT r.username, r.device_id, dv.id AS device
         FROM (SELECT DISTINCT username, device_id FROM input) r
         CROSS JOIN LATERAL (
           SELECT d.id FROM ${s}.accounts a JOIN ${s}.devices d ON d.account_id = a.id
           WHERE a.username = r.username AND d.device_id = r.device_id
         ) dv
       ), resolved AS (
         SELECT i.ord, r.device, i.id, i.body, i.sender, i.sender_device, i.received_at, i.expires_at
         FROM input i JOIN recipients r ON r.username = i.username AND r.device_id = i.device_id
       ), locks AS (
         SELECT count(*) AS n FROM (
           SELECT pg_advisory_xact_lock(${lockClass}, (device % 2147483647)::int)
           FROM (SELECT DISTINCT device FROM resolved ORDER BY device) d
         ) l
       ), target AS (
         SELECT r.ord, r.device, r.id, r.body, r.sender, r.sender_device, r.received_at, r.expires_at, octet_length(r.body) AS size,
                EXISTS (SELECT 1 FROM ${s}.envelopes e WHERE e.device = r.device AND e.id = r.id) AS dup
         FROM resolved r, locks WHERE locks.n >= 0
       ), usage AS (
         SELECT u.device, coalesce(m.envelopes, 0) AS n, coalesce(m.bytes, 0) AS bytes
         FROM (SELECT DISTINCT device FROM target WHERE NOT dup) u
         LEFT JOIN ${s}.mailboxes m ON m.device = u.device
       ), ranked AS (
         -- every resolved envelope: a duplicate gets fits NULL and does not count against the quota
         SELECT t.ord, t.device, t.id, t.body, t.size, t.sender, t.sender_device, t.received_at, t.expires_at, t.dup,
                CASE WHEN t.dup THEN NULL
                     ELSE (u.n + row_number() OVER w) <= $9::bigint AND (u.bytes + sum(t.size) OVER w) <= $10::bigint END AS fits
         FROM target t LEFT JOIN usage u ON u.device = t.device
         WINDOW w AS (PARTITION BY t.device, t.dup ORDER BY t.ord)
       ), ins AS (
         INSERT INTO ${s}.envelopes (device, id, sender, sender_device, body, size, received_at, expires_at)
         SELECT device, id, sender, sender_device, body, size, received_at, expires_at FROM ranked WHERE fits ORDER BY ord
         ON CONFLICT (device, id) DO NOTHING
         RETURNING device, id, size
       ), counted AS (
         INSERT INTO ${s}.mailboxes AS m (device, envelopes, bytes)
         SELECT device, count(*), sum(size) FROM ins GROUP BY device ORDER BY device
         ON CONFLICT (device) DO UPDATE SET envelopes = m.envelopes + excluded.envelopes, bytes = m.bytes + excluded.bytes
       )
       -- no join back (the planner nested-looped it, quadratic in the batch): the caller matches
       -- inserted (device, id) pairs to the resolved rows
       SELECT r.ord, r.dup, r.fits, r.device, r.id, false AS inserted FROM ranked r
       UNION ALL
       SELECT NULL, NULL, NULL, ins.device, ins.id, true FROM ins`,
    ),
    pending: q(
      'pending',
      `SELECT seq, id, sender, sender_device, body, received_at FROM ${s}.envelopes
       WHERE device = ${deviceOf} AND seq > $3 AND expires_at > $4 AND id <> ALL($5::text[])
       ORDER BY seq LIMIT $6`,
    ),
    existing: q('existing', `SELECT id FROM ${s}.envelopes WHERE device = ${deviceOf} AND id = ANY($3::text[])`),
    countPending: q('count_pending', `SELECT count(*) AS n FROM ${s}.envelopes WHERE device = ${deviceOf} AND expires_at > $3`),
    countAllPending: q('count_all_pending', `SELECT count(*) AS n FROM ${s}.envelopes WHERE expires_at > $1`),
    // The acks of one mailbox ($1, $2): ids $3 from calls $4. The mailbox's counter row is locked
    // before any envelope row (as inserts lock it: see storeEnvelopes).
    ack: q(
      'ack',
      `WITH dev AS (
         SELECT d.id FROM ${s}.devices d JOIN ${s}.accounts a ON a.id = d.account_id WHERE a.username = $1 AND d.device_id = $2
       ), locked AS MATERIALIZED (
         SELECT count(*) AS n FROM (SELECT m.device FROM ${s}.mailboxes m JOIN dev ON m.device = dev.id FOR UPDATE OF m) l
       ), target AS (
         SELECT DISTINCT ON (t.id) t.id, t.call FROM unnest($3::text[], $4::int[]) AS t(id, call) ORDER BY t.id, t.call
       ), del AS (
         DELETE FROM ${s}.envelopes e USING dev, target t, locked
         WHERE locked.n >= 0 AND e.device = dev.id AND e.id = t.id
         RETURNING e.device, e.size, t.call
       ), counted AS (
         UPDATE ${s}.mailboxes m SET envelopes = m.envelopes - g.n, bytes = m.bytes - g.b
         FROM (SELECT device, count(*) AS n, sum(size) AS b FROM del GROUP BY device) g WHERE m.device = g.device
       )
       SELECT call, count(*) AS deleted FROM del GROUP BY call`,
    ),
    purge: q(
      'purge',
      `WITH del AS (
         DELETE FROM ${s}.envelopes WHERE expires_at <= $1 RETURNING device, size
       ), counted AS (
         UPDATE ${s}.mailboxes m SET envelopes = m.envelopes - g.n, bytes = m.bytes - g.b
         FROM (SELECT device, count(*) AS n, sum(size) AS b FROM del GROUP BY device) g WHERE m.device = g.device
       )
       SELECT count(*) AS deleted FROM del`,
    ),

    ping: q('ping', 'SELECT 1'),
  };
}
