// Fixtures for the backup tests (not imported by production code): a real profile with real
// keys and a history, fingerprints of folders, and byte-level plaintext checks.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  generateIdentityKeyPair,
  generateKyberPrekeys,
  generateOneTimePrekeys,
  generateSignedPrekey,
  initCrypto,
  serializeIdentity,
  serializeKyberPrekey,
  serializeOneTimePrekey,
  serializeSignedPrekey,
} from '../crypto/index.js';
import { openStore, type MessageRow, type Store } from '../store/index.js';
import { ARGON2ID_PRESETS, createVault, PassphraseKeyProtector } from '../vault/index.js';

/** Argon2id at libsodium's minimum: these tests check the format, not the cost. */
export const TEST_PARAMS = ARGON2ID_PRESETS.min;

export function tempRoot(prefix = 'backup'): string {
  return mkdtempSync(join(tmpdir(), `refuge-${prefix}-`));
}

export function protector(passphrase: string): PassphraseKeyProtector {
  return new PassphraseKeyProtector(passphrase, { params: TEST_PARAMS });
}

export interface SourceProfile {
  dir: string;
  key: Uint8Array;
  /** every secret that must never appear in a backup file in the clear */
  secretTexts: string[];
  secretBytes: Uint8Array[];
  conversationIds: string[];
}

export interface FillOptions {
  /** messages per conversation */
  messages?: number;
  /** extra characters per message text, to make large backups */
  padding?: number;
}

/**
 * Creates a registered profile: identity, signed/one-time/ML-KEM prekeys, two contacts (one
 * verified), a session per contact (which must NOT be backed up), two conversations with
 * Korean, English and emoji messages in every status, and an outbox entry.
 */
export async function makeSourceProfile(dir: string, options: FillOptions = {}): Promise<SourceProfile> {
  await initCrypto();
  const key = await createVault(dir, protector('source profile passphrase'));
  const store = openStore(dir, key);
  try {
    return fill(store, dir, key, options);
  } finally {
    store.close();
  }
}

function fill(store: Store, dir: string, key: Uint8Array, options: FillOptions): SourceProfile {
  const identity = generateIdentityKeyPair();
  const signed = generateSignedPrekey(identity, 1, 1_700_000_000_000);
  const oneTime = generateOneTimePrekeys(2, 5);
  const [lastResort] = generateKyberPrekeys(identity, 1, 1, true);
  const kyber = generateKyberPrekeys(identity, 7, 2, false);
  if (!lastResort) throw new Error('no last-resort prekey');
  const identityRecord = serializeIdentity(identity);
  const secretBytes: Uint8Array[] = [identity.privateKey, identityRecord];
  const secretTexts: string[] = [];
  const conversationIds: string[] = [];
  store.transaction(() => {
    store.saveAccount({
      username: 'alice',
      deviceId: 1,
      serverUrl: 'http://127.0.0.1:47100',
      identity: identityRecord,
      registered: true,
      createdAt: 1_700_000_000_000,
      nextPrekeyId: 42,
    });
    const signedRecord = serializeSignedPrekey(signed);
    store.putPrekeys('signed', [{ id: signed.id, record: signedRecord }]);
    store.putPrekeys('onetime', oneTime.map((k) => ({ id: k.id, record: serializeOneTimePrekey(k) })));
    store.putPrekeys('kyber', [
      { id: lastResort.id, record: serializeKyberPrekey(lastResort), lastResort: true },
      ...kyber.map((k) => ({ id: k.id, record: serializeKyberPrekey(k), lastResort: false })),
    ]);
    secretBytes.push(signed.privateKey, signedRecord, lastResort.privateKey, ...oneTime.map((k) => k.privateKey), ...kyber.map((k) => k.privateKey));

    const peers = [
      { name: 'bob', verified: true },
      { name: 'carol.k', verified: false },
    ];
    const count = options.messages ?? 3;
    const pad = options.padding ?? 0;
    let t = 1_700_000_100_000;
    for (const [p, peer] of peers.entries()) {
      store.upsertContact({ username: peer.name, identityKey: new Uint8Array(randomBytes(32)), verified: peer.verified, addedAt: t });
      store.putSession(peer.name, 1, new Uint8Array(Buffer.from(`RATCHET-SESSION-STATE-${peer.name}-must-never-be-exported`)));
      const conversation = store.getOrCreateDirectConversation(peer.name, t);
      conversationIds.push(conversation.id);
      for (let i = 0; i < count; i++) {
        t += 1000;
        const outgoing = i % 2 === 0;
        const text = `${outgoing ? '안녕하세요' : 'Hello'} ${peer.name} #${i} 👋 secret-${p}-${i}-${randomBytes(4).toString('hex')}${'ㅋ'.repeat(pad)}`;
        if (i < 40) secretTexts.push(text);
        const status: MessageRow['status'] = outgoing ? (['delivered', 'sent', 'sending', 'failed'] as const)[i % 4] ?? 'sent' : 'received';
        store.insertMessage({
          id: `m-${p}-${i}`,
          conversationId: conversation.id,
          sender: outgoing ? 'me' : peer.name,
          outgoing,
          text,
          // two messages share a millisecond now and then: order must survive by insertion
          sentAt: i % 5 === 4 ? t - 1000 : t,
          receivedAt: outgoing ? null : t + 5,
          status,
        });
      }
    }
    store.enqueueOutbox([{ envelopeId: 'env-1', messageId: 'm-0-2', to: 'bob', toDeviceId: 1, body: 'OUTBOX-ENVELOPE-BODY', createdAt: t }]);
    store.markConversationRead(conversationIds[0] ?? '');
    // Columns of later schemas (social.ts) and the settings table: a backup carries them too.
    const db = store.connection();
    db.prepare('UPDATE conversations SET muted = 1 WHERE id = ?').run([conversationIds[1] ?? '']);
    db.prepare("UPDATE messages SET reply_to = 'm-0-0' WHERE id = 'm-0-1'").run();
    db.prepare("UPDATE messages SET status = 'read' WHERE id = 'm-0-0'").run();
    db.prepare('UPDATE messages SET read_at = received_at + 7 WHERE conversation_id = ? AND outgoing = 0').run([conversationIds[0] ?? '']);
    db.prepare('INSERT INTO settings (key, value) VALUES (?, ?), (?, ?)').run(['receipts', 'false', 'autoLockMinutes', '15']);
  });
  return { dir, key, secretTexts, secretBytes, conversationIds };
}

/** relative path -> sha256 of every file under `root`; missing root -> null. */
export function fingerprint(root: string): Record<string, string> | null {
  if (!existsSync(root)) return null;
  const out: Record<string, string> = {};
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    const rel = path.slice(root.length);
    if (entry.isDirectory()) out[`${rel}/`] = 'dir';
    else out[rel] = createHash('sha256').update(readFileSync(path)).digest('hex');
  }
  out['.'] = statSync(root).isDirectory() ? 'dir' : 'file';
  return out;
}

/** Every 8-byte window of each secret (raw bytes) found in `file`. */
export function byteRunsIn(file: string, secrets: Uint8Array[], window = 8): string[] {
  const content = readFileSync(file);
  const hits: string[] = [];
  for (const [n, secret] of secrets.entries()) {
    for (let i = 0; i + window <= secret.length; i++) {
      if (content.includes(Buffer.from(secret.subarray(i, i + window)))) {
        hits.push(`secret ${n} at ${i}`);
        break;
      }
    }
  }
  return hits;
}
