// The backup channels on real cores: export and import jobs with progress, cancel and lock,
// the rules on who may start what, and sessions re-established after a restore (envelopes
// handed from one core's outbox to the other's, as the relay would).
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApi } from '../../../shared/ipc/api.js';
import type { BackupProgress } from '../../../shared/ipc/channels/backup.js';
import { ARGON2ID_PRESETS, PassphraseKeyProtector } from '../vault/index.js';
import { Core } from './core.js';
import { addContact, bundleOf, Clock, closeAll, deliver, newPeer, type Peer } from './social-harness.js';

// Backups of test profiles use Argon2id INTERACTIVE (see backupKdfParams), not MODERATE.
process.env.REFUGE_ARGON2 = 'interactive';

const BACKUP_PASS = 'backup passphrase 123';
const files = mkdtempSync(join(tmpdir(), 'refuge-backup-service-'));
afterAll(() => rmSync(files, { recursive: true, force: true }));
let n = 0;
const newFile = () => join(files, `b${++n}.backup`);

let clock: Clock;
let alice: Peer;
let bob: Peer;
const extra: Core[] = [];

beforeEach(async () => {
  clock = new Clock();
  alice = await newPeer('alice', clock);
  bob = await newPeer('bob', clock);
  const conversationId = await addContact(alice, bob);
  await alice.api.messages.send({ conversationId, text: 'hello bob, before the backup' });
  await deliver(alice, bob, clock);
  await deliver(bob, alice, clock); // delivery receipt
});
afterEach(() => {
  for (const core of extra.splice(0)) core.close();
  closeAll([alice, bob]);
});

async function finish(api: Peer['api'], jobId: string): Promise<BackupProgress> {
  for (;;) {
    const p = await api.backup.progress({ jobId });
    if (p.state !== 'running') return p;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function freshCore(): Promise<{ core: Core; api: Peer['api']; dir: string }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'refuge-restore-')), 'profile');
  const core = await Core.open({
    profileDir: dir,
    defaultServerUrl: 'http://127.0.0.1:9',
    passphraseRequired: true,
    protector: (passphrase) => new PassphraseKeyProtector(passphrase ?? '', { params: ARGON2ID_PRESETS.min }),
    now: clock.now,
  });
  extra.push(core);
  return { core, api: createApi((channel, request) => core.handle(channel, request)), dir };
}

describe('backup channels', () => {
  it('exports as a job with progress; refuses weak passphrases, relative paths and a second job', async () => {
    await expect(alice.api.backup.export({ path: newFile(), passphrase: 'short' })).rejects.toMatchObject({ code: 'WEAK_PASSPHRASE' });
    await expect(alice.api.backup.export({ path: 'relative.backup', passphrase: BACKUP_PASS })).rejects.toMatchObject({ code: 'BAD_PATH' });
    const out = newFile();
    const { jobId } = await alice.api.backup.export({ path: out, passphrase: BACKUP_PASS });
    await expect(alice.api.backup.export({ path: newFile(), passphrase: BACKUP_PASS })).rejects.toMatchObject({ code: 'BACKUP_BUSY' });
    const first = await alice.api.backup.progress({ jobId });
    expect(first).toMatchObject({ jobId, kind: 'export', state: 'running', phase: 'kdf' });
    const done = await finish(alice.api, jobId);
    expect(done).toMatchObject({ state: 'done', phase: 'stream', messages: 1, totalMessages: 1, path: out });
    expect(done.bytes).toBeGreaterThan(0);
    await expect(alice.api.backup.progress({ jobId: 'no-such-job' })).rejects.toMatchObject({ code: 'UNKNOWN_JOB' });
  });

  it('a cancelled export and an export interrupted by a lock leave no file', async () => {
    const cancelledOut = newFile();
    const cancelled = await alice.api.backup.export({ path: cancelledOut, passphrase: BACKUP_PASS });
    await alice.api.backup.cancel({ jobId: cancelled.jobId });
    expect(await finish(alice.api, cancelled.jobId)).toMatchObject({ state: 'cancelled' });
    expect(existsSync(cancelledOut)).toBe(false);

    const lockedOut = newFile();
    const locked = await alice.api.backup.export({ path: lockedOut, passphrase: BACKUP_PASS });
    await alice.api.vault.lock({});
    const end = await finish(alice.api, locked.jobId);
    expect(end).toMatchObject({ state: 'failed', error: { code: 'LOCKED' } });
    expect(existsSync(lockedOut)).toBe(false);
    expect(readdirSync(files).filter((f) => f.includes('partial'))).toEqual([]);
  });

  it('imports only into a profile without an account, with a passphrase where one is required', async () => {
    const out = newFile();
    await finish(alice.api, (await alice.api.backup.export({ path: out, passphrase: BACKUP_PASS })).jobId);
    await expect(bob.api.backup.import({ path: out, backupPassphrase: BACKUP_PASS, profilePassphrase: 'x' })).rejects.toMatchObject({
      code: 'PROFILE_EXISTS',
    });
    const fresh = await freshCore();
    await expect(fresh.api.backup.import({ path: out, backupPassphrase: BACKUP_PASS })).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    const wrong = await fresh.api.backup.import({ path: out, backupPassphrase: 'wrong backup passphrase', profilePassphrase: 'new pass' });
    expect(await finish(fresh.api, wrong.jobId)).toMatchObject({ state: 'failed', kind: 'import', error: { code: 'WRONG_PASSPHRASE' } });
    expect(existsSync(fresh.dir)).toBe(false);
    expect((await fresh.api.app.status({})).state).toBe('no-account');
  });

  it('after a restore, sessions restart by themselves: the peer replaces its old session, both ways work', async () => {
    const out = newFile();
    await finish(alice.api, (await alice.api.backup.export({ path: out, passphrase: BACKUP_PASS })).jobId);
    alice.core.close(); // the old computer is gone

    const fresh = await freshCore();
    const job = await fresh.api.backup.import({ path: out, backupPassphrase: BACKUP_PASS, profilePassphrase: 'new computer' });
    expect(await finish(fresh.api, job.jobId)).toMatchObject({ state: 'done', kind: 'import', messages: 1, totalMessages: 1 });
    expect((await fresh.api.app.status({})).state).toBe('locked');
    expect(await fresh.api.vault.unlock({ passphrase: 'new computer' })).toMatchObject({ state: 'ready', username: 'alice' });
    const restored: Peer = { ...alice, core: fresh.core, api: fresh.api, dir: fresh.dir, nextBundle: 0 };

    // No session survives a backup: every contact needs a new one, and nothing can be sent yet.
    // The relay's one-time prekeys are stale too (the old device may have handed some out).
    expect(await restored.api.backup.pendingSessions({})).toEqual({ usernames: ['bob'], prekeysStale: true });
    const [conversation] = await restored.api.conversations.list({});
    if (!conversation) throw new Error('the conversation was not restored');
    await expect(restored.api.messages.send({ conversationId: conversation.id, text: 'too early' })).rejects.toMatchObject({ code: 'NO_SESSION' });

    // A changed identity key is never accepted silently.
    const carol = await newPeer('carol', clock);
    extra.push(carol.core);
    await expect(restored.api.backup.resetSession({ bundles: [{ ...bundleOf(carol), username: 'bob' }] })).rejects.toMatchObject({
      code: 'IDENTITY_CHANGED',
    });
    await expect(restored.api.backup.resetSession({ bundles: [bundleOf(carol)] })).rejects.toMatchObject({ code: 'UNKNOWN_CONTACT' });

    expect(await restored.api.backup.resetSession({ bundles: [bundleOf(bob)] })).toEqual({ username: 'bob', devices: 1 });
    expect(await restored.api.backup.pendingSessions({})).toEqual({ usernames: [], prekeysStale: true });

    // Fresh one-time prekeys replace the backed-up ones (new ids, same identity); once the relay
    // took them, the restore is complete.
    const fresh1 = await restored.api.backup.freshPrekeys({});
    expect(fresh1.keys.identityKey).toBe(alice.registration.keys.identityKey);
    expect(fresh1.keys.oneTimePrekeys).toHaveLength(100);
    const oldIds = new Set(alice.registration.keys.oneTimePrekeys.map((k) => k.id));
    expect(fresh1.keys.oneTimePrekeys.some((k) => oldIds.has(k.id))).toBe(false);
    await restored.api.backup.prekeysUploaded({});
    expect(await restored.api.backup.pendingSessions({})).toEqual({ usernames: [], prekeysStale: false });
    restored.registration = fresh1;
    restored.nextBundle = 0;
    // Someone new can start a session with the restored device from its fresh prekeys.
    const dave = await newPeer('dave', clock);
    extra.push(dave.core);
    const daveConversation = await addContact(dave, restored);
    await dave.api.messages.send({ conversationId: daveConversation, text: 'hi restored alice' });
    const [fromDave] = await deliver(dave, restored, clock);
    expect(fromDave).toMatchObject({ outcome: 'stored', message: { sender: 'dave', text: 'hi restored alice' } });
    // The session-reset message reaches Bob: nothing to show, his old session is replaced.
    const [reset] = await deliver(restored, bob, clock);
    expect(reset).toMatchObject({ outcome: 'stored' });
    expect(reset?.message).toBeUndefined();

    await restored.api.messages.send({ conversationId: conversation.id, text: 'hello again from a new computer' });
    const [text] = await deliver(restored, bob, clock);
    expect(text).toMatchObject({ outcome: 'stored', message: { sender: 'alice', text: 'hello again from a new computer' } });

    const [bobConversation] = await bob.api.conversations.list({});
    if (!bobConversation) throw new Error('bob has no conversation');
    await bob.api.messages.send({ conversationId: bobConversation.id, text: 'welcome back' });
    const received = await deliver(bob, restored, clock);
    expect(received.find((r) => r.message)?.message).toMatchObject({ sender: 'bob', text: 'welcome back' });
    const { messages } = await restored.api.messages.list({ conversationId: conversation.id, limit: 50 });
    expect(messages.map((m) => m.text)).toEqual(['hello bob, before the backup', 'hello again from a new computer', 'welcome back']);
  });
});
