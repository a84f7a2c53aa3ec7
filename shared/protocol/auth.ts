// The bytes a device signs to prove it holds its identity key. Domain-separated so the
// signature can never be mistaken for (or replayed as) a prekey signature or anything else.
const AUTH_CONTEXT = 'Refuge relay auth v1\u0000';

export const CHALLENGE_BYTES = 32;

export function authMessage(challenge: Uint8Array, username: string, deviceId: number): Uint8Array {
  const enc = new TextEncoder();
  const context = enc.encode(AUTH_CONTEXT);
  const name = enc.encode(username);
  const out = new Uint8Array(context.length + challenge.length + 1 + name.length + 1);
  let o = 0;
  out.set(context, o);
  o += context.length;
  out.set(challenge, o);
  o += challenge.length;
  out[o++] = name.length;
  out.set(name, o);
  o += name.length;
  out[o] = deviceId & 0xff;
  return out;
}
