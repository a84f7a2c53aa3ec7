// What the sync engine needs from the core, and the adapter onto the IPC contract.
import type { RefugeApi } from '../ipc/api.js';
import type { EnvelopeResult } from '../ipc/contract.js';
import type { DeliveredEnvelope, OutgoingEnvelope } from '../protocol/envelope.js';
import type { DeviceKeysUpload } from '../protocol/keys.js';

export interface SignedChallenge {
  username: string;
  deviceId: number;
  /** base64url Ed25519 signature over authMessage(challenge, username, deviceId) */
  signature: string;
}

export interface SyncCore {
  /** Signs the relay's challenge (base64url) with the device identity key. */
  signChallenge(challenge: string): Promise<SignedChallenge>;
  /** Decrypts and stores a batch; every returned id may be acked. Throwing means: ack nothing. */
  receive(envelopes: DeliveredEnvelope[]): Promise<EnvelopeResult[]>;
  /** Outbox envelopes waiting for the relay, oldest first. */
  pendingOutbox(limit: number): Promise<OutgoingEnvelope[]>;
  /** The relay accepted these envelopes. */
  markSent(ids: string[]): Promise<void>;
  /** The relay refused these envelopes for good (optional: a core without it keeps them queued). */
  markFailed?(failures: { id: string; code: string }[]): Promise<void>;
  /** Fresh one-time prekeys to upload when the relay runs low, or null (optional). */
  prekeyRefill?(counts: { oneTimePrekeys: number; kyberOneTimePrekeys: number }): Promise<DeviceKeysUpload | null>;
}

/** The SyncCore of a RefugeApi (window.refuge in the renderer, the in-process core in the CLI). */
export function coreFromApi(api: RefugeApi): SyncCore {
  return {
    signChallenge: (challenge) => api.relay.signChallenge({ challenge }),
    receive: async (envelopes) => (await api.envelopes.receive({ envelopes })).results,
    pendingOutbox: async (limit) => (await api.outbox.pending({ limit })).envelopes,
    markSent: async (ids) => {
      if (ids.length > 0) await api.outbox.markSent({ ids });
    },
    markFailed: async (failures) => {
      if (failures.length > 0) await api.outbox.markFailed({ failures });
    },
    prekeyRefill: async (counts) => (await api.relay.prekeyRefill(counts)).keys,
  };
}
