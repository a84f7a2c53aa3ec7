// Group membership as a log of changes, and the wire payloads of groups. Pure: no store, no
// crypto. Every device that holds the same SET of changes computes the same group, whatever
// order the changes arrived in: changes are applied in the total order (v, by, id), and each is
// checked against the state it is applied to (only admins change membership, name and admins;
// anyone may leave), so concurrent conflicting changes resolve identically everywhere.
import { z } from 'zod';
import { GroupIdSchema, GroupNameSchema, MAX_GROUP_MEMBERS } from '../../../shared/ipc/channels/groups.js';

export { MAX_GROUP_MEMBERS };
/** Most changes one control payload carries (a welcome carries the whole log). */
export const MAX_GROUP_CHANGES = 5000;

// ---- wire payloads (members of PayloadSchema in payload.ts) -------------------------------
// Group control and group messages travel inside the pairwise sessions like every payload, so
// the relay never sees a group id, a name or a member list.

// GroupIdSchema: shared by the members; random; seen only inside ciphertext.
const GroupUsername = z.string().min(1).max(64);
const changeBase = {
  /** random (uuid); with (v, by) it orders the log the same way on every device */
  id: z.string().uuid(),
  /** 1 for create; otherwise 1 + the highest version the author knew */
  v: z.number().int().min(1).max(2 ** 31),
  by: GroupUsername,
  at: z.number().int().nonnegative(),
};
export const GroupChangeSchema = z.discriminatedUnion('op', [
  z.object({ ...changeBase, op: z.literal('create'), name: GroupNameSchema, members: z.array(GroupUsername).min(1).max(MAX_GROUP_MEMBERS) }),
  z.object({ ...changeBase, op: z.literal('add'), members: z.array(GroupUsername).min(1).max(MAX_GROUP_MEMBERS) }),
  z.object({ ...changeBase, op: z.literal('remove'), member: GroupUsername }),
  z.object({ ...changeBase, op: z.literal('leave') }),
  z.object({ ...changeBase, op: z.literal('rename'), name: GroupNameSchema }),
  z.object({ ...changeBase, op: z.literal('admin'), member: GroupUsername, admin: z.boolean() }),
]);
export type GroupChange = z.infer<typeof GroupChangeSchema>;
export type GroupOp = GroupChange['op'];

/** Membership changes. `welcome`: the whole log, from an admin to a member it added (taken on the adder's word). */
export const GroupControlPayloadSchema = z.object({
  v: z.literal(1),
  type: z.literal('group-ctl'),
  g: GroupIdSchema,
  welcome: z.boolean(),
  changes: z.array(GroupChangeSchema).min(1).max(MAX_GROUP_CHANGES),
});
export type GroupControlPayload = z.infer<typeof GroupControlPayloadSchema>;

const B64 = /^[A-Za-z0-9_-]*$/;
/**
 * A group message: `c` is the sender-key ciphertext (identical for every member; each copy
 * travels in its own pairwise session), `k` our chain's distribution when this device lacks it.
 */
export const GroupMessagePayloadSchema = z.object({
  v: z.literal(1),
  type: z.literal('group-msg'),
  g: GroupIdSchema,
  k: z.string().max(200).regex(B64).optional(),
  c: z.string().min(1).max(350_000).regex(B64),
});
export type GroupMessagePayload = z.infer<typeof GroupMessagePayloadSchema>;

// ---- the computed group -------------------------------------------------------------------

export interface GroupState {
  name: string;
  creator: string;
  /** username -> admin */
  members: Map<string, boolean>;
  /** the highest version in the log (the next change gets version + 1) */
  version: number;
  /** ids of the changes that took effect (the others were not allowed where they fell in the order) */
  effective: Set<string>;
}

/** The total order every device applies changes in: (version, author, id). */
export function compareChanges(a: GroupChange, b: GroupChange): number {
  if (a.v !== b.v) return a.v - b.v;
  if (a.by !== b.by) return a.by < b.by ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** The group a set of changes describes (duplicates by id count once); null without a valid create. */
export function computeGroup(changes: readonly GroupChange[]): GroupState | null {
  const unique = new Map<string, GroupChange>();
  for (const c of changes) if (!unique.has(c.id)) unique.set(c.id, c);
  const ordered = [...unique.values()].sort(compareChanges);
  let state: GroupState | null = null;
  let version = 0;
  for (const c of ordered) {
    version = Math.max(version, c.v);
    if (c.op === 'create') {
      // One create per group: the first in the order; it must open the log (v = 1).
      if (state !== null || c.v !== 1) continue;
      const members = new Map<string, boolean>();
      members.set(c.by, true);
      for (const m of c.members) if (members.size < MAX_GROUP_MEMBERS && !members.has(m)) members.set(m, false);
      state = { name: c.name, creator: c.by, members, version: 0, effective: new Set([c.id]) };
      continue;
    }
    if (state === null || c.v < 2) continue;
    if (apply(state, c)) state.effective.add(c.id);
  }
  if (state) state.version = version;
  return state;
}

/** Applies one change if it is allowed; returns whether it changed anything. */
function apply(s: GroupState, c: GroupChange): boolean {
  const isAdmin = s.members.get(c.by) === true;
  switch (c.op) {
    case 'create':
      return false;
    case 'add': {
      if (!isAdmin) return false;
      const fresh = [...new Set(c.members)].filter((m) => !s.members.has(m));
      // All or nothing, so a cap hit resolves the same way everywhere.
      if (fresh.length === 0 || s.members.size + fresh.length > MAX_GROUP_MEMBERS) return false;
      for (const m of fresh) s.members.set(m, false);
      return true;
    }
    case 'remove':
      if (!isAdmin || c.member === c.by || !s.members.has(c.member)) return false;
      s.members.delete(c.member);
      ensureAdmin(s);
      return true;
    case 'leave':
      if (!s.members.has(c.by)) return false;
      s.members.delete(c.by);
      ensureAdmin(s);
      return true;
    case 'rename':
      if (!isAdmin || c.name === s.name) return false;
      s.name = c.name;
      return true;
    case 'admin': {
      if (!isAdmin || !s.members.has(c.member) || s.members.get(c.member) === c.admin) return false;
      // Never leave a group without an admin by revoking.
      if (!c.admin && [...s.members.values()].filter(Boolean).length <= 1) return false;
      s.members.set(c.member, c.admin);
      return true;
    }
  }
}

/** When the last admin goes, the first remaining member (by username) becomes admin: the same choice everywhere. */
function ensureAdmin(s: GroupState): void {
  if (s.members.size === 0 || [...s.members.values()].some(Boolean)) return;
  const first = [...s.members.keys()].sort()[0];
  if (first !== undefined) s.members.set(first, true);
}

/** Members sorted by username, for storing and showing. */
export function memberList(state: GroupState): { username: string; admin: boolean }[] {
  return [...state.members.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([username, admin]) => ({ username, admin }));
}

/** A one-line English description of a change, for the CLI and as the system message's text. */
export function describeChange(c: GroupChange, me: string): string {
  const who = (name: string) => (name === me ? 'you' : name);
  const actor = c.by === me ? 'You' : c.by;
  switch (c.op) {
    case 'create':
      return `${actor} created the group “${c.name}”`;
    case 'add':
      return `${actor} added ${c.members.map(who).join(', ')}`;
    case 'remove':
      return `${actor} removed ${who(c.member)}`;
    case 'leave':
      return `${actor} left the group`;
    case 'rename':
      return `${actor} renamed the group to “${c.name}”`;
    case 'admin':
      return c.admin ? `${actor} made ${who(c.member)} an admin` : `${actor} removed ${who(c.member)} as admin`;
  }
}
