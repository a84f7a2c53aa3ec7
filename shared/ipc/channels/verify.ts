// Contract channels of the verify area (see shared/ipc/contract.ts): safety numbers, the
// verified mark, and accepting a contact's changed identity key.
import { z } from 'zod';
import { channel } from '../channel.js';
import { ContactSchema } from '../schemas.js';

/** Prefix and version of the text a safety-number QR code encodes (see verify.safetyNumber). */
export const SAFETY_QR_PREFIX = 'refuge-safety:1';

const Username = z.string().min(1).max(64);

export const verifyChannels = {
  'verify.safetyNumber': channel(
    z.object({ username: Username }),
    z.object({
      username: z.string(),
      /** 60 digits, shown as 12 groups of 5; the same on both sides */
      digits: z.string().regex(/^\d{60}$/),
      /**
       * The text to encode as a QR code: `refuge-safety:1:<our username>:<our identity key>:<their username>:<their key>`
       * (keys base64url). The peer scans it and passes it to verify.compareQr.
       */
      qr: z.string(),
      verified: z.boolean(),
      /** true while a changed identity key is pending: digits and qr are those of the NEW key */
      identityChanged: z.boolean(),
    }),
    "The safety number and QR payload shared with a contact (of their pending new key, if it changed).",
  ),
  'verify.compareQr': channel(
    z.object({ username: Username, scanned: z.string().max(1024) }),
    z.object({ match: z.boolean() }),
    "Checks a QR payload scanned from the contact's screen against the keys we hold (current, or pending if changed).",
  ),
  'verify.setVerified': channel(
    z.object({ username: Username, verified: z.boolean() }),
    ContactSchema,
    'Marks a contact verified or not. Marking verified while their identity changed also accepts the new key (the user just compared its numbers).',
  ),
  'verify.acceptIdentity': channel(
    z.object({ username: Username }),
    ContactSchema,
    "Accepts a contact's changed identity key: its sessions replace the old ones and sending resumes; the contact stays unverified.",
  ),
} as const;
