// THE contract between the renderer (or CLI) and the main-process core: one table of
// channel -> request schema, response schema and a doc line. main validates every request
// with these schemas; the preload and the web host expose exactly these channels.
import { z } from 'zod';
import { b64Bytes, DeviceId, DeviceKeysUploadSchema, PrekeyBundleSchema } from '../protocol/keys.js';
import { DeliveredEnvelopeSchema, EnvelopeIdSchema, OutgoingEnvelopeSchema } from '../protocol/envelope.js';
import { CHALLENGE_BYTES } from '../protocol/auth.js';

import { channel, Empty, Ok } from './channel.js';
import {
  AppStatusSchema,
  ContactSchema,
  ConversationSummarySchema,
  EnvelopeResultSchema,
  MessageSchema,
  MessageText,
  Passphrase,
  RegistrationSchema,
} from './schemas.js';
import { searchChannels } from './channels/search.js';
import { lockChannels } from './channels/lock.js';
import { settingsChannels } from './channels/settings.js';
import { backupChannels } from './channels/backup.js';
import { presenceChannels } from './channels/presence.js';
import { verifyChannels } from './channels/verify.js';
import { groupsChannels } from './channels/groups.js';
import { appShellChannels } from './channels/app-shell.js';

export * from './schemas.js';

/** The channels of the first conversation; each later area keeps its channels in shared/ipc/channels/. */
const coreChannels = {
  'app.status': channel(Empty, AppStatusSchema, 'Where the profile is: no account, locked, or ready.'),
  'account.create': channel(
    z.object({
      username: z.string().min(1).max(64),
      serverUrl: z.string().url(),
      passphrase: Passphrase.optional(),
    }),
    RegistrationSchema,
    'Creates the local profile, identity and prekeys; returns the public keys to register with the relay.',
  ),
  'account.markRegistered': channel(Empty, AppStatusSchema, 'Records that the relay accepted the registration.'),
  'vault.unlock': channel(z.object({ passphrase: Passphrase.optional() }), AppStatusSchema, 'Unwraps the database key and opens the store.'),
  'vault.lock': channel(Empty, AppStatusSchema, 'Closes the store and forgets the database key.'),
  'relay.signChallenge': channel(
    z.object({ challenge: b64Bytes(CHALLENGE_BYTES) }),
    z.object({ username: z.string(), deviceId: DeviceId, signature: z.string() }),
    "Signs the relay's auth challenge with the device identity key (domain-separated; nothing else can be signed).",
  ),
  'contacts.list': channel(Empty, z.array(ContactSchema), 'All contacts.'),
  'contacts.add': channel(
    z.object({ bundles: z.array(PrekeyBundleSchema).min(1).max(16) }),
    z.object({ contact: ContactSchema, conversationId: z.string() }),
    "Verifies a user's prekey bundles from the relay, runs PQXDH and opens a conversation.",
  ),
  'contacts.safetyNumber': channel(
    z.object({ username: z.string() }),
    z.object({ username: z.string(), digits: z.string().regex(/^\d{60}$/) }),
    'The 60-digit safety number shared with a contact.',
  ),
  'conversations.list': channel(Empty, z.array(ConversationSummarySchema), 'Conversations, most recent activity first.'),
  'conversations.markRead': channel(z.object({ conversationId: z.string() }), Ok, 'Clears the unread count.'),
  'messages.list': channel(
    z
      .object({
        conversationId: z.string(),
        /** page backwards from this message id (exclusive); omit for the newest page */
        before: z.string().optional(),
        /** page forwards from this message id (exclusive), e.g. after search.around; not with `before` */
        after: z.string().optional(),
        limit: z.number().int().min(1).max(500).default(50),
      })
      .refine((r) => r.before === undefined || r.after === undefined, { path: ['after'], message: 'before or after, not both' }),
    /** hasMore: more messages in the paging direction (older; newer with `after`) */
    z.object({ messages: z.array(MessageSchema), hasMore: z.boolean() }),
    'A page of messages, oldest first: the newest, the ones just before `before`, or just after `after`.',
  ),
  'messages.send': channel(
    z.object({
      conversationId: z.string(),
      text: MessageText,
      /** the id of a message in the same conversation this one replies to */
      replyTo: z.string().min(1).max(64).optional(),
    }),
    MessageSchema,
    'Encrypts for every recipient device and queues the envelopes in the outbox, in one transaction. Refused with IDENTITY_CHANGED while the peer has an unaccepted new identity key.',
  ),
  'envelopes.receive': channel(
    z.object({ envelopes: z.array(DeliveredEnvelopeSchema).max(500) }),
    z.object({ results: z.array(EnvelopeResultSchema) }),
    'Decrypts and stores incoming envelopes; every returned id may be acked to the relay.',
  ),
  'outbox.pending': channel(
    z.object({ limit: z.number().int().min(1).max(1000).default(200) }),
    z.object({ envelopes: z.array(OutgoingEnvelopeSchema) }),
    'Envelopes waiting to be sent to the relay, oldest first.',
  ),
  'outbox.markSent': channel(z.object({ ids: z.array(EnvelopeIdSchema).max(1000) }), Ok, 'The relay accepted these envelopes.'),
  'outbox.markFailed': channel(
    z.object({ failures: z.array(z.object({ id: EnvelopeIdSchema, code: z.string().max(64) })).max(1000) }),
    Ok,
    'The relay refused these envelopes for good: drop them and mark their messages failed.',
  ),
  'relay.prekeyRefill': channel(
    z.object({ oneTimePrekeys: z.number().int().nonnegative(), kyberOneTimePrekeys: z.number().int().nonnegative() }),
    z.object({ keys: DeviceKeysUploadSchema.nullable() }),
    'Given how many unused one-time prekeys the relay holds, returns fresh ones to upload (or null if enough).',
  ),
} as const;

export const contract = {
  ...coreChannels,
  ...searchChannels,
  ...lockChannels,
  ...settingsChannels,
  ...backupChannels,
  ...presenceChannels,
  ...verifyChannels,
  ...groupsChannels,
  ...appShellChannels,
} as const;

export type Contract = typeof contract;
/** the channels defined in this file (not in an area file) */
export type CoreChannel = keyof typeof coreChannels;
export type Channel = keyof Contract;
export type RequestOf<C extends Channel> = z.input<Contract[C]['request']>;
export type ParsedRequestOf<C extends Channel> = z.output<Contract[C]['request']>;
export type ResponseOf<C extends Channel> = z.output<Contract[C]['response']>;

export const channels = Object.keys(contract) as Channel[];

export function isChannel(name: unknown): name is Channel {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(contract, name);
}

/** Errors crossing the boundary carry a code and a message that is safe to show; never a secret. */
export const IpcErrorSchema = z.object({ code: z.string(), message: z.string() });
export type IpcError = z.infer<typeof IpcErrorSchema>;
export type IpcReply<T> = { ok: true; value: T } | { ok: false; error: IpcError };

export class RefugeError extends Error {
  override readonly name = 'RefugeError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
