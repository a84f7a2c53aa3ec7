// The at-rest audit (issue 5): a realistic profile -- contacts, a 1:1 history in Korean and
// English both ways, the search index, settings, a changed passphrase -- then every file in the
// profile folder is read, open and closed, and no run of 8 bytes of any message, safety number,
// private key, key record or the database key may appear in any of them.
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findBytes, findPlaintext } from '../../../e2e/support/plaintext.js';
import { toBase64url } from '../../../shared/encoding/base64url.js';
import { deserializeIdentity } from '../crypto/index.js';
import { DB_FILE, openStore, PREKEY_KINDS } from '../store/index.js';
import { ARGON2ID_PRESETS, KEYRING_FILE, PassphraseKeyProtector, unlockVault } from '../vault/index.js';
import { addContact, Clock, closeAll, deliver, newPeer, type Peer } from './social-harness.js';

const ALICE_SAYS = [
  '안녕하세요 밥, 내일 회의 자료를 보냈어요 📎',
  '비밀번호는 절대로 메시지로 보내지 마세요',
  'Meeting moved to Thursday; the encrypted archive is attached',
  `A long message about the quarterly budget review and the server migration plan. ${'Details follow in the next paragraph, '.repeat(20)}`,
];
const BOB_SAYS = ['네, 확인했어요! 고마워요 🙏', 'Sounds good, see you at the Café Zoë on Thursday', '우리 가족 사진은 주말에 보낼게요 👨‍👩‍👧'];
// (no dictionary word of keyring.json in it, e.g. "passphrase", or the 8-byte runs would match the JSON keys)
const NEW_PASSPHRASE = 'Tr0ub4dor&3 staple-horse';

const peers: Peer[] = [];
afterAll(() => closeAll(peers));

describe('at-rest audit of a realistic profile', { timeout: 120_000 }, () => {
  it('no file in the profile folder holds 8 bytes of a message, a safety number, a private key or the database key', async () => {
    const clock = new Clock();
    const alice = await newPeer('alice_wonderland', clock);
    const bob = await newPeer('bob_the_builder', clock);
    peers.push(alice, bob);
    const aliceChat = await addContact(alice, bob);
    await alice.api.messages.send({ conversationId: aliceChat, text: ALICE_SAYS[0] ?? '' });
    await deliver(alice, bob, clock);
    const bobChat = (await bob.api.conversations.list({}))[0]?.id ?? '';
    for (let round = 0; round < 3; round++) {
      for (const text of ALICE_SAYS.slice(1)) await alice.api.messages.send({ conversationId: aliceChat, text: `${text} #${round}` });
      for (const text of BOB_SAYS) await bob.api.messages.send({ conversationId: bobChat, text: `${text} #${round}` });
      clock.advance(60_000);
      await deliver(alice, bob, clock);
      await deliver(bob, alice, clock);
      await deliver(alice, bob, clock); // receipts
    }
    await alice.api.conversations.markRead({ conversationId: aliceChat });
    await alice.api.settings.update({ theme: 'dark', language: 'ko', autoLockMinutes: 5, notifications: 'name-only' });
    // the search index is there and in use
    expect((await alice.api.search.query({ query: '메시지' })).results.length).toBeGreaterThan(0);
    expect((await alice.api.search.query({ query: 'encrypt' })).results.length).toBeGreaterThan(0);
    const { digits } = await alice.api.contacts.safetyNumber({ username: 'bob_the_builder' });
    await alice.api.lock.changePassphrase({ current: 'test passphrase', next: NEW_PASSPHRASE });

    const texts = (await alice.api.messages.list({ conversationId: aliceChat, limit: 500 })).messages.map((m) => m.text);
    expect(texts.length).toBe(1 + 3 * (ALICE_SAYS.length - 1 + BOB_SAYS.length));
    const strings = [...texts, digits, digits.match(/\d{5}/g)?.join(' ') ?? '', NEW_PASSPHRASE, 'bob_the_builder'];

    // audited while the app has the profile open (the WAL holds the recent pages)...
    const openFiles = readdirSync(alice.dir).sort();
    expect(openFiles).toEqual([KEYRING_FILE, DB_FILE, `${DB_FILE}-shm`, `${DB_FILE}-wal`].sort());
    expect(findPlaintext([alice.dir], strings)).toEqual([]);
    alice.core.close();

    // ...and closed. Then the private material, read back with the key, is looked for byte by byte.
    const key = await unlockVault(alice.dir, new PassphraseKeyProtector(NEW_PASSPHRASE, { params: ARGON2ID_PRESETS.min }));
    const secrets: { label: string; bytes: Uint8Array }[] = [{ label: 'database key', bytes: key.slice() }];
    const store = openStore(alice.dir, key);
    try {
      const account = store.getAccount();
      if (!account) throw new Error('no account');
      const identity = deserializeIdentity(account.identity);
      secrets.push({ label: 'identity private key', bytes: identity.privateKey }, { label: 'identity record', bytes: account.identity });
      for (const kind of PREKEY_KINDS) {
        for (const id of store.listPrekeyIds(kind)) secrets.push({ label: `${kind} prekey ${id}`, bytes: store.getPrekey(kind, id) ?? new Uint8Array() });
      }
      for (const contact of store.listContacts()) {
        for (const device of store.listSessionDevices(contact.username)) {
          secrets.push({ label: `session ${contact.username}.${device}`, bytes: store.getSession(contact.username, device) ?? new Uint8Array() });
        }
      }
    } finally {
      store.close();
      key.fill(0);
    }
    expect(secrets.length).toBeGreaterThan(100); // identity, ~120 prekeys, the session, the key
    const keyStrings = secrets
      .filter((s) => s.label === 'database key' || s.label === 'identity private key')
      .flatMap((s) => [Buffer.from(s.bytes).toString('hex'), toBase64url(s.bytes), Buffer.from(s.bytes).toString('base64')]);

    expect(readdirSync(alice.dir).sort()).toEqual([KEYRING_FILE, DB_FILE].sort());
    expect(findPlaintext([alice.dir], [...strings, ...keyStrings])).toEqual([]);
    expect(findBytes([alice.dir], secrets)).toEqual([]);

    // the detectors do find what they look for
    const planted = join(alice.dir, 'planted');
    mkdirSync(planted);
    writeFileSync(join(planted, 'leak.bin'), Buffer.concat([Buffer.from('..'), Buffer.from(secrets[1]?.bytes.subarray(3, 12) ?? []), Buffer.from(texts[0] ?? '', 'utf16le')]));
    expect(findBytes([planted], secrets).map((h) => h.secret)).toEqual([expect.stringMatching(/^identity /)]);
    expect(findPlaintext([planted], strings).length).toBe(1);
  });
});
