// Export a real profile, restore it into a new one, and compare everything a user (or an
// attacker holding the file) could notice.
import { readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findPlaintext } from '../../../e2e/support/plaintext.js';
import { toBase64url } from '../../../shared/encoding/base64url.js';
import { openStore, PREKEY_KINDS, type Store } from '../store/index.js';
import { getGroup, groupEvents, listGroupChanges, listGroupMembers, listGroups, listResends } from '../store/groups.js';
import { groupReaders } from '../store/group-receipts.js';
import { unlockVault } from '../vault/index.js';
import { exportBackup, importBackup, BackupError, CHUNK_BYTES, HEADER_BYTES, RESTORE_MARKER, SEALED_CHUNK_BYTES } from './index.js';
import { byteRunsIn, fingerprint, makeSourceProfile, protector, tempRoot, TEST_PARAMS, type SourceProfile } from './test-support.js';

const PASS = 'correct horse battery staple 정말';
let root: string;
let source: SourceProfile;
let backupFile: string;

beforeAll(async () => {
  root = tempRoot();
  source = await makeSourceProfile(join(root, 'source'), { messages: 30 });
  await import('node:fs').then((fs) => fs.mkdirSync(join(root, 'files')));
  backupFile = join(root, 'files', 'alice.refuge-backup');
  await exportBackup({ profileDir: source.dir, key: source.key, out: backupFile, passphrase: PASS, params: TEST_PARAMS });
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function withStore<T>(dir: string, key: Uint8Array, fn: (store: Store) => T): T {
  const store = openStore(dir, key);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** Everything a backup restores, read through the Store's public API. */
function dump(store: Store) {
  const account = store.getAccount();
  const prekeys = PREKEY_KINDS.flatMap((kind) =>
    store.listPrekeyIds(kind).map((id) => {
      const row = store.getPrekeyRow(kind, id);
      return { kind, id, record: toBase64url(row?.record ?? new Uint8Array()), lastResort: row?.lastResort };
    }),
  );
  const contacts = store.listContacts().map((c) => ({ ...c, identityKey: toBase64url(c.identityKey) }));
  const conversations = store.listConversationSummaries().map((s) => s.conversation);
  const messages = conversations.map((c) => store.listMessages(c.id, { limit: 1000 }).messages);
  // Columns of later schemas, and the settings table, straight from the database.
  const db = store.connection();
  const extras = {
    muted: db.prepare('SELECT id, muted FROM conversations ORDER BY id').all(),
    replies: db.prepare('SELECT id, reply_to, read_at FROM messages ORDER BY seq').all(),
    settings: db.prepare('SELECT key, value FROM settings ORDER BY key').all(),
    groupReceipts: db.prepare('SELECT message_id, username, delivered_at, read_at FROM group_receipts ORDER BY message_id, username').all(),
  };
  // Groups as the group service reads them (our sender key aside: compared separately).
  const groups = listGroups(store).map(({ ownKey: _ownKey, ...g }) => ({
    ...g,
    members: listGroupMembers(store, g.id),
    log: listGroupChanges(store, g.id),
    owed: [...listResends(store, g.id)],
    systemLines: [...groupEvents(store, messages.flat().map((m) => m.id))].sort(),
    readBy: Object.fromEntries(groupReaders(store, messages.flat().map((m) => m.id))),
  }));
  return { account: account && { ...account, identity: toBase64url(account.identity) }, prekeys, contacts, conversations, messages, extras, groups };
}

/** The sender-key state of a profile: our chain, others' chains, who holds ours. */
function senderKeyState(store: Store, groupId: string) {
  const db = store.connection();
  return {
    own: getGroup(store, groupId)?.ownKey ?? null,
    others: db.prepare('SELECT count(*) FROM group_sender_keys', { pluck: true }).get(),
    sent: db.prepare('SELECT count(*) FROM group_key_sent', { pluck: true }).get(),
  };
}

async function restore(target: string, passphrase = PASS, input = backupFile) {
  return importBackup({ profileDir: target, input, passphrase, protector: protector('new profile passphrase') });
}

describe('backup export and restore', () => {
  it('restores account, keys, contacts, conversations, groups and messages exactly; never sessions, sender keys or the outbox', async () => {
    const target = join(root, 'restored');
    const progress: { messages: number; totalMessages: number; bytes: number }[] = [];
    const result = await importBackup({
      profileDir: target,
      input: backupFile,
      passphrase: PASS,
      protector: protector('new profile passphrase'),
      onProgress: (p) => progress.push(p),
    });
    expect(result).toMatchObject({ username: 'alice', serverUrl: 'http://127.0.0.1:47100', messages: 65, contacts: 2 });
    expect(progress.at(-1)).toMatchObject({ messages: 65, totalMessages: 65, bytes: statSync(backupFile).size });

    // A new database key, wrapped under the new profile passphrase.
    const key = await unlockVault(target, protector('new profile passphrase'));
    expect(Buffer.from(key).equals(Buffer.from(source.key))).toBe(false);

    const original = withStore(source.dir, source.key, dump);
    const restored = withStore(target, key, dump);
    // A message that was still being sent had its envelopes in the outbox, which is not restored.
    const expectedMessages = original.messages.map((page) => page.map((m) => (m.status === 'sending' ? { ...m, status: 'failed' } : m)));
    expect(expectedMessages.flat().some((m, i) => m.status !== original.messages.flat()[i]?.status)).toBe(true);
    expect(restored).toEqual({ ...original, messages: expectedMessages });
    expect(original.extras.settings).toHaveLength(2);
    expect(original.extras.muted.some((r) => r['muted'] === 1)).toBe(true);
    expect(original.extras.replies.some((r) => r['reply_to'] === 'm-0-0')).toBe(true);
    expect(original.messages.flat().some((m) => m.status === 'read')).toBe(true);
    expect(restored.conversations.map((c) => c.unreadCount)).toEqual(original.conversations.map((c) => c.unreadCount));
    // the group came back whole: name, members and admins, its log, owed changes, system lines
    expect(original.groups).toEqual([
      expect.objectContaining({
        id: source.group.id,
        name: source.group.name,
        member: true,
        version: 3,
        members: [
          { username: 'alice', admin: true },
          { username: 'bob', admin: true },
          { username: 'carol.k', admin: false },
        ],
      }),
    ]);
    expect(original.groups[0]?.log).toHaveLength(3);
    expect(original.groups[0]?.systemLines).toHaveLength(3);
    expect(original.groups[0]?.owed).toHaveLength(1);
    // who each of our group messages went to, who has it and who read it (Message.readBy)
    expect(original.groups[0]?.readBy).toEqual({ 'g-2': ['bob'] });
    expect(original.extras.groupReceipts).toEqual([
      { message_id: 'g-2', username: 'bob', delivered_at: 1_700_000_904_500, read_at: 1_700_000_904_500 },
      { message_id: 'g-2', username: 'carol.k', delivered_at: 1_700_000_904_600, read_at: null },
    ]);
    expect(original.conversations.filter((c) => c.kind === 'group').map((c) => c.id)).toEqual([source.group.conversationId]);

    // No sender key came along: ours starts afresh, the others' arrive again with their next message.
    expect(withStore(source.dir, source.key, (s) => senderKeyState(s, source.group.id))).toMatchObject({ own: expect.any(Uint8Array), others: 1, sent: 1 });
    expect(withStore(target, key, (s) => senderKeyState(s, source.group.id))).toEqual({ own: null, others: 0, sent: 0 });

    withStore(target, key, (store) => {
      expect(store.listSessionDevices('bob')).toEqual([]);
      expect(store.listSessionDevices('carol.k')).toEqual([]);
      expect(store.listOutbox(10)).toEqual([]);
    });
  });

  it('leaves no plaintext run of 8 bytes of any message, key or session in the file', () => {
    const texts = [...source.secretTexts, ...source.secretBytes.map((b) => toBase64url(b)), 'RATCHET-SESSION-STATE', 'OUTBOX-ENVELOPE-BODY', source.group.id];
    expect(source.secretTexts).toContain(source.group.name);
    expect(readdirSync(join(root, 'files'))).toEqual(['alice.refuge-backup']);
    expect(findPlaintext([join(root, 'files')], texts)).toEqual([]);
    expect(byteRunsIn(backupFile, source.secretBytes)).toEqual([]);
    // and the file is whole chunks after the header
    expect((statSync(backupFile).size - HEADER_BYTES) % SEALED_CHUNK_BYTES).toBe(0);
  });

  it('streams a history larger than many chunks and restores it byte for byte', async () => {
    const dir = tempRoot('backup-large');
    try {
      const big = await makeSourceProfile(join(dir, 'source'), { messages: 1500, padding: 400 });
      const out = join(dir, 'big.backup');
      const seen: number[] = [];
      const result = await exportBackup({
        profileDir: big.dir,
        key: big.key,
        out,
        passphrase: PASS,
        params: TEST_PARAMS,
        onProgress: (p) => seen.push(p.messages),
      });
      expect(result.messages).toBe(3005);
      expect(result.bytes).toBe(statSync(out).size);
      expect(result.bytes).toBeGreaterThan(20 * CHUNK_BYTES);
      expect(seen.length).toBeGreaterThan(2); // progress came page by page
      expect(seen).toEqual([...seen].sort((a, b) => a - b));

      const target = join(dir, 'restored');
      await restore(target, PASS, out);
      const key = await unlockVault(target, protector('new profile passphrase'));
      const original = withStore(big.dir, big.key, (s) => dump(s).messages.flat().map((m) => [m.id, m.text, m.sentAt]));
      const restored = withStore(target, key, (s) => dump(s).messages.flat().map((m) => [m.id, m.text, m.sentAt]));
      expect(restored).toEqual(original);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('restores into an existing empty folder, and beside unrelated files in a folder', async () => {
    const empty = join(root, 'empty-target');
    const busy = join(root, 'busy-target');
    for (const dir of [empty, busy]) rmSync(dir, { recursive: true, force: true });
    await import('node:fs').then((fs) => {
      fs.mkdirSync(empty);
      fs.mkdirSync(busy);
      fs.writeFileSync(join(busy, 'preferences.json'), '{"theme":"dark"}');
    });
    await restore(empty);
    await restore(busy);
    expect(readdirSync(empty).sort()).toEqual(['keyring.json', 'refuge.db', RESTORE_MARKER]);
    expect(readdirSync(busy).sort()).toEqual(['keyring.json', 'preferences.json', 'refuge.db', RESTORE_MARKER]);
    expect(readFileSync(join(busy, 'preferences.json'), 'utf8')).toBe('{"theme":"dark"}');
    // and nothing was left next to them
    expect(readdirSync(root).filter((n) => n.includes('.restore-'))).toEqual([]);
  });

  it('never overwrites: an existing backup file or an existing profile is refused and left alone', async () => {
    const existing = join(root, 'existing.backup');
    writeFileSync(existing, 'my other file');
    await expect(exportBackup({ profileDir: source.dir, key: source.key, out: existing, passphrase: PASS, params: TEST_PARAMS })).rejects.toMatchObject({
      code: 'FILE_EXISTS',
    });
    expect(readFileSync(existing, 'utf8')).toBe('my other file');

    const before = fingerprint(source.dir);
    await expect(restore(source.dir)).rejects.toMatchObject({ code: 'PROFILE_EXISTS' });
    expect(fingerprint(source.dir)).toEqual(before);
  });

  it('a cancelled export leaves no file behind', async () => {
    const dir = tempRoot('backup-cancel');
    try {
      const big = await makeSourceProfile(join(dir, 'source'), { messages: 1000, padding: 100 });
      const out = join(dir, 'out', 'cancelled.backup');
      await import('node:fs').then((fs) => fs.mkdirSync(join(dir, 'out')));
      const controller = new AbortController();
      const run = exportBackup({
        profileDir: big.dir,
        key: big.key,
        out,
        passphrase: PASS,
        params: TEST_PARAMS,
        signal: controller.signal,
        onProgress: (p) => {
          if (p.messages > 0) controller.abort();
        },
      });
      await expect(run).rejects.toMatchObject({ code: 'CANCELLED' });
      expect(readdirSync(join(dir, 'out'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('errors are typed and carry no secret', async () => {
    const error = await restore(join(root, 'never'), 'not the passphrase').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BackupError);
    expect((error as BackupError).message).not.toContain('not the passphrase');
    expect((error as BackupError).message).not.toContain(backupFile);
  });
});
