// What a backup holds: newline-delimited JSON records inside the encrypted stream, in a fixed
// order (backup, account, prekey*, contact*, conversation*, group*, group-member*, group-change*,
// group-resend*, message*, group-event*, group-receipt*, setting*, end), then zero padding to the end of the
// final chunk. Every record is validated with zod on import.
// Ratchet sessions are never part of a backup: restoring one would reuse message keys. For the
// same reason no sender key is either: not our own chain (a restored device starts a fresh one)
// and not the others' (they send theirs again once the restored device resets its sessions).
import { z } from 'zod';
import { GroupIdSchema, MAX_GROUP_MEMBERS } from '../../../shared/ipc/channels/groups.js';
import { GroupChangeSchema, type GroupChange } from '../service/group-log.js';
import { BackupError } from './errors.js';

/** A record longer than this is refused (a message is at most 64 Ki UTF-16 units, ≤ 384 KiB as JSON). */
export const MAX_RECORD_BYTES = 1024 * 1024;

const b64url = (max: number) => z.string().max(Math.ceil((max * 4) / 3) + 4).regex(/^[A-Za-z0-9_-]*$/);
const int = z.number().int().safe();
const count = z.number().int().nonnegative().safe();

/** Group counts are absent in backups made before groups were backed up (read as 0). */
export const CountsSchema = z
  .object({
    prekeys: count,
    contacts: count,
    conversations: count,
    messages: count,
    settings: count,
    groups: count.default(0),
    groupMembers: count.default(0),
    groupChanges: count.default(0),
    groupResends: count.default(0),
    groupEvents: count.default(0),
    /** schema 6+ (absent before: 0) */
    groupReceipts: count.default(0),
  })
  .strict();
export type Counts = z.output<typeof CountsSchema>;
export const COUNT_NAMES = ['prekeys', 'contacts', 'conversations', 'messages', 'settings', 'groups', 'groupMembers', 'groupChanges', 'groupResends', 'groupEvents', 'groupReceipts'] as const satisfies readonly (keyof Counts)[];

export function zeroCounts(): Counts {
  return { prekeys: 0, contacts: 0, conversations: 0, messages: 0, settings: 0, groups: 0, groupMembers: 0, groupChanges: 0, groupResends: 0, groupEvents: 0, groupReceipts: 0 };
}

export function sameCounts(a: Counts, b: Counts): boolean {
  return COUNT_NAMES.every((name) => a[name] === b[name]);
}

export const BackupInfoRecord = z
  .object({ type: z.literal('backup'), app: z.literal('refuge'), createdAt: int, counts: CountsSchema })
  .strict();

export const AccountRecord = z
  .object({
    type: z.literal('account'),
    username: z.string().min(1).max(64),
    deviceId: z.number().int().min(1).max(255),
    serverUrl: z.string().max(2048),
    identity: b64url(4096),
    registered: z.boolean(),
    createdAt: int,
    nextPrekeyId: z.number().int().nonnegative().max(0xffffffff),
  })
  .strict();

export const PrekeyRecord = z
  .object({
    type: z.literal('prekey'),
    kind: z.enum(['signed', 'onetime', 'kyber']),
    id: z.number().int().nonnegative().max(0xffffffff),
    record: b64url(8192),
    lastResort: z.boolean(),
  })
  .strict();

export const ContactRecord = z
  .object({
    type: z.literal('contact'),
    username: z.string().min(1).max(64),
    identityKey: b64url(64),
    verified: z.boolean(),
    addedAt: int,
  })
  .strict();

export const ConversationRecord = z
  .object({
    type: z.literal('conversation'),
    id: z.string().min(1).max(64),
    /** 'group' conversations have no peer; the store's CHECK refuses any other pairing */
    kind: z.enum(['direct', 'group']),
    peer: z.string().min(1).max(64).nullable(),
    createdAt: int,
    updatedAt: int,
    unreadCount: count,
    /** schema 4+; absent in backups of older schemas */
    muted: z.boolean().optional(),
  })
  .strict();

export const MessageRecord = z
  .object({
    type: z.literal('message'),
    id: z.string().min(1).max(64),
    conversationId: z.string().min(1).max(64),
    sender: z.string().min(1).max(64),
    outgoing: z.boolean(),
    text: z.string().max(64 * 1024),
    sentAt: int,
    receivedAt: int.nullable(),
    status: z.enum(['sending', 'sent', 'delivered', 'failed', 'received', 'read']),
    /** schema 4+: the id of the message this one quotes */
    replyTo: z.string().min(1).max(64).nullable().optional(),
    /** schema 4+: when the user read this incoming message (drives read receipts) */
    readAt: int.nullable().optional(),
  })
  .strict();

const Username = z.string().min(1).max(64);
/** A membership change as stored (JSON text); bounded by the largest change (an add of MAX_GROUP_MEMBERS names). */
const MAX_CHANGE_CHARS = 256 + MAX_GROUP_MEMBERS * 70;
const ChangeText = z.string().min(2).max(MAX_CHANGE_CHARS);

export const GroupRecord = z
  .object({
    type: z.literal('group'),
    id: GroupIdSchema,
    conversationId: z.string().min(1).max(64),
    name: z.string().min(1).max(128),
    version: z.number().int().nonnegative().max(2 ** 31),
    member: z.boolean(),
    createdAt: int,
  })
  .strict();

export const GroupMemberRecord = z
  .object({ type: z.literal('group-member'), groupId: GroupIdSchema, username: Username, admin: z.boolean() })
  .strict();

/** One change of a group's membership log; `body` must parse as that same change (checked on import). */
export const GroupChangeRecord = z
  .object({
    type: z.literal('group-change'),
    groupId: GroupIdSchema,
    id: z.string().uuid(),
    version: z.number().int().min(1).max(2 ** 31),
    author: Username,
    body: ChangeText,
  })
  .strict();

/** One of our own changes still owed to a member who joined concurrently (see groups.ts flushResends). */
export const GroupResendRecord = z
  .object({ type: z.literal('group-resend'), groupId: GroupIdSchema, username: Username, changeId: z.string().uuid() })
  .strict();

/** Marks a message (restored before it) as a membership event: the system line of `change`. */
export const GroupEventRecord = z
  .object({ type: z.literal('group-event'), messageId: z.string().min(1).max(64), groupId: GroupIdSchema, change: ChangeText })
  .strict();

/**
 * Who one of our outgoing group messages (restored before it) was sent to, and when that member's
 * delivery / read receipt came (store/group-receipts.ts). A read without a delivery is CORRUPT.
 */
export const GroupReceiptRecord = z
  .object({ type: z.literal('group-receipt'), messageId: z.string().min(1).max(64), username: Username, deliveredAt: int.nullable(), readAt: int.nullable() })
  .strict();

/** Parses a stored change (JSON text) with the group log's own schema; null if it is not one. */
export function parseChangeText(body: string): GroupChange | null {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return null;
  }
  const parsed = GroupChangeSchema.safeParse(value);
  return parsed.success ? parsed.data : null;
}

const SettingValue = z.union([z.string().max(MAX_RECORD_BYTES), z.number(), z.null(), z.object({ b64: b64url(MAX_RECORD_BYTES / 2) }).strict()]);
export const SettingRecord = z
  .object({ type: z.literal('setting'), values: z.record(z.string().min(1).max(64), SettingValue) })
  .strict();

export const EndRecord = z.object({ type: z.literal('end'), counts: CountsSchema }).strict();

export const RecordSchema = z.discriminatedUnion('type', [
  BackupInfoRecord,
  AccountRecord,
  PrekeyRecord,
  ContactRecord,
  ConversationRecord,
  GroupRecord,
  GroupMemberRecord,
  GroupChangeRecord,
  GroupResendRecord,
  MessageRecord,
  GroupEventRecord,
  GroupReceiptRecord,
  SettingRecord,
  EndRecord,
]);
export type BackupRecord = z.infer<typeof RecordSchema>;
export type RecordType = BackupRecord['type'];

/** The order records must come in; each type may repeat (except backup/account/end) but never go back. */
export const RECORD_ORDER: readonly RecordType[] = [
  'backup',
  'account',
  'prekey',
  'contact',
  'conversation',
  'group',
  'group-member',
  'group-change',
  'group-resend',
  'message',
  'group-event',
  'group-receipt',
  'setting',
  'end',
];

/**
 * Splits the decrypted stream into records. Lines end with "\n"; the first zero byte where a
 * line would start begins the padding, after which every byte must be zero. Feed chunks with
 * `push`; call `end()` after the last. Each parsed record goes to `onRecord`.
 */
export class RecordSplitter {
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  #carry: Uint8Array = new Uint8Array(4096);
  #carryLength = 0;
  #padding = false;

  constructor(private readonly onRecord: (record: unknown) => void) {}

  push(chunk: Uint8Array): void {
    let start = 0;
    while (start < chunk.length) {
      if (this.#padding) {
        for (let i = start; i < chunk.length; i++) if (chunk[i] !== 0) throw corrupt();
        return;
      }
      if (this.#carryLength === 0 && chunk[start] === 0) {
        this.#padding = true;
        continue;
      }
      const newline = chunk.indexOf(0x0a, start);
      if (newline === -1) {
        this.#append(chunk.subarray(start));
        return;
      }
      if (this.#carryLength > 0) {
        this.#append(chunk.subarray(start, newline));
        this.#emit(this.#carry.subarray(0, this.#carryLength));
        this.#carryLength = 0;
      } else {
        if (newline - start > MAX_RECORD_BYTES) throw corrupt();
        this.#emit(chunk.subarray(start, newline));
      }
      start = newline + 1;
    }
  }

  /** The stream ended: a record cut in the middle is damage. */
  end(): void {
    if (this.#carryLength > 0) throw corrupt();
  }

  #append(bytes: Uint8Array): void {
    const needed = this.#carryLength + bytes.length;
    if (needed > MAX_RECORD_BYTES) throw corrupt();
    if (needed > this.#carry.length) {
      const grown = new Uint8Array(Math.min(MAX_RECORD_BYTES, Math.max(needed, this.#carry.length * 2)));
      grown.set(this.#carry.subarray(0, this.#carryLength));
      this.#carry = grown;
    }
    this.#carry.set(bytes, this.#carryLength);
    this.#carryLength = needed;
  }

  #emit(line: Uint8Array): void {
    let value: unknown;
    try {
      value = JSON.parse(this.#decoder.decode(line));
    } catch {
      throw corrupt();
    }
    this.onRecord(value);
  }
}

function corrupt(): BackupError {
  return new BackupError('CORRUPT');
}

/** Parses a record with its schema; anything that does not match is damage. */
export function parseRecord(value: unknown): BackupRecord {
  const parsed = RecordSchema.safeParse(value);
  if (!parsed.success) throw corrupt();
  return parsed.data;
}
