// Fixtures for the backup tests (not imported by production code): a real profile with real
// keys and a history, fingerprints of folders, and byte-level plaintext checks.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createSenderKey,
  generateIdentityKeyPair,
  generateKyberPrekeys,
  generateOneTimePrekeys,
  generateSignedPrekey,
  initCrypto,
  processSenderKeyDistribution,
  senderKeyDistribution,
  serializeIdentity,
  serializeKyberPrekey,
  serializeOneTimePrekey,
  serializeSenderKey,
  serializeSignedPrekey,
} from '../crypto/index.js';
import { openStore, type MessageRow, type Store } from '../store/index.js';
import { addResends, insertGroup, insertGroupChange, markGroupEvent, markKeySent, putSenderKey, saveGroupState, setOwnSenderKey } from '../store/groups.js';
import { recordGroupReceipt, recordGroupRecipients } from '../store/group-receipts.js';
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
  /** the fixture's group (see addGroup) */
  group: FixtureGroup;
}

export interface FixtureGroup {
  id: string;
  conversationId: string;
  name: string;
  /** the sender-key states in the profile: ours and bob's (never in a backup) */
  senderKeys: Uint8Array[];
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
  const group = store.transaction(() => addGroup(store, secretTexts, secretBytes));
  return { dir, key, secretTexts, secretBytes, conversationIds, group };
}

export const FIXTURE_GROUP_NAME = 'Weekend Hikers 산악회';

/**
 * A group as the group service leaves it: alice created it with bob and carol.k, made bob an
 * admin, bob renamed it; system lines for each change, messages both ways, our sender key and
 * bob's chain, which device holds our key, and one change owed to carol.k.
 */
function addGroup(store: Store, secretTexts: string[], secretBytes: Uint8Array[]): FixtureGroup {
  const id = '5f0c2a34-7f1e-4b7a-9c55-0d6e1b2a3c4d';
  const t = 1_700_000_900_000;
  const group = insertGroup(store, { id, name: 'Hikers draft name', createdAt: t });
  const changes = [
    { id: 'a1a1a1a1-1111-4111-8111-111111111111', v: 1, by: 'alice', at: t, op: 'create', name: 'Hikers draft name', members: ['alice', 'bob', 'carol.k'] },
    { id: 'b2b2b2b2-2222-4222-8222-222222222222', v: 2, by: 'alice', at: t + 1000, op: 'admin', member: 'bob', admin: true },
    { id: 'c3c3c3c3-3333-4333-8333-333333333333', v: 3, by: 'bob', at: t + 2000, op: 'rename', name: FIXTURE_GROUP_NAME },
  ] as const;
  for (const c of changes) {
    const body = JSON.stringify(c);
    insertGroupChange(store, id, c, body);
    const outgoing = c.by === 'alice';
    store.insertMessage({
      id: c.id,
      conversationId: group.conversationId,
      sender: outgoing ? 'me' : c.by,
      outgoing,
      text: `system line ${c.op}`,
      sentAt: c.at,
      receivedAt: outgoing ? null : c.at + 50,
      status: outgoing ? 'sent' : 'received',
    });
    markGroupEvent(store, c.id, id, body, !outgoing);
  }
  saveGroupState(store, id, {
    name: FIXTURE_GROUP_NAME,
    version: 3,
    member: true,
    members: [
      { username: 'alice', admin: true },
      { username: 'bob', admin: true },
      { username: 'carol.k', admin: false },
    ],
  });
  const texts = [`Group hello from bob ${randomBytes(4).toString('hex')} 🥾`, `Alice answers the hikers ${randomBytes(4).toString('hex')} 산`];
  store.insertMessage({ id: 'g-1', conversationId: group.conversationId, sender: 'bob', outgoing: false, text: texts[0] ?? '', sentAt: t + 3000, receivedAt: t + 3050, status: 'received' });
  store.insertMessage({ id: 'g-2', conversationId: group.conversationId, sender: 'me', outgoing: true, text: texts[1] ?? '', sentAt: t + 4000, receivedAt: null, status: 'delivered' });
  // Alice's message went to both; bob read it, carol.k has it (store/group-receipts.ts).
  recordGroupRecipients(store, 'g-2', ['bob', 'carol.k']);
  recordGroupReceipt(store, group.conversationId, 'bob', 'read', ['g-2'], t + 4500);
  recordGroupReceipt(store, group.conversationId, 'carol.k', 'delivered', ['g-2'], t + 4600);
  secretTexts.push(FIXTURE_GROUP_NAME, 'Hikers draft name', ...texts);

  const own = createSenderKey();
  const ownRecord = serializeSenderKey(own);
  setOwnSenderKey(store, id, ownRecord);
  markKeySent(store, id, 'bob', 1, own.keyId);
  const bobs = processSenderKeyDistribution(senderKeyDistribution(createSenderKey()));
  const bobRecord = serializeSenderKey(bobs);
  putSenderKey(store, id, 'bob', 1, bobs.keyId, bobRecord, t + 3050);
  addResends(store, id, 'carol.k', [changes[1].id]);
  const senderKeys = [ownRecord, bobRecord, own.chainKey, bobs.chainKey];
  secretBytes.push(...senderKeys);
  return { id, conversationId: group.conversationId, name: FIXTURE_GROUP_NAME, senderKeys };
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
