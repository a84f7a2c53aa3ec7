// Public key material as the relay stores and hands it out. All bytes are base64url (no padding).
import { z } from 'zod';
import { fromBase64url } from '../encoding/base64url.js';

/** base64url text that decodes to exactly `length` bytes (or within [min,max]). */
export function b64Bytes(min: number, max = min) {
  return z
    .string()
    .max(Math.ceil((max * 4) / 3) + 4)
    .regex(/^[A-Za-z0-9_-]*$/, 'must be base64url')
    .refine((s) => {
      try {
        const n = fromBase64url(s).length;
        return n >= min && n <= max;
      } catch {
        return false;
      }
    }, `must decode to ${min === max ? `${min}` : `${min}..${max}`} bytes`);
}

export const KEY_SIZES = {
  ed25519Public: 32,
  x25519Public: 32,
  signature: 64,
  mlkem768Public: 1184,
  mlkem768Ciphertext: 1088,
} as const;

export const PrekeyId = z.number().int().min(0).max(0xffffffff);
export const DeviceId = z.number().int().min(1).max(255);

export const SignedPrekeyPublicSchema = z.object({
  id: PrekeyId,
  publicKey: b64Bytes(KEY_SIZES.x25519Public),
  signature: b64Bytes(KEY_SIZES.signature),
});
export type SignedPrekeyPublic = z.infer<typeof SignedPrekeyPublicSchema>;

export const OneTimePrekeyPublicSchema = z.object({
  id: PrekeyId,
  publicKey: b64Bytes(KEY_SIZES.x25519Public),
});
export type OneTimePrekeyPublic = z.infer<typeof OneTimePrekeyPublicSchema>;

export const KyberPrekeyPublicSchema = z.object({
  id: PrekeyId,
  publicKey: b64Bytes(KEY_SIZES.mlkem768Public),
  signature: b64Bytes(KEY_SIZES.signature),
});
export type KyberPrekeyPublic = z.infer<typeof KyberPrekeyPublicSchema>;

/** What a device uploads at registration and when it replenishes prekeys. */
export const DeviceKeysUploadSchema = z.object({
  identityKey: b64Bytes(KEY_SIZES.ed25519Public),
  signedPrekey: SignedPrekeyPublicSchema,
  kyberLastResort: KyberPrekeyPublicSchema,
  oneTimePrekeys: z.array(OneTimePrekeyPublicSchema).max(200),
  kyberOneTimePrekeys: z.array(KyberPrekeyPublicSchema).max(200),
});
export type DeviceKeysUpload = z.infer<typeof DeviceKeysUploadSchema>;

/** What the relay hands out for one device of a user. One-time keys are each handed out once. */
export const PrekeyBundleSchema = z.object({
  username: z.string().min(3).max(32),
  deviceId: DeviceId,
  identityKey: b64Bytes(KEY_SIZES.ed25519Public),
  signedPrekey: SignedPrekeyPublicSchema,
  kyberPrekey: KyberPrekeyPublicSchema.extend({ lastResort: z.boolean() }),
  oneTimePrekey: OneTimePrekeyPublicSchema.optional(),
});
export type PrekeyBundle = z.infer<typeof PrekeyBundleSchema>;
