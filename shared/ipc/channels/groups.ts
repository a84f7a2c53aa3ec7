// Contract channels of the groups area (see shared/ipc/contract.ts): end-to-end encrypted group
// chats (Sender Keys; membership as encrypted control messages). A group's conversation appears
// in `conversations.list` with kind 'group'; its messages come from `messages.list`, and
// `messages.send` works on it too (the same as `groups.send`). Membership events are messages
// with `system` set. Before creating, adding or sending, run the sync flow `ensureSessions`
// (shared/sync/flows.ts): it opens pairwise sessions with members we have none with yet.
import { z } from 'zod';
import { PrekeyBundleSchema } from '../../protocol/keys.js';
import { channel, Empty } from '../channel.js';
import { MessageSchema, MessageText } from '../schemas.js';

/** Most members of a group, us included. */
export const MAX_GROUP_MEMBERS = 1000;

export const GroupIdSchema = z.string().uuid();
export const GroupNameSchema = z.string().trim().min(1).max(128);
const Username = z.string().min(1).max(64);

export const GroupMemberSchema = z.object({ username: z.string(), admin: z.boolean() });
export type GroupMember = z.infer<typeof GroupMemberSchema>;

export const GroupSchema = z.object({
  groupId: z.string(),
  conversationId: z.string(),
  name: z.string(),
  /** current members by username, us included while we are one */
  members: z.array(GroupMemberSchema),
  /** false after we left or were removed: the history stays, sending and changes are refused */
  member: z.boolean(),
  /** we may add, remove, rename and set admins */
  admin: z.boolean(),
  /** the membership version: grows with every change */
  version: z.number().int().nonnegative(),
  createdAt: z.number().int(),
});
export type Group = z.infer<typeof GroupSchema>;

const GroupRef = z.object({ groupId: GroupIdSchema });

export const groupsChannels = {
  'groups.create': channel(
    z.object({ name: GroupNameSchema, members: z.array(Username).min(1).max(MAX_GROUP_MEMBERS - 1) }),
    z.object({ groupId: z.string(), conversationId: z.string() }),
    'Creates a group with us as its admin and sends every member the (encrypted) creation. NO_SESSION if a member has no session yet (run ensureSessions first).',
  ),
  'groups.list': channel(Empty, z.array(GroupSchema), 'Every group we are or were in, by name.'),
  'groups.info': channel(GroupRef, GroupSchema, 'One group: name, members and admins, our role.'),
  'groups.add': channel(
    GroupRef.extend({ username: Username }),
    GroupSchema,
    'Admins: adds a member (they get the group history of membership, not of messages). NO_SESSION without a session (ensureSessions first).',
  ),
  'groups.remove': channel(
    GroupRef.extend({ username: Username }),
    GroupSchema,
    'Admins: removes a member. Every remaining member rotates its sender key before sending again, so the removed member reads nothing sent after.',
  ),
  'groups.leave': channel(GroupRef, GroupSchema, 'Leaves the group (the others rotate their keys). The history stays on this device.'),
  'groups.rename': channel(GroupRef.extend({ name: GroupNameSchema }), GroupSchema, 'Admins: renames the group.'),
  'groups.setAdmin': channel(
    GroupRef.extend({ username: Username, admin: z.boolean() }),
    GroupSchema,
    'Admins: grants or revokes admin rights (a group always keeps at least one admin).',
  ),
  'groups.send': channel(
    GroupRef.extend({ text: MessageText }),
    MessageSchema,
    'Encrypts once with our sender key and queues one pairwise-encrypted copy per member device, in one transaction. Members without a session are skipped (ensureSessions first).',
  ),
  'groups.missingSessions': channel(
    z.object({ groupId: GroupIdSchema.optional(), usernames: z.array(Username).max(MAX_GROUP_MEMBERS).optional() }),
    z.object({ usernames: z.array(z.string()) }),
    "Which of these users (or of the group's members) we have no pairwise session with yet.",
  ),
  'groups.openSessions': channel(
    z.object({ bundles: z.array(PrekeyBundleSchema).min(1).max(16) }),
    z.object({ username: z.string() }),
    "Verifies one user's prekey bundles from the relay and opens sessions (PQXDH), without opening a direct conversation. IDENTITY_CHANGED if a known contact's key differs.",
  ),
} as const;
