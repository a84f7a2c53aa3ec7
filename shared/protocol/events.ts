// The relay's socket.io protocol: every event a client may emit (with the payload schema and the
// schema of the reply it gets through the ack callback) and every event the relay pushes.
// The relay validates every inbound payload with these schemas; the sync client validates every reply.
//
// Replies are `{ ok: true, ...fields }` or `{ ok: false, error: { code, message } }`.
import { z } from 'zod';
import { b64Bytes, DeviceId, DeviceKeysUploadSchema, PrekeyBundleSchema } from './keys.js';
import { DeliveredEnvelopeSchema, EnvelopeIdSchema, OutgoingEnvelopeSchema, UsernameSchema } from './envelope.js';
import { CHALLENGE_BYTES } from './auth.js';

/** Most envelopes one `envelopes.send` may carry. */
export const MAX_SEND_BATCH = 500;
/** Most ids one `envelopes.ack` may carry. */
export const MAX_ACK_BATCH = 1000;
/** Most envelopes the relay pushes in one `envelopes` event. */
export const DELIVERY_BATCH = 200;
/** Size budget (characters of body) the relay and the client aim for per batch; one envelope always fits. */
export const BATCH_BODY_CHARS = 2_000_000;
/** socket.io's per-message limit the relay runs with (bytes). A batch within BATCH_BODY_CHARS stays well below. */
export const MAX_SOCKET_MESSAGE_BYTES = 16_000_000;

/** Error codes the relay answers with. Clients may see others (RELAY_UNREACHABLE, RELAY_TIMEOUT, PROTOCOL_ERROR) from the client library. */
export const RelayErrorCode = z.enum([
  'BAD_REQUEST', // payload failed its schema
  'UNKNOWN_EVENT', // no such event
  'NOT_AUTHENTICATED', // event needs an authenticated socket
  'ALREADY_AUTHENTICATED', // auth/register on a socket that is already authenticated
  'AUTH_FAILED', // no/expired/used challenge, unknown device, bad signature
  'INVALID_USERNAME', // not 3-32 of a-z0-9_. after NFKC + case folding
  'USERNAME_TAKEN',
  'INVALID_DEVICE', // register with a deviceId other than 1
  'IDENTITY_MISMATCH', // prekeys.upload with an identity key that is not the device's
  'PREKEY_LIMIT', // too many one-time prekeys stored for the device
  'USER_NOT_FOUND',
  'UNKNOWN_RECIPIENT', // per envelope: no such user/device
  // limits (each refusal has its own code; see docs/DEPLOY.md for the defaults and flags)
  'ENVELOPE_TOO_LARGE', // per envelope: body longer than the relay's maximum envelope size
  'MAILBOX_FULL', // per envelope: the recipient device's mailbox is at its size limit (transient)
  'DEVICE_RATE_LIMITED', // this device sent too much too fast (transient; retryAfterMs)
  'BUNDLE_RATE_LIMITED', // this device fetched too many prekey bundles too fast (transient; retryAfterMs)
  'ADDRESS_RATE_LIMITED', // too many events or connections from this network address (transient; retryAfterMs)
  'REGISTRATION_RATE_LIMITED', // too many registrations from this network address (transient; retryAfterMs)
  'TOO_MANY_SOCKETS', // auth/register: the device already has the maximum number of connected sockets (transient)
  'MESSAGE_TOO_LARGE', // a socket message above the relay's maximum: the relay closes the socket (raised by the client library)
  'INTERNAL',
]);
export type RelayErrorCode = z.infer<typeof RelayErrorCode>;

/** Refusals that go away by themselves: retry the same request later (after `retryAfterMs` when given). */
export const TRANSIENT_ERROR_CODES: ReadonlySet<string> = new Set<RelayErrorCode>([
  'MAILBOX_FULL',
  'DEVICE_RATE_LIMITED',
  'BUNDLE_RATE_LIMITED',
  'ADDRESS_RATE_LIMITED',
  'REGISTRATION_RATE_LIMITED',
  'TOO_MANY_SOCKETS',
]);

export function isTransientErrorCode(code: string): boolean {
  return TRANSIENT_ERROR_CODES.has(code);
}

export const ErrorBodySchema = z.object({
  code: z.string().min(1).max(64),
  message: z.string().max(1000),
  /** For transient refusals: when a retry may succeed (ms from now). */
  retryAfterMs: z.number().int().nonnegative().max(7 * 24 * 3_600_000).optional(),
});
export type ErrorBody = z.infer<typeof ErrorBodySchema>;
export const ErrorReplySchema = z.object({ ok: z.literal(false), error: ErrorBodySchema });
export type ErrorReply = z.infer<typeof ErrorReplySchema>;

function okReply<S extends z.ZodRawShape>(shape: S) {
  return z.object({ ok: z.literal(true), ...shape });
}

const Empty = z.object({});
const Signature = b64Bytes(64);

// ---------------------------------------------------------------- client -> relay

export const HelloRequestSchema = Empty;
export const HelloReplySchema = okReply({ challenge: b64Bytes(CHALLENGE_BYTES) });

/** Create an account with its first device (deviceId 1). `signature` = Ed25519(identity key, authMessage(challenge, canonicalUsername, deviceId)). Authenticates the socket. */
export const RegisterRequestSchema = z.object({
  username: UsernameSchema,
  deviceId: DeviceId,
  keys: DeviceKeysUploadSchema,
  signature: Signature,
});
export const RegisterReplySchema = okReply({ username: z.string(), deviceId: DeviceId });

/** Prove possession of the device identity key. `signature` as for register, with the stored identity key. */
export const AuthRequestSchema = z.object({
  username: UsernameSchema,
  deviceId: DeviceId,
  signature: Signature,
});
export const AuthReplySchema = okReply({ username: z.string(), deviceId: DeviceId });

export const PrekeyCountsSchema = okReply({
  oneTimePrekeys: z.number().int().nonnegative(),
  kyberOneTimePrekeys: z.number().int().nonnegative(),
});

/** Replenish one-time prekeys (added), rotate the signed prekey and the last-resort ML-KEM key (replaced). identityKey must be the device's. */
export const PrekeysUploadRequestSchema = z.object({ keys: DeviceKeysUploadSchema });
export const PrekeysUploadReplySchema = PrekeyCountsSchema;

export const PrekeysCountRequestSchema = Empty;
export const PrekeysCountReplySchema = PrekeyCountsSchema;

/** One bundle per device of `username`; each one-time prekey is handed out once. */
export const BundleFetchRequestSchema = z.object({ username: UsernameSchema });
export const BundleFetchReplySchema = okReply({ bundles: z.array(PrekeyBundleSchema) });

export const EnvelopeSendResultSchema = z.discriminatedUnion('accepted', [
  z.object({ id: EnvelopeIdSchema, accepted: z.literal(true) }),
  z.object({ id: EnvelopeIdSchema, accepted: z.literal(false), error: ErrorBodySchema }),
]);
export type EnvelopeSendResult = z.infer<typeof EnvelopeSendResultSchema>;

/** Store envelopes in the recipients' mailboxes. The relay stamps from/fromDeviceId/receivedAt. Idempotent per (recipient device, id). */
export const EnvelopesSendRequestSchema = z.object({
  envelopes: z.array(OutgoingEnvelopeSchema).min(1).max(MAX_SEND_BATCH),
});
export const EnvelopesSendReplySchema = okReply({ results: z.array(EnvelopeSendResultSchema) });

/** Delete envelopes from the authenticated device's own mailbox (ids of other mailboxes are ignored). */
export const EnvelopesAckRequestSchema = z.object({ ids: z.array(EnvelopeIdSchema).min(1).max(MAX_ACK_BATCH) });
export const EnvelopesAckReplySchema = okReply({ deleted: z.number().int().nonnegative() });

/** Deletes the authenticated device's whole account: every device, its prekeys and its mailbox. `username` must be the account's (a guard against accidents). Disconnects the account's sockets. */
export const AccountDeleteRequestSchema = z.object({ username: UsernameSchema });
export const AccountDeleteReplySchema = okReply({ deleted: z.literal(true) });

/** Every event a client may emit: payload schema + success reply schema. All take an ack callback. */
export const clientEvents = {
  hello: { request: HelloRequestSchema, reply: HelloReplySchema, auth: false },
  register: { request: RegisterRequestSchema, reply: RegisterReplySchema, auth: false },
  auth: { request: AuthRequestSchema, reply: AuthReplySchema, auth: false },
  'prekeys.upload': { request: PrekeysUploadRequestSchema, reply: PrekeysUploadReplySchema, auth: true },
  'prekeys.count': { request: PrekeysCountRequestSchema, reply: PrekeysCountReplySchema, auth: true },
  'bundle.fetch': { request: BundleFetchRequestSchema, reply: BundleFetchReplySchema, auth: true },
  'envelopes.send': { request: EnvelopesSendRequestSchema, reply: EnvelopesSendReplySchema, auth: true },
  'envelopes.ack': { request: EnvelopesAckRequestSchema, reply: EnvelopesAckReplySchema, auth: true },
  'account.delete': { request: AccountDeleteRequestSchema, reply: AccountDeleteReplySchema, auth: true },
} as const;

export type ClientEvents = typeof clientEvents;
export type ClientEventName = keyof ClientEvents;
export type EventRequest<E extends ClientEventName> = z.input<ClientEvents[E]['request']>;
export type ParsedEventRequest<E extends ClientEventName> = z.output<ClientEvents[E]['request']>;
export type EventReply<E extends ClientEventName> = z.output<ClientEvents[E]['reply']>;
/** What a handler returns: the reply without `ok`. */
export type EventResult<E extends ClientEventName> = Omit<EventReply<E>, 'ok'>;

export const clientEventNames = Object.keys(clientEvents) as ClientEventName[];

export function isClientEvent(name: unknown): name is ClientEventName {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(clientEvents, name);
}

// ---------------------------------------------------------------- relay -> client

/**
 * A batch from the device's mailbox (live or backlog), oldest first. `remaining`: envelopes still
 * queued for this socket after this batch (exact when 0, an estimate otherwise). Ack with `envelopes.ack`.
 * The relay keeps a bounded window of unacked envelopes per socket and sends more as acks arrive.
 */
export const EnvelopeBatchSchema = z.object({
  envelopes: z.array(DeliveredEnvelopeSchema).min(1).max(DELIVERY_BATCH),
  remaining: z.number().int().nonnegative(),
});
export type EnvelopeBatch = z.infer<typeof EnvelopeBatchSchema>;

/** The device's mailbox is empty: everything delivered to this socket was acked and nothing else is pending. Sent once per empty transition (and once after auth). */
export const MailboxDrainedSchema = z.object({});
export type MailboxDrained = z.infer<typeof MailboxDrainedSchema>;

/**
 * A refusal the relay could not answer through an ack callback: an event emitted without one, or a
 * connection-level refusal sent just before the relay closes the socket (`event` names what was refused).
 */
export const RelayErrorEventSchema = ErrorBodySchema.extend({ event: z.string().max(64).optional() });
export type RelayErrorEvent = z.infer<typeof RelayErrorEventSchema>;

export const serverEvents = {
  envelopes: EnvelopeBatchSchema,
  'mailbox.drained': MailboxDrainedSchema,
  'relay.error': RelayErrorEventSchema,
} as const;
export type ServerEvents = typeof serverEvents;
export type ServerEventName = keyof ServerEvents;
