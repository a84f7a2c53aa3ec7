// Envelopes: opaque ciphertext addressed to one device. The relay never sees inside `body`.
import { z } from 'zod';
import { DeviceId } from './keys.js';

export const MAX_ENVELOPE_BODY_CHARS = 350_000; // ~256 KiB of ciphertext as base64url

export const EnvelopeIdSchema = z.string().uuid();

export const UsernameSchema = z.string().min(1).max(64);

/** Client -> relay: one envelope for one recipient device. `id` is chosen by the sender (uuid v4). */
export const OutgoingEnvelopeSchema = z.object({
  id: EnvelopeIdSchema,
  to: UsernameSchema,
  toDeviceId: DeviceId,
  body: z.string().min(1).max(MAX_ENVELOPE_BODY_CHARS).regex(/^[A-Za-z0-9_-]*$/),
});
export type OutgoingEnvelope = z.infer<typeof OutgoingEnvelopeSchema>;

/** Relay -> client: an envelope from the recipient's mailbox; `from` is stamped by the relay from the sender's authenticated socket. */
export const DeliveredEnvelopeSchema = z.object({
  id: EnvelopeIdSchema,
  from: UsernameSchema,
  fromDeviceId: DeviceId,
  body: z.string().min(1).max(MAX_ENVELOPE_BODY_CHARS),
  receivedAt: z.number().int().nonnegative(),
});
export type DeliveredEnvelope = z.infer<typeof DeliveredEnvelopeSchema>;
