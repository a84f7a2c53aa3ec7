// Groups through real cores (store, vault, crypto), with envelopes handed from outbox to inbox
// by the test instead of a relay: creation, messages, removal with key rotation, and
// convergence when admins change membership concurrently.
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../../e2e/support/harness.js';
import type { DeliveredEnvelope, OutgoingEnvelope } from '../../../shared/protocol/envelope.js';
import type { PrekeyBundle } from '../../../shared/protocol/keys.js';
import type { EnvelopeResult, Registration } from '../../../shared/ipc/contract.js';
import { ARGON2ID_PRESETS } from '../vault/argon2.js';
import { PassphraseKeyProtector } from '../vault/passphrase.js';
import { unlockVault } from '../vault/index.js';
import { openStore, type Store } from '../store/index.js';
import { countSenderKeys } from '../store/groups.js';
import { deserializeSession, encryptMessage, serializeSession } from '../crypto/index.js';
import { toBase64url } from '../../../shared/encoding/base64url.js';
import { Core } from './core.js';
import { encodePayload, type Payload } from './payload.js';

const PASSPHRASE = 'pass phrase';
const protector = (p: string | undefined) => new PassphraseKeyProtector(p ?? PASSPHRASE, { params: ARGON2ID_PRESETS.min });

interface User {
  name: string;
  dir: string;
  core: Core;
  registration: Registration;
  /** one-time prekeys handed out so far, as the relay would */
  handedOut: number;
  /** envelopes the test captured (everything sent TO this user), as the relay would hold them */
  inbox: DeliveredEnvelope[];
}

const open: User[] = [];
afterEach(() => {
  for (const u of open.splice(0)) u.core.close();
});

async function user(name: string): Promise<User> {
  const dir = tempDir(`groups-${name}`);
  const core = await Core.open({ profileDir: dir, defaultServerUrl: 'http://127.0.0.1:1', passphraseRequired: true, protector });
  const registration = await core.handle('account.create', { username: name, serverUrl: 'http://127.0.0.1:1', passphrase: PASSPHRASE });
  await core.handle('account.markRegistered', {});
  const u = { name, dir, core, registration, handedOut: 0, inbox: [] };
  open.push(u);
  return u;
}

function bundle(of: User): PrekeyBundle {
  const { keys } = of.registration;
  const i = of.handedOut++;
  const oneTime = keys.oneTimePrekeys[i];
  const kyber = keys.kyberOneTimePrekeys[i];
  return {
    username: of.name,
    deviceId: 1,
    identityKey: keys.identityKey,
    signedPrekey: keys.signedPrekey,
    kyberPrekey: kyber ? { ...kyber, lastResort: false } : { ...keys.kyberLastResort, lastResort: true },
    ...(oneTime ? { oneTimePrekey: oneTime } : {}),
  };
}

/** Pairwise sessions between everyone (the first named initiates), as ensureSessions would. */
async function connectAll(users: User[]): Promise<void> {
  for (let i = 0; i < users.length; i++) {
    for (let j = i + 1; j < users.length; j++) {
      const [a, b] = [users[i], users[j]] as [User, User];
      const missing = await a.core.handle('groups.missingSessions', { usernames: [b.name] });
      expect(missing.usernames).toEqual([b.name]);
      await a.core.handle('groups.openSessions', { bundles: [bundle(b)] });
    }
  }
}

let seq = 0;
/** Moves every queued envelope of `from` into its recipients' inboxes (the relay's part). */
async function send(from: User, everyone: User[]): Promise<OutgoingEnvelope[]> {
  const { envelopes } = await from.core.handle('outbox.pending', { limit: 1000 });
  for (const e of envelopes) {
    const to = everyone.find((u) => u.name === e.to);
    if (!to) throw new Error(`no user ${e.to}`);
    to.inbox.push({ id: e.id, from: from.name, fromDeviceId: 1, body: e.body, receivedAt: 1_700_000_000_000 + seq++ });
  }
  if (envelopes.length > 0) await from.core.handle('outbox.markSent', { ids: envelopes.map((e) => e.id) });
  return envelopes;
}

async function receive(u: User): Promise<EnvelopeResult[]> {
  const batch = u.inbox.splice(0);
  if (batch.length === 0) return [];
  return (await u.core.handle('envelopes.receive', { envelopes: batch })).results;
}

/** Sends and receives until nothing moves. */
async function settle(users: User[]): Promise<void> {
  for (let round = 0; round < 20; round++) {
    let moved = 0;
    for (const u of users) moved += (await send(u, users)).length;
    for (const u of users) await receive(u);
    if (moved === 0) return;
  }
  throw new Error('did not settle');
}

async function texts(u: User, conversationId: string): Promise<string[]> {
  const page = await u.core.handle('messages.list', { conversationId, limit: 500 });
  return page.messages.filter((m) => !m.system).map((m) => `${m.sender}: ${m.text}`);
}

async function groupOf(u: User, groupId: string) {
  return u.core.handle('groups.info', { groupId });
}

/** Reads a closed profile's store directly, then reopens its core. */
async function peek<T>(u: User, fn: (store: Store) => T): Promise<T> {
  u.core.close();
  const key = await unlockVault(u.dir, protector(PASSPHRASE));
  const store = openStore(u.dir, key);
  try {
    return fn(store);
  } finally {
    store.close();
    key.fill(0);
    u.core = await Core.open({ profileDir: u.dir, defaultServerUrl: 'http://127.0.0.1:1', passphraseRequired: true, protector });
    await u.core.handle('vault.unlock', { passphrase: PASSPHRASE });
  }
}

describe('groups (in-process cores)', { timeout: 60_000 }, () => {
  it('creates a group, exchanges messages, and shuts a removed member out with fresh sender keys', async () => {
    const [alice, bob, carol] = [await user('alice'), await user('bob'), await user('carol')];
    const all = [alice, bob, carol];
    await connectAll(all);

    const { groupId, conversationId } = await alice.core.handle('groups.create', { name: 'Family 가족', members: ['Bob', 'carol'] });
    const created = await send(alice, all);
    // One envelope per member device; each body is distinct ciphertext.
    expect(created.map((e) => e.to).sort()).toEqual(['bob', 'carol']);
    await receive(bob);
    await receive(carol);
    for (const u of [bob, carol]) {
      const g = await groupOf(u, groupId);
      expect(g).toMatchObject({ name: 'Family 가족', member: true, admin: false, version: 1 });
      expect(g.members).toEqual([
        { username: 'alice', admin: true },
        { username: 'bob', admin: false },
        { username: 'carol', admin: false },
      ]);
      const summary = (await u.core.handle('conversations.list', {})).find((c) => c.id === g.conversationId);
      expect(summary).toMatchObject({ kind: 'group', groupId, name: 'Family 가족', peer: '' });
      const events = (await u.core.handle('messages.list', { conversationId: g.conversationId, limit: 10 })).messages;
      expect(events.map((m) => m.system)).toEqual([{ kind: 'create', actor: 'alice', name: 'Family 가족', members: u === bob ? ['me', 'carol'] : ['bob', 'me'] }]);
    }
    // No direct conversations were opened with anyone.
    expect((await bob.core.handle('conversations.list', {})).map((c) => c.kind)).toEqual(['group']);

    await alice.core.handle('groups.send', { groupId, text: 'Dinner at 7?' });
    const first = await send(alice, all);
    expect(first).toHaveLength(2);
    expect(first[0]?.body).not.toBe(first[1]?.body);
    await alice.core.handle('messages.send', { conversationId, text: 'Bring dessert 🍰' });
    const second = await send(alice, all);
    // The second message carries no sender key: its copies are smaller than the first's.
    expect(second[0]?.body.length).toBeLessThan(first[0]?.body.length ?? 0);
    await settle(all);
    const bobGroup = await groupOf(bob, groupId);
    await bob.core.handle('groups.send', { groupId, text: 'Yes!' });
    await settle(all);
    for (const [u, conv] of [
      [alice, conversationId],
      [bob, bobGroup.conversationId],
      [carol, (await groupOf(carol, groupId)).conversationId],
    ] as const) {
      const lines = await texts(u, conv);
      expect(lines.map((l) => l.replace(/^me: /, `${u.name}: `))).toEqual(['alice: Dinner at 7?', 'alice: Bring dessert 🍰', 'bob: Yes!']);
    }
    // Alice's outgoing messages are 'delivered' once every member's delivery receipt came back (nobody opened the chat yet).
    expect((await alice.core.handle('messages.list', { conversationId, limit: 10 })).messages.filter((m) => !m.system).map((m) => m.status)).toEqual(['delivered', 'delivered', 'received']);

    // Carol keeps a copy of her profile: everything she ever held, keys included.
    await alice.core.handle('groups.remove', { groupId, username: 'carol' });
    await settle(all);
    expect(await groupOf(carol, groupId)).toMatchObject({ member: false, admin: false });
    expect((await groupOf(bob, groupId)).members.map((m) => m.username)).toEqual(['alice', 'bob']);
    const carolEvents = (await carol.core.handle('messages.list', { conversationId: (await groupOf(carol, groupId)).conversationId, limit: 50 })).messages;
    expect(carolEvents.at(-1)?.system).toEqual({ kind: 'remove', actor: 'alice', members: ['me'] });

    await bob.core.handle('groups.send', { groupId, text: 'Carol is gone' });
    const after = await send(bob, all);
    expect(after.map((e) => e.to)).toEqual(['alice']);
    // Carol, handed Bob's copy for Alice, cannot open it.
    const stolen = after[0];
    if (!stolen) throw new Error('no envelope');
    const tried = await carol.core.handle('envelopes.receive', {
      envelopes: [{ id: stolen.id, from: 'bob', fromDeviceId: 1, body: stolen.body, receivedAt: 1 }],
    });
    expect(tried.results[0]?.outcome).toBe('rejected');
    await settle(all);
    expect(await texts(alice, conversationId)).toContain('bob: Carol is gone');
    await expect(carol.core.handle('groups.send', { groupId, text: 'still here?' })).rejects.toMatchObject({ code: 'NOT_A_MEMBER' });
    expect(await texts(carol, (await groupOf(carol, groupId)).conversationId)).not.toContain('bob: Carol is gone');

    // Bob rotated: Alice now holds two of his chains (the old one for late messages, the new one).
    expect(await peek(alice, (store) => countSenderKeys(store, groupId, 'bob'))).toBe(2);
    // Carol forgot every chain of the group.
    expect(await peek(carol, (store) => countSenderKeys(store, groupId, 'alice') + countSenderKeys(store, groupId, 'bob'))).toBe(0);
  });

  it('refuses changes by non-admins and converges when two admins change membership concurrently', async () => {
    const [alice, bob, carol, dave] = [await user('alice'), await user('bob'), await user('carol'), await user('dave')];
    const all = [alice, bob, carol, dave];
    await connectAll(all);
    const { groupId } = await alice.core.handle('groups.create', { name: 'Team', members: ['bob', 'carol'] });
    await settle(all);
    await expect(carol.core.handle('groups.add', { groupId, username: 'dave' })).rejects.toMatchObject({ code: 'NOT_ADMIN' });
    await alice.core.handle('groups.setAdmin', { groupId, username: 'bob', admin: true });
    await settle(all);
    expect((await groupOf(bob, groupId)).admin).toBe(true);

    // Concurrently (nobody has seen the others' changes yet): Alice adds Dave; Bob removes Carol and renames.
    await alice.core.handle('groups.add', { groupId, username: 'dave' });
    await bob.core.handle('groups.remove', { groupId, username: 'carol' });
    await bob.core.handle('groups.rename', { groupId, name: 'Team B' });
    await settle(all);

    const views = await Promise.all([alice, bob, dave].map((u) => groupOf(u, groupId)));
    const shape = (g: (typeof views)[number]) => ({ name: g.name, members: g.members, version: g.version });
    expect(shape(views[0] ?? views[1] ?? ({} as never))).toEqual({
      name: 'Team B',
      version: 4,
      members: [
        { username: 'alice', admin: true },
        { username: 'bob', admin: true },
        { username: 'dave', admin: false },
      ],
    });
    for (const v of views) expect(shape(v)).toEqual(shape(views[0] ?? v));
    expect((await groupOf(carol, groupId)).member).toBe(false);

    // Everyone still reads everyone after the dust settles (Dave included).
    await dave.core.handle('groups.send', { groupId, text: 'Hi team' });
    await alice.core.handle('groups.send', { groupId, text: 'Welcome Dave' });
    await settle(all);
    for (const u of [alice, bob, dave]) {
      const lines = await texts(u, (await groupOf(u, groupId)).conversationId);
      expect(lines.map((l) => l.replace(/^me: /, `${u.name}: `))).toEqual(['dave: Hi team', 'alice: Welcome Dave']);
    }
  });

  it('refuses forged creates, changes sent for someone else, and versions pushed out of reach', async () => {
    // amy sorts before zed: a create forged by her would come first in the log's order.
    const [zed, amy, bea] = [await user('zed'), await user('amy'), await user('bea')];
    const all = [zed, amy, bea];
    await connectAll(all);
    const { groupId } = await zed.core.handle('groups.create', { name: 'Club', members: ['amy', 'bea'] });
    await settle(all);
    await amy.core.handle('groups.send', { groupId, text: 'hi' });
    await settle(all);
    const before = await groupOf(bea, groupId);

    /** Amy's device sends Bea a payload of her choosing, in their real pairwise session. */
    const forge = async (payload: Payload) => {
      const body = await peek(amy, (store) => {
        const record = store.getSession('bea', 1);
        if (!record) throw new Error('no session');
        const { session, ciphertext } = encryptMessage(deserializeSession(record), encodePayload(payload), Date.now());
        store.putSession('bea', 1, serializeSession(session));
        return toBase64url(ciphertext);
      });
      bea.inbox.push({ id: crypto.randomUUID(), from: 'amy', fromDeviceId: 1, body, receivedAt: Date.now() });
      return (await receive(bea))[0];
    };
    const at = Date.now();
    const forgedCreate = { id: '00000000-0000-4000-8000-000000000000', v: 1, by: 'amy', at, op: 'create' as const, name: 'Mine', members: ['amy', 'bea'] };
    expect(await forge({ v: 1, type: 'group-ctl', g: groupId, welcome: false, changes: [forgedCreate] })).toMatchObject({ outcome: 'rejected' });
    expect(await forge({ v: 1, type: 'group-ctl', g: groupId, welcome: true, changes: [forgedCreate] })).toMatchObject({ outcome: 'rejected' });
    const asZed = { id: crypto.randomUUID(), v: 2, by: 'zed', at, op: 'remove' as const, member: 'bea' };
    expect(await forge({ v: 1, type: 'group-ctl', g: groupId, welcome: false, changes: [asZed] })).toMatchObject({ outcome: 'rejected' });
    const far = { id: crypto.randomUUID(), v: 2 ** 31, by: 'amy', at, op: 'rename' as const, name: 'x' };
    expect(await forge({ v: 1, type: 'group-ctl', g: groupId, welcome: false, changes: [far] })).toMatchObject({ outcome: 'rejected' });
    expect(await groupOf(bea, groupId)).toEqual(before);
    // Zed can still change the group, and Bea follows.
    await zed.core.handle('groups.rename', { groupId, name: 'Club 2' });
    await settle(all);
    expect(await groupOf(bea, groupId)).toMatchObject({ name: 'Club 2', version: before.version + 1 });
  });

  it('sends our sender key again to a member that starts a fresh session (restore, reinstall)', async () => {
    const [alice, bob] = [await user('alice'), await user('bob')];
    const all = [alice, bob];
    await connectAll(all);
    const { groupId } = await alice.core.handle('groups.create', { name: 'Pair', members: ['bob'] });
    await alice.core.handle('groups.send', { groupId, text: 'one' });
    await settle(all);
    // Bob's device loses its sessions and the chains it held, as a restore from backup does.
    await peek(bob, (store) => {
      store.deleteSession('alice', 1);
      store.connection().prepare('DELETE FROM group_sender_keys').run();
    });
    await bob.core.handle('groups.openSessions', { bundles: [bundle(alice)] });
    await bob.core.handle('groups.send', { groupId, text: 'two' });
    await settle(all);
    await alice.core.handle('groups.send', { groupId, text: 'three' });
    await settle(all);
    expect(await texts(bob, (await groupOf(bob, groupId)).conversationId)).toEqual(['alice: one', 'me: two', 'alice: three']);
  });
});
