// The core's verify area: safety numbers, the verified mark, and identity-key changes.
// Handlers for shared/ipc/channels/verify.ts, plus what core.ts calls when it meets a changed key.
//
// Identity changes follow Signal: when a known contact shows up with a different identity key
// (a prekey message signed into a new identity, or a new bundle at contacts.add), the new key
// is recorded as PENDING next to the old one and the contact becomes unverified. Incoming
// messages under the new key are let in (decrypted with a pending session, stored, shown) and
// the conversation is flagged `identityChanged`, but nothing goes out to that contact --
// messages (IDENTITY_CHANGED), read receipts, delivery receipts, typing -- until the user
// accepts the new key (verify.acceptIdentity, or marking it verified), which swaps in the new
// key and its sessions. The relay holds one identity per username, so a change normally means
// the peer reinstalled or restored; the hold is what stops a relay that lies about keys.
import type { Contact } from '../../../shared/ipc/contract.js';
import { RefugeError } from '../../../shared/ipc/contract.js';
import { SAFETY_QR_PREFIX, type verifyChannels } from '../../../shared/ipc/channels/verify.js';
import { fromBase64url, toBase64url } from '../../../shared/encoding/base64url.js';
import type { PrekeyBundle } from '../../../shared/protocol/keys.js';
import { canonicalUsername } from '../../../shared/protocol/username.js';
import { initiateSession, safetyNumber, serializeSession, type IdentityKeyPair } from '../crypto/index.js';
import type { ContactRow, Store } from '../store/index.js';
import {
  acceptPendingIdentity,
  listPendingSessionDevices,
  pendingIdentityKey,
  putPendingSession,
  recordPendingIdentity,
  setContactVerified,
} from '../store/social.js';
import type { AreaHandlers, CoreContext } from './context.js';

/** Throws IDENTITY_CHANGED while `peer` has an identity key the user has not accepted. */
export function assertSendable(store: Store, peer: string): void {
  if (pendingIdentityKey(store, peer)) {
    throw new RefugeError('IDENTITY_CHANGED', `${peer}'s safety number has changed. Review it and accept the new one before sending.`);
  }
}

export function toContactView(row: ContactRow, identityChanged: boolean): Contact {
  const key = row.identityKey instanceof Uint8Array ? row.identityKey : new Uint8Array(row.identityKey);
  return { username: row.username, identityKey: toBase64url(key), verified: row.verified, addedAt: row.addedAt, identityChanged };
}

/** The Contact as the contract shows it (current key; identityChanged if a new one is pending). */
export function contactView(store: Store, row: ContactRow): Contact {
  return toContactView(row, pendingIdentityKey(store, row.username) !== null);
}

/**
 * contacts.add found bundles with a different identity key than the contact's: record it as
 * pending, with a session per device for when the user accepts it. Call inside a transaction.
 */
export function recordIdentityFromBundles(
  store: Store,
  identity: IdentityKeyPair,
  username: string,
  identityKey: Uint8Array,
  bundles: readonly PrekeyBundle[],
  now: number,
): void {
  const previous = pendingIdentityKey(store, username);
  const samePending = previous !== null && toBase64url(previous) === toBase64url(identityKey);
  recordPendingIdentity(store, username, identityKey);
  const have = new Set(samePending ? listPendingSessionDevices(store, username) : []);
  for (const bundle of bundles) {
    if (have.has(bundle.deviceId)) continue;
    putPendingSession(store, username, bundle.deviceId, serializeSession(initiateSession(identity, bundle, now)));
  }
}

function requireContact(store: Store, raw: string): ContactRow {
  const username = canonicalUsername(raw);
  const contact = store.getContact(username);
  if (!contact) throw new RefugeError('UNKNOWN_CONTACT', `${username} is not among your contacts.`);
  return contact;
}

function qrText(localUser: string, localKey: Uint8Array, remoteUser: string, remoteKey: Uint8Array): string {
  return `${SAFETY_QR_PREFIX}:${localUser}:${toBase64url(localKey)}:${remoteUser}:${toBase64url(remoteKey)}`;
}

export function verifyHandlers(ctx: CoreContext): AreaHandlers<keyof typeof verifyChannels> {
  /** our username and key, the contact, and the key to show for them (pending if changed) */
  const parties = (raw: string) => {
    const store = ctx.requireReady();
    const account = ctx.requireAccount(store);
    const contact = requireContact(store, raw);
    const pending = pendingIdentityKey(store, contact.username);
    const theirKey = pending ?? (contact.identityKey instanceof Uint8Array ? contact.identityKey : new Uint8Array(contact.identityKey));
    return { store, me: account.username, myKey: ctx.identity(store).publicKey, contact, theirKey, changed: pending !== null };
  };

  return {
    'verify.safetyNumber': (req) => {
      const { me, myKey, contact, theirKey, changed } = parties(req.username);
      return {
        username: contact.username,
        digits: safetyNumber({ id: me, identityKey: myKey }, { id: contact.username, identityKey: theirKey }),
        qr: qrText(me, myKey, contact.username, theirKey),
        verified: contact.verified && !changed,
        identityChanged: changed,
      };
    },
    'verify.compareQr': (req) => {
      const { me, myKey, contact, theirKey } = parties(req.username);
      // Scanned from THEIR screen: their name and key first, then ours.
      const parts = req.scanned.trim().split(':');
      if (parts.length !== 6 || `${parts[0]}:${parts[1]}` !== SAFETY_QR_PREFIX) return { match: false };
      const [, , localUser, localKey, remoteUser, remoteKey] = parts;
      let keysMatch = false;
      try {
        keysMatch =
          toBase64url(fromBase64url(localKey ?? '')) === toBase64url(theirKey) && toBase64url(fromBase64url(remoteKey ?? '')) === toBase64url(myKey);
      } catch {
        return { match: false };
      }
      return { match: keysMatch && localUser === contact.username && remoteUser === me };
    },
    'verify.setVerified': (req) => {
      const { store, contact, changed } = parties(req.username);
      store.transaction(() => {
        // The numbers the user compared were those of the new key: verifying accepts it.
        if (req.verified && changed) acceptPendingIdentity(store, contact.username);
        setContactVerified(store, contact.username, req.verified);
      });
      return contactView(store, requireContact(store, contact.username));
    },
    'verify.acceptIdentity': (req) => {
      const { store, contact } = parties(req.username);
      acceptPendingIdentity(store, contact.username);
      return contactView(store, requireContact(store, contact.username));
    },
  };
}
