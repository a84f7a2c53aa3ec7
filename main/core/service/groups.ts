// The core's groups area: handlers for the channels in shared/ipc/channels/groups.ts, and the
// group parts of sending and receiving (core.ts delegates to sendGroupText / receiveGroupPayload).
//
// How a group travels (docs/PROTOCOL.md, "Groups"):
// - Membership is a log of changes (group-log.ts) sent as `group-ctl` payloads inside the
//   pairwise sessions, to the members before and after the change. A member added gets the whole
//   log (a welcome) from the admin who added it; every other change is accepted only from its
//   author. Whoever learns of an added member sends it its own changes too, so a change made
//   concurrently with the add still reaches the newcomer, and all devices converge.
// - A message is encrypted ONCE with our sender key (crypto/sender-keys.ts); the same ciphertext
//   then goes to every member device as a `group-msg` payload inside that device's pairwise
//   session. So each envelope body is unique ciphertext: the relay cannot tell a group message
//   from a 1:1 message or link the copies. Cost per device: one ratchet step + an AEAD over
//   ~the message size (microseconds), on top of the one sender-key encryption and signature.
// - When anyone leaves or is removed, every remaining member drops its sender key; the next send
//   makes a fresh one and hands it (inside the pairwise sessions) only to current members.
import { randomUUID } from 'node:crypto';
import { fromBase64url, toBase64url } from '../../../shared/encoding/base64url.js';
import type { GroupEvent, Message } from '../../../shared/ipc/contract.js';
import { RefugeError, type EnvelopeResult, type ParsedRequestOf } from '../../../shared/ipc/contract.js';
import type { Group, groupsChannels } from '../../../shared/ipc/channels/groups.js';
import { canonicalUsername, isValidUsername } from '../../../shared/protocol/username.js';
import {
  createSenderKey,
  CryptoError,
  deserializeSenderKey,
  deserializeSession,
  encryptMessage,
  groupDecrypt,
  groupEncrypt,
  initiateSession,
  processSenderKeyDistribution,
  senderKeyDistribution,
  senderKeyMessageInfo,
  serializeSenderKey,
  serializeSession,
  verifyBundle,
  type IdentityKeyPair,
} from '../crypto/index.js';
import type { ConversationRow, MessageRow, OutboxInput, Store } from '../store/index.js';
import {
  addResends,
  clearKeysSent,
  clearResends,
  deleteSenderKeysExcept,
  getGroup,
  getGroupByConversation,
  getGroupChangeBody,
  getSenderKey,
  groupEvents,
  insertGroup,
  insertGroupChange,
  keysSent,
  listGroupChanges,
  listGroupMembers,
  listGroups,
  listResends,
  markGroupEvent,
  markKeySent,
  putSenderKey,
  saveGroupState,
  setOwnSenderKey,
  type GroupRow,
} from '../store/groups.js';
import { pendingIdentityKey } from '../store/social.js';
import { recordGroupRecipients } from '../store/group-receipts.js';
import type { AreaHandlers, CoreContext } from './context.js';
import {
  computeGroup,
  describeChange,
  GroupChangeSchema,
  memberList,
  type GroupChange,
  type GroupControlPayload,
  type GroupMessagePayload,
  type GroupState,
} from './group-log.js';
import { decodePayload, encodePayload, PayloadError, type Payload } from './payload.js';
import { settleGroupReceipts } from './presence.js';
import { toMessage } from './views.js';

/** A change as the user asks for it; id, version, author and time are filled in. */
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type ChangeInput = DistributiveOmit<GroupChange, 'id' | 'v' | 'by' | 'at'>;

/** `onSent`: a group message of ours went out in that conversation (core.ts resets its typing throttle). */
export function groupsHandlers(ctx: CoreContext, onSent: (conversationId: string) => void = () => {}): AreaHandlers<keyof typeof groupsChannels> {
  const open = () => {
    const store = ctx.requireReady();
    const account = ctx.requireAccount(store);
    return { store, me: account.username, deviceId: account.deviceId, identity: ctx.identity(store), now: ctx.now() };
  };
  const change = (req: { groupId: string }, input: ChangeInput): Group => {
    const env = open();
    return env.store.transaction(() => {
      const group = requireGroup(env.store, req.groupId);
      commitChange(env, group, input);
      return groupView(env.store, env.me, requireGroup(env.store, req.groupId));
    });
  };
  return {
    'groups.create': (req) => createGroup(open(), req.name, req.members),
    'groups.list': () => {
      const { store, me } = open();
      return listGroups(store).map((g) => groupView(store, me, g));
    },
    'groups.info': (req) => {
      const { store, me } = open();
      return groupView(store, me, requireGroup(store, req.groupId));
    },
    'groups.add': (req) => {
      const username = checkedUsername(req.username);
      requireSession(ctx.requireReady(), username);
      return change(req, { op: 'add', members: [username] });
    },
    'groups.remove': (req) => change(req, { op: 'remove', member: checkedUsername(req.username) }),
    'groups.leave': (req) => change(req, { op: 'leave' }),
    'groups.rename': (req) => change(req, { op: 'rename', name: req.name }),
    'groups.setAdmin': (req) => change(req, { op: 'admin', member: checkedUsername(req.username), admin: req.admin }),
    'groups.send': (req) => {
      const env = open();
      const sent = sendGroupMessage(env, requireGroup(env.store, req.groupId), req.text);
      onSent(sent.conversationId);
      return sent;
    },
    'groups.missingSessions': (req) => {
      const { store, me } = open();
      const names = new Set<string>();
      for (const u of req.usernames ?? []) names.add(checkedUsername(u));
      if (req.groupId !== undefined) for (const m of listGroupMembers(store, requireGroup(store, req.groupId).id)) names.add(m.username);
      names.delete(me);
      return { usernames: [...names].filter((u) => store.listSessionDevices(u).length === 0).sort() };
    },
    'groups.openSessions': (req) => openSessions(open(), req.bundles),
  };
}

// ---- environment and views ----------------------------------------------------------------

/** What the group functions need from the core (core.ts builds it from the unlocked store). */
export interface GroupEnv {
  store: Store;
  me: string;
  deviceId: number;
  identity: IdentityKeyPair;
  now: number;
}

function checkedUsername(raw: string): string {
  const name = canonicalUsername(raw);
  if (!isValidUsername(name)) throw new RefugeError('INVALID_USERNAME', `"${raw}" is not a valid username.`);
  return name;
}

function requireGroup(store: Store, groupId: string): GroupRow {
  const group = getGroup(store, groupId);
  if (!group) throw new RefugeError('UNKNOWN_GROUP', 'That group does not exist on this device.');
  return group;
}

function requireSession(store: Store, username: string): void {
  if (store.listSessionDevices(username).length === 0) {
    throw new RefugeError('NO_SESSION', `There is no secure session with ${username} yet.`);
  }
  if (pendingIdentityKey(store, username) !== null) {
    throw new RefugeError('IDENTITY_CHANGED', `${username}'s safety number has changed. Verify it before continuing.`);
  }
}

function groupView(store: Store, me: string, group: GroupRow): Group {
  const members = listGroupMembers(store, group.id);
  return {
    groupId: group.id,
    conversationId: group.conversationId,
    name: group.name,
    members,
    member: group.member,
    admin: group.member && members.some((m) => m.username === me && m.admin),
    version: group.version,
    createdAt: group.createdAt,
  };
}


function toEvent(change: GroupChange, me: string): GroupEvent {
  const name = (u: string) => (u === me ? 'me' : u);
  const actor = name(change.by);
  switch (change.op) {
    case 'create':
      return { kind: 'create', actor, name: change.name, members: change.members.filter((m) => m !== change.by).map(name) };
    case 'add':
      return { kind: 'add', actor, members: change.members.map(name) };
    case 'remove':
      return { kind: 'remove', actor, members: [name(change.member)] };
    case 'leave':
      return { kind: 'leave', actor };
    case 'rename':
      return { kind: 'rename', actor, name: change.name };
    case 'admin':
      return { kind: 'admin', actor, members: [name(change.member)], admin: change.admin };
  }
}

function parseChange(body: string): GroupChange | null {
  try {
    const parsed = GroupChangeSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

function loadChanges(store: Store, groupId: string): GroupChange[] {
  return listGroupChanges(store, groupId)
    .map(parseChange)
    .filter((c): c is GroupChange => c !== null);
}

/** For core.ts `messages.list` and envelope results: marks membership events with `system`. */
export function withGroupEvents(store: Store, me: string, messages: Message[]): Message[] {
  const events = groupEvents(
    store,
    messages.map((m) => m.id),
  );
  if (events.size === 0) return messages;
  return messages.map((m) => {
    const body = events.get(m.id);
    const change = body === undefined ? null : parseChange(body);
    return change ? { ...m, system: toEvent(change, me) } : m;
  });
}

/** For core.ts `conversations.list`: what a summary says about its kind. */
export function conversationKind(store: Store, conversation: ConversationRow): { kind: 'direct' | 'group'; groupId?: string; name?: string } {
  if (conversation.kind !== 'group') return { kind: 'direct' };
  const group = getGroupByConversation(store, conversation.id);
  return group ? { kind: 'group', groupId: group.id, name: group.name } : { kind: 'group' };
}

// ---- pairwise fan-out -----------------------------------------------------------------------

/**
 * Encrypts `plaintext` for every device of `username` we hold a session with (nothing for a
 * member whose new identity the user has not accepted). Call inside a transaction.
 */
function pairwise(store: Store, username: string, plaintext: (deviceId: number) => Uint8Array, messageId: string | null, now: number): OutboxInput[] {
  if (pendingIdentityKey(store, username) !== null) return [];
  const out: OutboxInput[] = [];
  for (const deviceId of store.listSessionDevices(username)) {
    const record = store.getSession(username, deviceId);
    if (!record) continue;
    const { session, ciphertext } = encryptMessage(deserializeSession(record), plaintext(deviceId), now);
    store.putSession(username, deviceId, serializeSession(session));
    out.push({ envelopeId: randomUUID(), messageId, to: username, toDeviceId: deviceId, body: toBase64url(ciphertext), createdAt: now });
  }
  return out;
}

function sendControl(env: GroupEnv, groupId: string, to: string, changes: GroupChange[], welcome: boolean): void {
  if (to === env.me || changes.length === 0) return;
  const payload: GroupControlPayload = { v: 1, type: 'group-ctl', g: groupId, welcome, changes };
  const plaintext = encodePayload(payload);
  env.store.enqueueOutbox(pairwise(env.store, to, () => plaintext, null, env.now));
}

/** Sends our own changes still owed to members who joined concurrently, where a session exists now. */
function flushResends(env: GroupEnv, group: GroupRow): void {
  for (const [username, ids] of listResends(env.store, group.id)) {
    if (env.store.listSessionDevices(username).length === 0) continue;
    const changes = ids
      .map((id) => getGroupChangeBody(env.store, group.id, id))
      .map((body) => (body === undefined ? null : parseChange(body)))
      .filter((c): c is GroupChange => c !== null);
    sendControl(env, group.id, username, changes, false);
    clearResends(env.store, group.id, username);
  }
}

// ---- applying changes -----------------------------------------------------------------------

/**
 * Stores `fresh` changes (already authorised), recomputes the group and applies what follows:
 * system messages for the changes that took effect, our key rotation when anyone left, the
 * chains of departed members dropped and, for `received` changes, our own changes owed to the
 * members they added (our own adds send the newcomer the whole log instead). Call inside a transaction.
 */
interface Applied {
  before: GroupState | null;
  after: GroupState | null;
  /** the system messages stored for the changes that took effect */
  events: Message[];
}

function applyChanges(env: GroupEnv, group: GroupRow, fresh: GroupChange[], received: boolean): Applied {
  const { store, me, now } = env;
  const known = loadChanges(store, group.id);
  const before = computeGroup(known);
  const inserted = fresh.filter((c) => insertGroupChange(store, group.id, c, JSON.stringify(c)));
  const events: Message[] = [];
  if (inserted.length === 0) return { before, after: before, events };
  const after = computeGroup([...known, ...inserted]);
  if (!after) {
    saveGroupState(store, group.id, { name: group.name, version: Math.max(group.version, ...inserted.map((c) => c.v)), member: false, members: [] });
    return { before, after, events };
  }
  const isMember = after.members.has(me);
  saveGroupState(store, group.id, { name: after.name, version: after.version, member: isMember, members: memberList(after) });

  for (const c of inserted) {
    if (!after.effective.has(c.id)) continue;
    const outgoing = c.by === me;
    const row: MessageRow = {
      id: c.id,
      conversationId: group.conversationId,
      sender: outgoing ? 'me' : c.by,
      outgoing,
      text: describeChange(c, me),
      sentAt: c.at,
      receivedAt: outgoing ? null : now,
      status: outgoing ? 'sent' : 'received',
    };
    if (store.insertMessage(row)) {
      markGroupEvent(store, row.id, group.id, JSON.stringify(c), !outgoing);
      events.push({ ...toMessage(row), system: toEvent(c, me) });
    }
  }

  const beforeMembers = before ? [...before.members.keys()] : [];
  const departed = beforeMembers.filter((m) => !after.members.has(m));
  if (departed.length > 0 || !isMember) {
    // Nobody who left may read what we send next: a fresh chain, handed only to current members.
    setOwnSenderKey(store, group.id, null);
    clearKeysSent(store, group.id);
  }
  deleteSenderKeysExcept(store, group.id, isMember ? [...after.members.keys()] : []);
  // Those who left no longer hold our messages back from 'delivered' / 'read' (presence.ts).
  if (departed.length > 0) settleGroupReceipts(store, group.id);

  if (isMember && received) {
    const added = [...after.members.keys()].filter((m) => m !== me && !(before?.members.has(m) ?? false));
    const ownIds = listGroupChanges(store, group.id, me)
      .map(parseChange)
      .filter((c): c is GroupChange => c !== null)
      .map((c) => c.id);
    if (ownIds.length > 0) for (const m of added) addResends(store, group.id, m, ownIds);
  }
  return { before, after, events };
}

/** One change of ours: validated by the log rules, stored, and sent to the members before and after it. */
function commitChange(env: GroupEnv, group: GroupRow, input: ChangeInput): void {
  if (!group.member) throw new RefugeError('NOT_A_MEMBER', 'You are no longer a member of this group.');
  // Clear refusals first; the log rules below are the final word (and the same on every device).
  const members = new Map(listGroupMembers(env.store, group.id).map((m) => [m.username, m.admin]));
  if (input.op !== 'leave' && members.get(env.me) !== true) throw new RefugeError('NOT_ADMIN', 'Only an admin of this group can do that.');
  if (input.op === 'add' && input.members.every((m) => members.has(m))) throw new RefugeError('ALREADY_MEMBER', 'They are already in this group.');
  if ((input.op === 'remove' || input.op === 'admin') && !members.has(input.member)) throw new RefugeError('NOT_IN_GROUP', `${input.member} is not in this group.`);
  if (input.op === 'remove' && input.member === env.me) throw new RefugeError('BAD_REQUEST', 'To remove yourself, leave the group.');
  const change = GroupChangeSchema.parse({ ...input, id: randomUUID(), v: group.version + 1, by: env.me, at: env.now });
  const { before, after } = applyChanges(env, group, [change], false);
  if (!after || !after.effective.has(change.id)) {
    throw new RefugeError('NOT_ALLOWED', 'That change is not allowed in this group (a group keeps at least one admin).');
  }
  // The newcomer gets the whole log from us (we are the admin adding them); it needs no resend.
  const newcomers = change.op === 'add' ? change.members.filter((m) => !(before?.members.has(m) ?? false)) : [];
  for (const m of newcomers) clearResends(env.store, group.id, m);
  const recipients = new Set([...(before?.members.keys() ?? []), ...after.members.keys()]);
  const log = newcomers.length > 0 ? loadChanges(env.store, group.id) : [];
  for (const to of recipients) {
    if (newcomers.includes(to)) sendControl(env, group.id, to, log, true);
    else sendControl(env, group.id, to, [change], false);
  }
  const current = getGroup(env.store, group.id);
  if (current) flushResends(env, current);
}

function createGroup(env: GroupEnv, name: string, rawMembers: string[]): { groupId: string; conversationId: string } {
  const { store, me, now } = env;
  const members = [...new Set(rawMembers.map(checkedUsername))].filter((m) => m !== me);
  if (members.length === 0) throw new RefugeError('BAD_REQUEST', 'A group needs at least one other member.');
  for (const m of members) requireSession(store, m);
  const groupId = randomUUID();
  return store.transaction(() => {
    const group = insertGroup(store, { id: groupId, name, createdAt: now });
    const create = GroupChangeSchema.parse({ id: randomUUID(), v: 1, by: me, at: now, op: 'create', name, members: [me, ...members] });
    applyChanges(env, group, [create], false);
    for (const m of members) sendControl(env, groupId, m, [create], true);
    return { groupId, conversationId: group.conversationId };
  });
}

function openSessions(env: GroupEnv, bundles: ParsedRequestOf<'groups.openSessions'>['bundles']): { username: string } {
  const { store, me, identity, now } = env;
  const first = bundles[0];
  if (!first) throw new RefugeError('BAD_REQUEST', 'No prekey bundle was given.');
  const username = checkedUsername(first.username);
  if (username === me) throw new RefugeError('SELF_CONTACT', 'You cannot open a session with yourself.');
  for (const bundle of bundles) {
    if (canonicalUsername(bundle.username) !== username || bundle.identityKey !== first.identityKey) {
      throw new RefugeError('BAD_BUNDLE', 'The relay returned inconsistent keys for this user.');
    }
    verifyBundle(bundle);
  }
  const identityKey = fromBase64url(first.identityKey);
  const known = store.getContact(username);
  if (known && !sameBytes(known.identityKey, identityKey)) {
    throw new RefugeError('IDENTITY_CHANGED', `${username}'s safety number has changed. Verify it before continuing.`);
  }
  return store.transaction(() => {
    if (!known) store.upsertContact({ username, identityKey, verified: false, addedAt: now });
    const existing = new Set(store.listSessionDevices(username));
    for (const bundle of bundles) {
      if (!existing.has(bundle.deviceId)) store.putSession(username, bundle.deviceId, serializeSession(initiateSession(identity, bundle, now)));
    }
    return { username };
  });
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

// ---- group messages ------------------------------------------------------------------------

function senderKeyContext(groupId: string, sender: string, deviceId: number): Uint8Array {
  return new TextEncoder().encode(`${groupId}\u0000${sender}\u0000${deviceId}`);
}

/** core.ts: `messages.send` on a group conversation. */
export function sendGroupText(env: GroupEnv, conversationId: string, text: string): Message {
  const group = getGroupByConversation(env.store, conversationId);
  if (!group) throw new RefugeError('UNKNOWN_GROUP', 'That group does not exist on this device.');
  return sendGroupMessage(env, group, text);
}

function sendGroupMessage(env: GroupEnv, group: GroupRow, text: string): Message {
  const { store, me, now } = env;
  if (!group.member) throw new RefugeError('NOT_A_MEMBER', 'You are no longer a member of this group.');
  const row: MessageRow = {
    id: randomUUID(),
    conversationId: group.conversationId,
    sender: 'me',
    outgoing: true,
    text,
    sentAt: now,
    receivedAt: null,
    status: 'sending',
  };
  return store.transaction(() => {
    flushResends(env, group);
    let own = group.ownKey ? deserializeSenderKey(group.ownKey) : null;
    if (!own) {
      own = createSenderKey();
      clearKeysSent(store, group.id);
    }
    const distribution = toBase64url(senderKeyDistribution(own));
    const inner = encodePayload({ v: 1, type: 'text', id: row.id, text, sentAt: now });
    const sealed = groupEncrypt(own, inner, senderKeyContext(group.id, me, env.deviceId));
    setOwnSenderKey(store, group.id, serializeSenderKey(sealed.state));
    const c = toBase64url(sealed.ciphertext);
    // Two plaintexts for the whole fan-out: with our chain's distribution (devices that lack it) and without.
    const withKey = encodePayload({ v: 1, type: 'group-msg', g: group.id, k: distribution, c } satisfies GroupMessagePayload);
    const withoutKey = encodePayload({ v: 1, type: 'group-msg', g: group.id, c } satisfies GroupMessagePayload);
    const sent = keysSent(store, group.id);
    const envelopes: OutboxInput[] = [];
    /** the members it goes to: their receipts decide 'delivered' and 'read' */
    const recipients: string[] = [];
    for (const member of listGroupMembers(store, group.id)) {
      if (member.username === me) continue;
      const copies = pairwise(
        store,
        member.username,
        (deviceId) => {
          if (sent.get(`${member.username}\u0000${deviceId}`) === own.keyId) return withoutKey;
          markKeySent(store, group.id, member.username, deviceId, own.keyId);
          return withKey;
        },
        row.id,
        now,
      );
      if (copies.length > 0) recipients.push(member.username);
      envelopes.push(...copies);
    }
    // Alone in the group (or nobody reachable): nothing to wait for.
    if (envelopes.length === 0) row.status = 'sent';
    store.insertMessage(row);
    recordGroupRecipients(store, row.id, recipients);
    store.enqueueOutbox(envelopes);
    return toMessage(row);
  });
}

// ---- receiving ------------------------------------------------------------------------------

export type GroupPayload = Extract<Payload, { type: 'group-ctl' | 'group-msg' }>;

export function isGroupPayload(payload: Payload): payload is GroupPayload {
  return payload.type === 'group-ctl' || payload.type === 'group-msg';
}

/**
 * core.ts `receiveOne`: a group payload that arrived (authenticated) in `from`'s pairwise
 * session. Runs inside the receive transaction; crypto failures become 'rejected' and change
 * nothing here (the pairwise session has already advanced, as for any authenticated envelope).
 */
export function receiveGroupPayload(env: GroupEnv, envelope: { id: string; from: string; fromDeviceId: number }, payload: GroupPayload): EnvelopeResult {
  const reject = (reason: string): EnvelopeResult => ({ id: envelope.id, outcome: 'rejected', reason });
  const from = canonicalUsername(envelope.from);
  if (payload.type === 'group-ctl') return receiveControl(env, envelope.id, from, payload) ?? reject('GROUP_CHANGE_REFUSED');
  try {
    return receiveMessage(env, envelope.id, from, envelope.fromDeviceId, payload) ?? reject('NOT_A_MEMBER');
  } catch (error) {
    if (error instanceof CryptoError) return reject(error.code);
    if (error instanceof PayloadError) return reject('BAD_PAYLOAD');
    throw error;
  }
}

/** How far ahead of our log a change's version may be (a member cannot push versions to the limit). */
const MAX_VERSION_AHEAD = 10_000;

function receiveControl(env: GroupEnv, envelopeId: string, from: string, payload: GroupControlPayload): EnvelopeResult | null {
  const { store, me } = env;
  const canonical = (u: string) => isValidUsername(u) && canonicalUsername(u) === u;
  const changes = payload.changes.filter((c) => canonical(c.by) && (c.op !== 'create' && c.op !== 'add' ? true : c.members.every(canonical)));
  if (changes.length !== payload.changes.length) return null;
  let group = getGroup(store, payload.g);
  const known = group ? loadChanges(store, group.id) : [];
  // A group has one create, the first we learned of: a later one (a member forging a create
  // that sorts first, to make itself creator and admin) is never taken.
  const storedCreate = known.find((c) => c.op === 'create');
  const fresh = changes.filter((c) => c.op !== 'create' || storedCreate === undefined || c.id === storedCreate.id);

  let accepted: GroupChange[];
  if (payload.welcome && !(group?.member ?? false)) {
    // Joining (or rejoining): take the log on the word of the admin who added us, if their
    // change adding us takes effect in it.
    const state = computeGroup([...known, ...fresh]);
    const addsMe = fresh.some(
      (c) => c.by === from && state?.effective.has(c.id) === true && (c.op === 'create' || c.op === 'add') && c.members.includes(me),
    );
    if (!state || !state.members.has(me) || !addsMe) return null;
    accepted = fresh;
  } else {
    // Anything else only from its author, never a create (that comes only in a welcome), and
    // not absurdly far ahead of our version.
    if (!group) return null;
    const limit = group.version + MAX_VERSION_AHEAD;
    accepted = fresh.filter((c) => c.by === from && c.op !== 'create' && c.v <= limit);
    if (accepted.length === 0) return null;
  }
  if (!group) {
    const create = accepted.find((c) => c.op === 'create');
    group = insertGroup(store, { id: payload.g, name: create?.op === 'create' ? create.name : 'Group', createdAt: create?.at ?? env.now });
  }
  const { events } = applyChanges(env, group, accepted, true);
  const current = getGroup(store, group.id);
  if (current?.member) flushResends(env, current);
  // One envelope, one message in the result: the latest event (a welcome may carry many).
  const latest = events[events.length - 1];
  return latest ? { id: envelopeId, outcome: 'stored', message: latest } : { id: envelopeId, outcome: 'stored' };
}

function receiveMessage(env: GroupEnv, envelopeId: string, from: string, fromDeviceId: number, payload: GroupMessagePayload): EnvelopeResult | null {
  const { store, now } = env;
  const group = getGroup(store, payload.g);
  if (!group || !group.member) return null;
  if (!listGroupMembers(store, group.id).some((m) => m.username === from)) return null;
  const ciphertext = fromBase64url(payload.c);
  const { keyId } = senderKeyMessageInfo(ciphertext);
  const stored = getSenderKey(store, group.id, from, fromDeviceId, keyId);
  let state = stored ? deserializeSenderKey(stored) : null;
  if (!state && payload.k !== undefined) {
    const distributed = processSenderKeyDistribution(fromBase64url(payload.k));
    if (distributed.keyId === keyId) state = distributed;
  }
  if (!state) throw new CryptoError('WRONG_SESSION', 'no sender key for this chain');
  const opened = groupDecrypt(state, ciphertext, senderKeyContext(group.id, from, fromDeviceId), now);
  const inner = decodePayload(opened.plaintext);
  if (inner.type !== 'text') throw new PayloadError('only text travels in group messages');
  putSenderKey(store, group.id, from, fromDeviceId, keyId, serializeSenderKey(opened.state), now);
  const row: MessageRow = {
    id: inner.id,
    conversationId: group.conversationId,
    sender: from,
    outgoing: false,
    text: inner.text,
    sentAt: inner.sentAt,
    receivedAt: now,
    status: 'received',
  };
  if (!store.insertMessage(row)) return { id: envelopeId, outcome: 'duplicate' };
  return { id: envelopeId, outcome: 'stored', message: toMessage(row) };
}
