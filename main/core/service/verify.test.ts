// Safety numbers, the verified mark, and identity-key changes between real cores.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SAFETY_QR_PREFIX } from '../../../shared/ipc/channels/verify.js';
import { addContact, bundleOf, Clock, closeAll, deliver, newPeer, pendingCount, type Peer } from './social-harness.js';

let clock: Clock;
let alice: Peer;
let bob: Peer;
let aliceConv: string;
let bobConv: string;
const extra: Peer[] = [];

beforeEach(async () => {
  clock = new Clock();
  alice = await newPeer('alice', clock);
  bob = await newPeer('bob', clock);
  aliceConv = await addContact(alice, bob);
  await alice.api.messages.send({ conversationId: aliceConv, text: 'hi bob' });
  const [first] = await deliver(alice, bob, clock);
  if (!first?.message) throw new Error('the first message did not arrive');
  bobConv = first.message.conversationId;
  await deliver(bob, alice, clock);
});

afterEach(() => closeAll([alice, bob, ...extra.splice(0)]));

/** Bob on a new install: same username, new identity key (what a restore without backup gives). */
async function reinstalledBob(): Promise<Peer> {
  const peer = await newPeer('bob', clock);
  extra.push(peer);
  return peer;
}

async function aliceSeesBob() {
  const contact = (await alice.api.contacts.list({})).find((c) => c.username === 'bob');
  const conversation = (await alice.api.conversations.list({})).find((c) => c.id === aliceConv);
  return { contact, conversation };
}

describe('safety numbers', { timeout: 60_000 }, () => {
  it('are the same 60 digits on both sides, and the QR of one side matches on the other', async () => {
    const a = await alice.api.verify.safetyNumber({ username: 'bob' });
    const b = await bob.api.verify.safetyNumber({ username: 'alice' });
    expect(a.digits).toMatch(/^\d{60}$/);
    expect(a.digits).toBe(b.digits);
    expect(a.digits).toBe((await alice.api.contacts.safetyNumber({ username: 'bob' })).digits);
    expect(a).toMatchObject({ username: 'bob', verified: false, identityChanged: false });
    expect(a.qr.startsWith(`${SAFETY_QR_PREFIX}:alice:`)).toBe(true);

    expect(await bob.api.verify.compareQr({ username: 'alice', scanned: a.qr })).toEqual({ match: true });
    expect(await alice.api.verify.compareQr({ username: 'bob', scanned: b.qr })).toEqual({ match: true });
    // Scanning your own code, a tampered key, or garbage: no match.
    expect(await alice.api.verify.compareQr({ username: 'bob', scanned: a.qr })).toEqual({ match: false });
    const parts = a.qr.split(':');
    parts[3] = (parts[3] ?? '').replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    expect(await bob.api.verify.compareQr({ username: 'alice', scanned: parts.join(':') })).toEqual({ match: false });
    expect(await bob.api.verify.compareQr({ username: 'alice', scanned: 'not a code' })).toEqual({ match: false });

    await expect(alice.api.verify.safetyNumber({ username: 'nobody' })).rejects.toMatchObject({ code: 'UNKNOWN_CONTACT' });
  });

  it('a contact can be marked verified and unverified', async () => {
    const marked = await alice.api.verify.setVerified({ username: 'bob', verified: true });
    expect(marked).toMatchObject({ username: 'bob', verified: true, identityChanged: false });
    expect((await aliceSeesBob()).contact?.verified).toBe(true);
    expect((await alice.api.verify.safetyNumber({ username: 'bob' })).verified).toBe(true);
    expect((await bob.api.contacts.list({}))[0]?.verified).toBe(false); // one side's mark only
    await alice.api.verify.setVerified({ username: 'bob', verified: false });
    expect((await aliceSeesBob()).contact?.verified).toBe(false);
  });
});

describe('identity key changes', { timeout: 90_000 }, () => {
  it('messages under a new key come in, sending is held until the user accepts, then works', async () => {
    await alice.api.verify.setVerified({ username: 'bob', verified: true });
    const before = await alice.api.verify.safetyNumber({ username: 'bob' });

    const bob2 = await reinstalledBob();
    const bob2Conv = await addContact(bob2, alice);
    await bob2.api.messages.send({ conversationId: bob2Conv, text: 'new laptop, same bob' });
    const results = await deliver(bob2, alice, clock);
    // Let in and shown (Signal does the same), with the change flagged.
    expect(results[0]).toMatchObject({ outcome: 'stored', message: { text: 'new laptop, same bob', conversationId: aliceConv, sender: 'bob' } });
    const seen = await aliceSeesBob();
    expect(seen.contact).toMatchObject({ identityChanged: true, verified: false });
    expect(seen.conversation).toMatchObject({ identityChanged: true, unreadCount: 1 });
    const changed = await alice.api.verify.safetyNumber({ username: 'bob' });
    expect(changed).toMatchObject({ identityChanged: true, verified: false });
    expect(changed.digits).not.toBe(before.digits);
    expect(changed.digits).toBe((await bob2.api.verify.safetyNumber({ username: 'alice' })).digits);

    // Nothing goes out to the new key: no message, no delivery or read receipt, no typing.
    await expect(alice.api.messages.send({ conversationId: aliceConv, text: 'who is this?' })).rejects.toMatchObject({ code: 'IDENTITY_CHANGED' });
    await alice.api.conversations.markRead({ conversationId: aliceConv });
    expect(await alice.api.presence.typing({ conversationId: aliceConv, typing: true })).toEqual({ queued: false });
    expect(await pendingCount(alice)).toBe(0);

    // More from the new key while pending (bob2 has not heard back, so still prekey messages).
    await bob2.api.messages.send({ conversationId: bob2Conv, text: 'are you there?' });
    expect((await deliver(bob2, alice, clock)).map((r) => r.message?.text)).toEqual(['are you there?']);

    const accepted = await alice.api.verify.acceptIdentity({ username: 'bob' });
    expect(accepted).toMatchObject({ identityChanged: false, verified: false, identityKey: bob2.registration.keys.identityKey });
    expect((await aliceSeesBob()).conversation?.identityChanged).toBe(false);
    expect((await alice.api.verify.safetyNumber({ username: 'bob' })).digits).toBe(changed.digits);

    await alice.api.messages.send({ conversationId: aliceConv, text: 'welcome back' });
    const back = await deliver(alice, bob2, clock);
    expect(back.map((r) => r.message?.text)).toEqual(['welcome back']);
    // and the new session keeps working both ways
    await bob2.api.messages.send({ conversationId: bob2Conv, text: 'thanks' });
    expect((await deliver(bob2, alice, clock)).map((r) => r.message?.text)).toContain('thanks');
  });

  it('the old identity keeps working while a change is pending', async () => {
    const bob2 = await reinstalledBob();
    await bob2.api.messages.send({ conversationId: await addContact(bob2, alice), text: 'impostor?' });
    await deliver(bob2, alice, clock);
    // The original Bob (still holding his session) writes: it decrypts with the old session.
    await bob.api.messages.send({ conversationId: bobConv, text: 'that was not me' });
    expect((await deliver(bob, alice, clock)).map((r) => r.message?.text)).toEqual(['that was not me']);
    expect((await aliceSeesBob()).contact?.identityChanged).toBe(true);
  });

  it('a new key met at contacts.add is held the same way; marking it verified accepts it', async () => {
    const bob2 = await reinstalledBob();
    const added = await alice.api.contacts.add({ bundles: [bundleOf(bob2)] });
    expect(added.conversationId).toBe(aliceConv);
    expect(added.contact).toMatchObject({ username: 'bob', identityChanged: true, verified: false });
    // the contact's current key is still the old one until accepted
    expect(added.contact.identityKey).toBe(bob.registration.keys.identityKey);
    await expect(alice.api.messages.send({ conversationId: aliceConv, text: 'x' })).rejects.toMatchObject({ code: 'IDENTITY_CHANGED' });

    const sn = await alice.api.verify.safetyNumber({ username: 'bob' });
    await expect(bob2.api.verify.safetyNumber({ username: 'alice' })).rejects.toMatchObject({ code: 'UNKNOWN_CONTACT' }); // not yet
    const verified = await alice.api.verify.setVerified({ username: 'bob', verified: true });
    expect(verified).toMatchObject({ identityChanged: false, verified: true, identityKey: bob2.registration.keys.identityKey });

    await alice.api.messages.send({ conversationId: aliceConv, text: 'hello new bob' });
    const got = await deliver(alice, bob2, clock);
    expect(got.map((r) => r.message?.text)).toEqual(['hello new bob']);
    expect((await bob2.api.verify.safetyNumber({ username: 'alice' })).digits).toBe(sn.digits);
  });

  it('a second change while one is pending replaces it', async () => {
    const bob2 = await reinstalledBob();
    await bob2.api.messages.send({ conversationId: await addContact(bob2, alice), text: 'second bob' });
    await deliver(bob2, alice, clock);
    const bob3 = await reinstalledBob();
    await bob3.api.messages.send({ conversationId: await addContact(bob3, alice), text: 'third bob' });
    await deliver(bob3, alice, clock);
    const accepted = await alice.api.verify.acceptIdentity({ username: 'bob' });
    expect(accepted.identityKey).toBe(bob3.registration.keys.identityKey);
    await alice.api.messages.send({ conversationId: aliceConv, text: 'to the third' });
    expect((await deliver(alice, bob3, clock)).map((r) => r.message?.text)).toEqual(['to the third']);
  });
});
