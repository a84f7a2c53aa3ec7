import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sodium from 'libsodium-wrappers-sumo';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { toBase64url } from '../../../shared/encoding/base64url.js';
import {
  ARGON2ID_PRESETS,
  createVault,
  KEYRING_FILE,
  PassphraseKeyProtector,
  readVaultInfo,
  rewrapVault,
  unlockVault,
  vaultExists,
  VaultError,
  type KeyProtector,
  type WrappedKey,
} from './index.js';
import { fileHashes } from '../../../e2e/support/plaintext.js';

const FAST = { params: ARGON2ID_PRESETS.min };
const pp = (passphrase: string) => new PassphraseKeyProtector(passphrase, FAST);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'refuge-vault-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function expectVaultError(promise: Promise<unknown>, code: string): Promise<VaultError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(VaultError);
  expect((error as VaultError).code).toBe(code);
  return error as VaultError;
}

function keyringJson(): { format: string; version: number; wrapped: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(dir, KEYRING_FILE), 'utf8')) as { format: string; version: number; wrapped: Record<string, unknown> };
}
function writeKeyringJson(value: unknown): void {
  writeFileSync(join(dir, KEYRING_FILE), JSON.stringify(value));
}

describe('vault with a passphrase', () => {
  it('round-trips: create, then unlock with the same passphrase gives the same 32-byte key', async () => {
    const profile = join(dir, 'profile'); // created by createVault
    expect(vaultExists(profile)).toBe(false);
    const key = await createVault(profile, pp('correct horse battery staple'));
    expect(key).toBeInstanceOf(Uint8Array);
    expect(key.length).toBe(32);
    expect(vaultExists(profile)).toBe(true);
    expect(readVaultInfo(profile)).toEqual({ kind: 'passphrase', version: 1 });
    const again = await unlockVault(profile, pp('correct horse battery staple'));
    expect(Buffer.from(again).equals(Buffer.from(key))).toBe(true);
    // only the keyring, no temp files left behind
    expect(readdirSync(profile)).toEqual([KEYRING_FILE]);
  });

  it('two vaults get different keys', async () => {
    const a = await createVault(join(dir, 'a'), pp('x'));
    const b = await createVault(join(dir, 'b'), pp('x'));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('refuses to create over an existing keyring, leaving it untouched', async () => {
    await createVault(dir, pp('first'));
    const before = fileHashes(dir);
    await expectVaultError(createVault(dir, pp('second')), 'ALREADY_EXISTS');
    expect(fileHashes(dir)).toEqual(before);
  });

  it('a wrong passphrase is a typed error and leaves every file byte-for-byte unchanged', async () => {
    await createVault(dir, pp('right passphrase'));
    writeFileSync(join(dir, 'refuge.db'), 'stand-in for the database');
    const before = fileHashes(dir);
    const error = await expectVaultError(unlockVault(dir, pp('wrong passphrase')), 'WRONG_PASSPHRASE');
    expect(error.message).not.toContain('wrong passphrase');
    expect(error.message).not.toContain('right passphrase');
    await expectVaultError(rewrapVault(dir, pp('wrong passphrase'), pp('new passphrase')), 'WRONG_PASSPHRASE');
    expect(fileHashes(dir)).toEqual(before);
  });

  it('the keyring file never contains the raw key in any encoding', async () => {
    const key = await createVault(dir, pp('pass'));
    const bytes = readFileSync(join(dir, KEYRING_FILE));
    const text = bytes.toString('latin1');
    const k = Buffer.from(key);
    expect(bytes.includes(k)).toBe(false);
    for (const encoded of [k.toString('hex'), k.toString('hex').toUpperCase(), k.toString('base64'), toBase64url(key)]) {
      expect(text.includes(encoded)).toBe(false);
      expect(text.includes(encoded.slice(0, 12))).toBe(false);
    }
    // any 8-byte window of the key
    for (let i = 0; i + 8 <= k.length; i++) expect(bytes.includes(k.subarray(i, i + 8))).toBe(false);
  });

  it('rewrap changes the passphrase, keeps the key, and the old passphrase stops working', async () => {
    const key = await createVault(dir, pp('old'));
    writeFileSync(join(dir, 'refuge.db'), 'database bytes');
    const dbBefore = readFileSync(join(dir, 'refuge.db'));
    await rewrapVault(dir, pp('old'), pp('new'));
    expect(Buffer.from(await unlockVault(dir, pp('new'))).equals(Buffer.from(key))).toBe(true);
    await expectVaultError(unlockVault(dir, pp('old')), 'WRONG_PASSPHRASE');
    expect(readFileSync(join(dir, 'refuge.db')).equals(dbBefore)).toBe(true);
    expect(readdirSync(dir).sort()).toEqual([KEYRING_FILE, 'refuge.db']);
  });

  it('normalises the passphrase (NFKC): composed and decomposed Hangul unlock the same vault', async () => {
    const composed = '비밀번호 암호'.normalize('NFC');
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const key = await createVault(dir, pp(composed));
    expect(Buffer.from(await unlockVault(dir, pp(decomposed))).equals(Buffer.from(key))).toBe(true);
  });

  it('dispose() wipes the protector\'s copy of the passphrase', async () => {
    await createVault(dir, pp('secret'));
    const protector = pp('secret');
    protector.dispose();
    await expectVaultError(unlockVault(dir, protector), 'WRONG_PASSPHRASE');
  });

  it('refuses an empty passphrase', () => {
    expect(() => new PassphraseKeyProtector('')).toThrow(VaultError);
  });

  it('runs Argon2id off the main thread: timers keep ticking during unwrap', async () => {
    const params = ARGON2ID_PRESETS.interactive; // 64 MiB, 2 passes: a few hundred ms
    await createVault(dir, new PassphraseKeyProtector('pass', { params }));
    let ticks = 0;
    let last = performance.now();
    let maxGap = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
      ticks++;
    }, 5);
    const started = performance.now();
    try {
      await unlockVault(dir, new PassphraseKeyProtector('pass', { params }));
    } finally {
      clearInterval(timer);
    }
    const elapsed = performance.now() - started;
    // Calibrate: the same hash on this thread blocks the loop for `blocking` ms.
    await sodium.ready;
    const t0 = performance.now();
    sodium.crypto_pwhash(32, 'pass', new Uint8Array(16), params.opslimit, params.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
    const blocking = performance.now() - t0;
    expect(elapsed).toBeGreaterThan(blocking * 0.5); // the hash really ran during unlock
    expect(ticks).toBeGreaterThanOrEqual(5);
    expect(maxGap).toBeLessThan(blocking * 0.5); // ...but never blocked the loop for anything like its length
  });
});

describe('keyring file validation', () => {
  it('missing keyring: NOT_FOUND', async () => {
    await expectVaultError(unlockVault(dir, pp('x')), 'NOT_FOUND');
    expect(() => readVaultInfo(dir)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('garbage, wrong shape or truncated: CORRUPT', async () => {
    await createVault(dir, pp('x'));
    const good = keyringJson();
    for (const bad of [
      'not json',
      '[]',
      JSON.stringify({ ...good, format: 'something-else' }),
      JSON.stringify({ ...good, wrapped: { ...good.wrapped, nonce: 'AAAA' } }),
      JSON.stringify({ ...good, wrapped: { ...good.wrapped, ciphertext: undefined } }),
      JSON.stringify({ ...good, extra: 1 }),
      JSON.stringify(good).slice(0, 40),
    ]) {
      writeFileSync(join(dir, KEYRING_FILE), bad);
      await expectVaultError(unlockVault(dir, pp('x')), 'CORRUPT');
    }
    writeFileSync(join(dir, KEYRING_FILE), 'x'.repeat(100_000));
    await expectVaultError(unlockVault(dir, pp('x')), 'CORRUPT');
  });

  it('a newer file or record version, or an unknown protector kind: UNSUPPORTED_VERSION', async () => {
    await createVault(dir, pp('x'));
    const good = keyringJson();
    for (const newer of [
      { ...good, version: 2 },
      { ...good, wrapped: { ...good.wrapped, version: 2 } },
      { ...good, wrapped: { ...good.wrapped, kind: 'hardware-token' } },
    ]) {
      writeKeyringJson(newer);
      const error = await expectVaultError(unlockVault(dir, pp('x')), 'UNSUPPORTED_VERSION');
      expect(error.message).toMatch(/newer version of Refuge/);
      expect(() => readVaultInfo(dir)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_VERSION' }));
    }
  });

  it('the header is authenticated: editing the parameters or salt fails like a wrong passphrase', async () => {
    await createVault(dir, pp('x'));
    const good = keyringJson();
    const kdf = good.wrapped['kdf'] as Record<string, unknown>;
    writeKeyringJson({ ...good, wrapped: { ...good.wrapped, kdf: { ...kdf, opslimit: 2 } } });
    await expectVaultError(unlockVault(dir, pp('x')), 'WRONG_PASSPHRASE');
    writeKeyringJson({ ...good, wrapped: { ...good.wrapped, kdf: { ...kdf, salt: toBase64url(new Uint8Array(16)) } } });
    await expectVaultError(unlockVault(dir, pp('x')), 'WRONG_PASSPHRASE');
  });
});

/** A stand-in for the Electron safeStorage protector: proves the vault is protector-agnostic. */
class FakeKeychainProtector implements KeyProtector {
  readonly kind = 'os-keychain' as const;
  async wrap(key: Uint8Array): Promise<WrappedKey> {
    return { version: 1, kind: 'os-keychain', ciphertext: toBase64url(key.map((b) => b ^ 0x5a)), backend: 'test' };
  }
  async unwrap(wrapped: WrappedKey): Promise<Uint8Array> {
    if (wrapped.kind !== 'os-keychain') throw new VaultError('PROTECTOR_MISMATCH', 'mismatch');
    return Buffer.from(wrapped.ciphertext, 'base64url').map((b) => b ^ 0x5a);
  }
}

describe('other protectors', () => {
  it('works with any KeyProtector, and moving between protectors keeps the key', async () => {
    const key = await createVault(dir, new FakeKeychainProtector());
    expect(readVaultInfo(dir)).toEqual({ kind: 'os-keychain', version: 1 });
    expect(Buffer.from(await unlockVault(dir, new FakeKeychainProtector())).equals(Buffer.from(key))).toBe(true);
    await rewrapVault(dir, new FakeKeychainProtector(), pp('now a passphrase'));
    expect(readVaultInfo(dir).kind).toBe('passphrase');
    expect(Buffer.from(await unlockVault(dir, pp('now a passphrase'))).equals(Buffer.from(key))).toBe(true);
  });

  it('the wrong kind of protector: PROTECTOR_MISMATCH, nothing changed', async () => {
    await createVault(dir, new FakeKeychainProtector());
    const before = fileHashes(dir);
    await expectVaultError(unlockVault(dir, pp('x')), 'PROTECTOR_MISMATCH');
    expect(fileHashes(dir)).toEqual(before);
  });

  it('a protector that returns an invalid record is refused and nothing is written', async () => {
    const broken: KeyProtector = {
      kind: 'passphrase',
      wrap: async () => ({ version: 1, kind: 'os-keychain', ciphertext: 'AAAA' }),
      unwrap: async () => new Uint8Array(32),
    };
    await expectVaultError(createVault(dir, broken), 'PROTECTOR_FAILED');
    expect(readdirSync(dir)).toEqual([]);
  });
});
