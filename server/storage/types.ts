// What the relay needs from durable storage. The embedded default is one SQLite file
// (sqlite.ts); a PostgreSQL adapter implements the same interface for a cluster.
//
// Contract for every adapter:
// - usernames arrive canonical (canonicalUsername + isValidUsername already applied);
// - every method that writes more than one row does so atomically (one transaction);
// - takeBundles hands each one-time prekey out at most once, even under concurrent calls;
// - storeEnvelopes is idempotent per (recipient device, envelope id);
// - pendingEnvelopes never returns an envelope whose expiresAt <= now;
// - ackEnvelopes only ever touches the given device's mailbox.
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

export type StoreOutcome = 'stored' | 'duplicate' | 'unknown-recipient';

export interface StoreEnvelopesResult {
  /** one per input envelope, same order */
  outcomes: StoreOutcome[];
  /** devices whose mailbox received at least one new envelope, with how many */
  recipients: Array<DeviceAddress & { stored: number }>;
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
  /** Creates the account with its first device and keys; 'taken' when the name exists with a different identity. */
  createAccount(username: string, deviceId: number, keys: DeviceKeysUpload, now: number): Promise<CreateAccountResult>;
  getDevice(address: DeviceAddress): Promise<DeviceRecord | undefined>;
  /** Adds one-time prekeys, replaces the signed prekey and the last-resort ML-KEM key. Throws PrekeyLimitError when over the cap. */
  uploadPrekeys(address: DeviceAddress, keys: DeviceKeysUpload): Promise<PrekeyCounts>;
  prekeyCounts(address: DeviceAddress): Promise<PrekeyCounts>;
  /** One bundle per device, consuming one one-time X25519 and one one-time ML-KEM prekey each; undefined for an unknown user. */
  takeBundles(username: string): Promise<PrekeyBundle[] | undefined>;
  storeEnvelopes(from: DeviceAddress, envelopes: NewEnvelope[], receivedAt: number, expiresAt: number): Promise<StoreEnvelopesResult>;
  /** Oldest first, seq > afterSeq, not expired at `now`. */
  pendingEnvelopes(address: DeviceAddress, afterSeq: number, now: number, limit: number): Promise<StoredEnvelope[]>;
  /** Unexpired envelopes waiting in the device's mailbox. */
  countPending(address: DeviceAddress, now: number): Promise<number>;
  /** Deletes those of `ids` that are in the device's own mailbox; returns how many. */
  ackEnvelopes(address: DeviceAddress, ids: string[]): Promise<number>;
  /** Deletes every envelope with expiresAt <= now; returns how many. */
  purgeExpired(now: number): Promise<number>;
  close(): Promise<void>;
}

export class PrekeyLimitError extends Error {
  override readonly name = 'PrekeyLimitError';
}

/** Most unused one-time prekeys (per kind) the relay keeps for one device. */
export const MAX_STORED_ONE_TIME_PREKEYS = 1000;
