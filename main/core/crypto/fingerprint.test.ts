// Safety numbers: libsignal's published NumericFingerprint vector, symmetry, and change on any identity change.
import { beforeAll, describe, expect, it } from 'vitest';
import { generateIdentityKeyPair, initCrypto, numericFingerprint, safetyNumber } from './index.js';

beforeAll(async () => {
  await initCrypto();
});

const unhex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
const ascii = (s: string) => new TextEncoder().encode(s);

describe('safety numbers', () => {
  it("reproduce libsignal's fingerprint_test_v1 display string (rust/protocol/src/fingerprint.rs)", () => {
    const aliceIdentity = unhex('0506863bc66d02b40d27b8d49ca7c09e9239236f9d7d25d6fcca5ce13c7064d868');
    const bobIdentity = unhex('05f781b6fb32fed9ba1cf2de978d4d5da28dc34046ae814402b5c0dbd96fda907b');
    const expected = '300354477692869396892869876765458257569162576843440918079131';
    expect(numericFingerprint(5200, ascii('+14152222222'), aliceIdentity, ascii('+14153333333'), bobIdentity)).toBe(expected);
    expect(numericFingerprint(5200, ascii('+14153333333'), bobIdentity, ascii('+14152222222'), aliceIdentity)).toBe(expected);
  });

  it('are 60 digits, identical on both sides, and change when either identity (or id) changes', () => {
    const alice = { id: 'alice', identityKey: generateIdentityKeyPair().publicKey };
    const bob = { id: 'bob', identityKey: generateIdentityKeyPair().publicKey };
    const number = safetyNumber(alice, bob);
    expect(number).toMatch(/^\d{60}$/);
    expect(safetyNumber(bob, alice)).toBe(number);

    const newAlice = { ...alice, identityKey: generateIdentityKeyPair().publicKey };
    const newBob = { ...bob, identityKey: generateIdentityKeyPair().publicKey };
    expect(safetyNumber(newAlice, bob)).not.toBe(number);
    expect(safetyNumber(alice, newBob)).not.toBe(number);
    expect(safetyNumber(bob, newAlice)).toBe(safetyNumber(newAlice, bob));
    expect(safetyNumber({ ...alice, id: 'alice2' }, bob)).not.toBe(number);
    // only the changed side's half changes
    const halves = (n: string) => [n.slice(0, 30), n.slice(30)].sort();
    const shared = halves(number).filter((h) => halves(safetyNumber(alice, newBob)).includes(h));
    expect(shared).toHaveLength(1);
    expect(() => safetyNumber({ id: 'x', identityKey: new Uint8Array(31) }, bob)).toThrow(/wrong size/);
  });
});
