// What the relay needs from durable storage. The embedded default is one SQLite file
// (sqlite.ts); a PostgreSQL adapter implements the same interface for a cluster.
//
// Contract for every adapter:
// - usernames arrive canonical (canonicalUsername + isValidUsername already applied);
// - every method that writes more than one row does so atomically (one transaction);
// - takeBundles hands each one-time prekey out at most once, even under concurrent calls;
// - storeEnvelopes is idempotent per (recipient device, envelope id);
// - pendingEnvelopes never returns an envelope whose expiresAt <= now, nor one whose id is in `exclude`,
//   and returns a device's envelopes in the order they were stored (per sender, the order of the
//   sender's successful storeEnvelopes calls);
// - ackEnvelopes only ever touches the given device's mailbox;
// - nothing records when a device connected, from where, or who it talked to: an envelope row is the
//   only thing pairing a sender with a recipient, and it is deleted on ack or expiry.
import type { DeviceKeysUpload, PrekeyBundle } from '../../shared/protocol/keys.js';

export interface DeviceAddress {
  username: string;
  deviceId: number;
}

export interface DeviceRecord extends DeviceAddress {
  identityKey: string;
}

export type CreateAccountResult =
  | { status: 'created' }
  /** The name was already registered with this same identity key on this device (a retried registration): keys were replaced. */
  | { status: 'reregistered' }
  | { status: 'taken' };

export interface PrekeyCounts {
  oneTimePrekeys: number;
  kyberOneTimePrekeys: number;
}

export interface NewEnvelope {
  id: string;
  /** canonical username of the recipient */
  to: string;
  toDeviceId: number;
  body: string;
}

export type StoreOutcome = 'stored' | 'duplicate' | 'unknown-recipient' | 'mailbox-full';

/** Per-device mailbox limits checked by storeEnvelopes (bytes = characters of body; bodies are ASCII). */
export interface MailboxQuota {
  maxEnvelopes: number;
  maxBytes: number;
}

export interface StoreEnvelopesResult {
  /** one per input envelope, same order */
  outcomes: StoreOutcome[];
  /** devices whose mailbox received at least one new envelope, with how many */
  recipients: Array<DeviceAddress & { stored: number }>;
  /**
   * What this call stored, in seq order, with each recipient (canonical username, device id):
   * only from an adapter whose reportsStoredEnvelopes is true. Equal to what pendingEnvelopes
   * would read back for these rows.
   */
  storedEnvelopes?: Array<StoredEnvelope & { to: string; toDeviceId: number }>;
}

export interface StoredEnvelope {
  /** Monotonic per relay (never reused): the delivery cursor. */
  seq: number;
  id: string;
  from: string;
  fromDeviceId: number;
  body: string;
  receivedAt: number;
}

export interface RelayStorage {
  /**
   * True if an envelope stored later always gets a higher seq than every envelope already visible
   * (one writer, as with SQLite): the relay may then read a mailbox from a cursor. Otherwise (several
   * writers, as with PostgreSQL) it rereads from the oldest and excludes what it already pushed.
   */
  readonly seqOrderedCommits?: boolean;
  /**
   * True if storeEnvelopes reports the envelopes it stored with their seqs (`storedEnvelopes`,
   * in seq order) and every write to a mailbox goes through this
   * adapter instance: a relay that is the only one using the storage may then push a fresh
   * envelope to an online recipient from that report instead of reading it back.
   */
  readonly reportsStoredEnvelopes?: boolean;
  /** Creates the account with its first device and keys; 'taken' when the name exists with a different identity. */
  createAccount(username: string, deviceId: number, keys: DeviceKeysUpload, now: number): Promise<CreateAccountResult>;
  getDevice(address: DeviceAddress): Promise<DeviceRecord | undefined>;
  /** Adds one-time prekeys, replaces the signed prekey and the last-resort ML-KEM key. Throws PrekeyLimitError when over the cap. */
  uploadPrekeys(address: DeviceAddress, keys: DeviceKeysUpload): Promise<PrekeyCounts>;
  prekeyCounts(address: DeviceAddress): Promise<PrekeyCounts>;
  /** One bundle per device, consuming one one-time X25519 and one one-time ML-KEM prekey each; undefined for an unknown user. */
  takeBundles(username: string): Promise<PrekeyBundle[] | undefined>;
  /**
   * Stores each envelope in its recipient's mailbox unless the mailbox would exceed `quota`
   * ('mailbox-full'; envelopes already waiting there, and duplicates, count once). One adapter may
   * let concurrent writers from several relay nodes overshoot the quota by one batch each.
   */
  storeEnvelopes(
    from: DeviceAddress,
    envelopes: NewEnvelope[],
    receivedAt: number,
    expiresAt: number,
    quota?: MailboxQuota,
  ): Promise<StoreEnvelopesResult>;
  /** Oldest first, seq > afterSeq, not expired at `now`, id not in `exclude` (the ids already pushed and unacked). */
  pendingEnvelopes(address: DeviceAddress, afterSeq: number, now: number, limit: number, exclude?: readonly string[]): Promise<StoredEnvelope[]>;
  /** Those of `ids` still waiting in the device's mailbox. */
  existingEnvelopes(address: DeviceAddress, ids: readonly string[]): Promise<string[]>;
  /** Unexpired envelopes waiting in the device's mailbox. */
  countPending(address: DeviceAddress, now: number): Promise<number>;
  /** Deletes those of `ids` that are in the device's own mailbox; returns how many. */
  ackEnvelopes(address: DeviceAddress, ids: string[]): Promise<number>;
  /** Deletes every envelope with expiresAt <= now (and anything left of deleted devices); returns how many envelopes. */
  purgeExpired(now: number): Promise<number>;
  /**
   * Deletes the account: its devices, their prekeys and their mailboxes. Returns the deleted devices
   * (so the relay can disconnect them), or undefined if there was no such account.
   */
  deleteAccount(username: string): Promise<DeviceAddress[] | undefined>;
  /** Unexpired envelopes waiting in all mailboxes (for /metrics). */
  countAllPending(now: number): Promise<number>;
  /** Throws if the storage cannot answer (for /readyz). */
  ping(): Promise<void>;
  /**
   * Makes deleted rows unrecoverable from the storage's own files where the engine allows it
   * (SQLite: checkpoint and truncate the WAL, return free pages; PostgreSQL: rewrite the mailbox
   * table so dead tuples and freed page space are gone). Returns false if it was skipped (busy).
   */
  scrub(): Promise<boolean>;
  close(): Promise<void>;
}

export class PrekeyLimitError extends Error {
  override readonly name = 'PrekeyLimitError';
}

/** Most unused one-time prekeys (per kind) the relay keeps for one device. */
export const MAX_STORED_ONE_TIME_PREKEYS = 1000;
