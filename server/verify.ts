// Ed25519 verification of a device's auth signature (libsodium).
import sodium from 'libsodium-wrappers-sumo';
import { fromBase64url } from '../shared/encoding/base64url.js';

let ready: Promise<void> | undefined;

export function cryptoReady(): Promise<void> {
  ready ??= sodium.ready;
  return ready;
}

/** True iff `signatureB64` is a valid Ed25519 signature of `message` by `publicKeyB64`. Never throws. */
export function verifySignature(signatureB64: string, message: Uint8Array, publicKeyB64: string): boolean {
  try {
    const signature = fromBase64url(signatureB64);
    const publicKey = fromBase64url(publicKeyB64);
    if (signature.length !== sodium.crypto_sign_BYTES || publicKey.length !== sodium.crypto_sign_PUBLICKEYBYTES) return false;
    return sodium.crypto_sign_verify_detached(signature, message, publicKey);
  } catch {
    return false;
  }
}

export function randomBytes(n: number): Uint8Array {
  return sodium.randombytes_buf(n);
}
