// The app lock at the Core level, with an injected clock: wrong passphrases get a clear error
// and then a growing delay, and leave the profile byte-for-byte unchanged; changing the
// passphrase re-wraps the key without rewriting the history; an app-lock passphrase on top of
// the OS keychain.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toBase64url, fromBase64url } from '../../../shared/encoding/base64url.js';
import { createApi, type RefugeApi } from '../../../shared/ipc/api.js';
import { RefugeError } from '../../../shared/ipc/contract.js';
import { fileHashes } from '../../../e2e/support/plaintext.js';
import Database from '@signalapp/sqlcipher';
import { ARGON2ID_PRESETS, PassphraseKeyProtector, unlockVault, VaultError, type KeyProtector, type WrappedKey } from '../vault/index.js';
import { DB_FILE } from '../store/index.js';
import { Core, type CoreOptions } from './core.js';
import { toRefugeError } from './errors.js';
import { MAX_UNLOCK_DELAY_MS, PassphraseAttempts, unlockDelayMs } from './lock.js';

const SERVER = 'http://127.0.0.1:9';
const PASSPHRASE = 'correct horse battery';

const dirs: string[] = [];
const cores: Core[] = [];
afterEach(() => {
  for (const core of cores.splice(0)) core.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A stand-in for Electron's safeStorage protector: the key XORed with a fixed pad. */
class FakeKeychain implements KeyProtector {
  readonly kind = 'os-keychain' as const;
  async wrap(key: Uint8Array): Promise<WrappedKey> {
    return { version: 1, kind: 'os-keychain', ciphertext: toBase64url(key.map((b) => b ^ 0x5a)), backend: 'test' };
  }
  async unwrap(wrapped: WrappedKey): Promise<Uint8Array> {
    if (wrapped.kind !== 'os-keychain') throw new VaultError('PROTECTOR_MISMATCH', 'mismatch');
    return fromBase64url(wrapped.ciphertext).map((b) => b ^ 0x5a);
  }
}

const passphraseProtector = (passphrase: string | undefined): KeyProtector => {
  if (!passphrase) throw new RefugeError('PASSPHRASE_REQUIRED', 'Enter your passphrase.');
  return new PassphraseKeyProtector(passphrase, { params: ARGON2ID_PRESETS.min });
};

async function profile(options: { keychain?: boolean } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'refuge-lock-'));
  dirs.push(dir);
  let t = Date.UTC(2026, 0, 1);
  const clock = { now: () => t, advance: (ms: number) => (t += ms) };
  const coreOptions: CoreOptions = {
    profileDir: dir,
    defaultServerUrl: SERVER,
    passphraseRequired: !options.keychain,
    // as main/electron does: the keychain unless a passphrase is given
    protector: (passphrase) => (options.keychain && !passphrase ? new FakeKeychain() : passphraseProtector(passphrase)),
    now: clock.now,
  };
  const core = await Core.open(coreOptions);
  cores.push(core);
  const api = createApi((channel, request) => core.handle(channel, request));
  await api.account.create({ username: 'alice', serverUrl: SERVER, passphrase: options.keychain ? undefined : PASSPHRASE });
  await api.account.markRegistered({});
  return { dir, core, api, clock };
}

async function failure(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    const refuge = toRefugeError(error);
    return { code: refuge.code, message: refuge.message };
  }
  throw new Error('expected a failure');
}

const unlock = (api: RefugeApi, passphrase: string) => api.vault.unlock({ passphrase });

describe('unlock delay', () => {
  it('is 0, 0, then 1 s doubling per failure, capped at 5 minutes', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(unlockDelayMs)).toEqual([0, 0, 1000, 2000, 4000, 8000, 16000]);
    expect(unlockDelayMs(11)).toBe(256_000);
    expect(unlockDelayMs(12)).toBe(MAX_UNLOCK_DELAY_MS);
    expect(unlockDelayMs(1000)).toBe(MAX_UNLOCK_DELAY_MS);
  });

  it('wrong passphrases: a clear error, then a growing delay that refuses even the right one; files untouched; success resets', async () => {
    const { dir, api, clock } = await profile();
    await api.vault.lock({});
    const before = fileHashes(dir);

    expect(await failure(unlock(api, 'wrong 1'))).toEqual({ code: 'WRONG_PASSPHRASE', message: 'Wrong passphrase.' });
    expect(await failure(unlock(api, 'wrong 2'))).toEqual({ code: 'WRONG_PASSPHRASE', message: 'Wrong passphrase.' });
    expect(await failure(unlock(api, 'wrong 3'))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(await failure(unlock(api, 'wrong 4'))).toEqual({ code: 'TOO_MANY_ATTEMPTS', message: 'Too many attempts. Try again in 1 second.' });
    // inside the delay the passphrase is not even tried
    expect(await failure(unlock(api, PASSPHRASE))).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
    clock.advance(999);
    expect(await failure(unlock(api, PASSPHRASE))).toMatchObject({ code: 'TOO_MANY_ATTEMPTS' });
    clock.advance(1);
    expect(await failure(unlock(api, 'wrong 5'))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(await failure(unlock(api, 'wrong 6'))).toEqual({ code: 'TOO_MANY_ATTEMPTS', message: 'Too many attempts. Try again in 2 seconds.' });
    clock.advance(2000);
    expect(await failure(unlock(api, 'wrong 7'))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    clock.advance(1500);
    expect(await failure(unlock(api, 'wrong 8'))).toEqual({ code: 'TOO_MANY_ATTEMPTS', message: 'Too many attempts. Try again in 3 seconds.' });
    expect((await api.app.status({})).state).toBe('locked');
    expect(fileHashes(dir)).toEqual(before);

    clock.advance(3000);
    expect((await unlock(api, PASSPHRASE)).state).toBe('ready');
    await api.vault.lock({});
    // the count starts over: two free attempts again
    expect(await failure(unlock(api, 'wrong'))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(await failure(unlock(api, 'wrong'))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect((await unlock(api, PASSPHRASE)).state).toBe('ready');
  });

  it('counts up to the 5 minute cap and says so in minutes', async () => {
    let t = 0;
    const attempts = new PassphraseAttempts(() => t);
    const wrong = () => attempts.run(async () => Promise.reject(new VaultError('WRONG_PASSPHRASE', 'no')));
    const messages: string[] = [];
    for (let failures = 1; failures <= 13; failures++) {
      expect((await failure(wrong())).code).toBe('WRONG_PASSPHRASE');
      // refused inside the delay, and not counted
      if (unlockDelayMs(failures) > 0) messages.push((await failure(wrong())).message);
      t += unlockDelayMs(failures);
    }
    expect(attempts.failures).toBe(13);
    expect(messages.slice(0, 3)).toEqual([
      'Too many attempts. Try again in 1 second.',
      'Too many attempts. Try again in 2 seconds.',
      'Too many attempts. Try again in 4 seconds.',
    ]);
    expect(messages).toContain('Too many attempts. Try again in 2 minutes.');
    expect(messages.at(-1)).toBe('Too many attempts. Try again in 5 minutes.');
    // other failures (a damaged keyring, say) do not count
    await failure(attempts.run(async () => Promise.reject(new VaultError('CORRUPT', 'damaged'))));
    t += MAX_UNLOCK_DELAY_MS;
    expect(await attempts.run(async () => 'ok')).toBe('ok');
    expect(attempts.failures).toBe(0);
  });

  it('attempts made at the same time are judged one after another', async () => {
    const { api } = await profile();
    await api.vault.lock({});
    const results = await Promise.allSettled(['a1', 'a2', 'a3', 'a4', 'a5'].map((p) => unlock(api, p)));
    const codes = results.map((r) => (r.status === 'rejected' && r.reason instanceof RefugeError ? r.reason.code : 'ok'));
    expect(codes).toEqual(['WRONG_PASSPHRASE', 'WRONG_PASSPHRASE', 'WRONG_PASSPHRASE', 'TOO_MANY_ATTEMPTS', 'TOO_MANY_ATTEMPTS']);
  });
});

describe('a profile from a newer Refuge', () => {
  it('vault.unlock refuses it with NEWER_SCHEMA and changes nothing', async () => {
    const { dir, api } = await profile();
    await api.vault.lock({});
    const key = await unlockVault(dir, passphraseProtector(PASSPHRASE));
    const raw = new Database(join(dir, DB_FILE));
    raw.exec(`PRAGMA key = "x'${Buffer.from(key).toString('hex')}'"`);
    raw.exec('PRAGMA user_version = 9999');
    raw.close();
    key.fill(0);
    const before = fileHashes(dir);
    expect(await failure(unlock(api, PASSPHRASE))).toEqual({
      code: 'NEWER_SCHEMA',
      message: 'This profile was created by a newer version of Refuge. Update Refuge to open it; nothing was changed.',
    });
    expect((await api.app.status({})).state).toBe('locked');
    expect(fileHashes(dir)).toEqual(before);
  });
});

describe('lock.changePassphrase', () => {
  it('re-wraps the key: the old passphrase stops working, the new one opens the same history, the database is not rewritten', async () => {
    const { dir, api } = await profile();
    await api.settings.update({ theme: 'dark' });
    const dbBefore = fileHashes(dir);

    expect(await failure(api.lock.changePassphrase({ current: 'not it', next: 'a new passphrase' }))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(fileHashes(dir)).toEqual(dbBefore);
    expect(await failure(api.lock.changePassphrase({ current: PASSPHRASE, next: 'short' }))).toMatchObject({ code: 'BAD_REQUEST' });

    expect(await api.lock.changePassphrase({ current: PASSPHRASE, next: 'a new passphrase' })).toEqual({ ok: true });
    const after = fileHashes(dir);
    for (const name of [DB_FILE, `${DB_FILE}-wal`]) expect(after[name]).toBe(dbBefore[name]);
    expect(after['keyring.json']).not.toBe(dbBefore['keyring.json']);

    await api.vault.lock({});
    expect(await failure(unlock(api, PASSPHRASE))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect((await unlock(api, 'a new passphrase')).state).toBe('ready');
    expect((await api.settings.get({})).theme).toBe('dark');
  });

  it('needs the profile unlocked', async () => {
    const { api } = await profile();
    await api.vault.lock({});
    expect(await failure(api.lock.changePassphrase({ current: PASSPHRASE, next: 'a new passphrase' }))).toMatchObject({ code: 'LOCKED' });
  });
});

describe('an app-lock passphrase on top of the OS keychain', () => {
  it('is added, required to unlock, changed, and removed again', async () => {
    const { api } = await profile({ keychain: true });
    expect(await api.lock.info({})).toEqual({ protection: 'os-keychain', keychainAvailable: true });
    expect((await api.app.status({})).passphraseRequired).toBe(false);
    await api.vault.lock({});
    expect((await api.vault.unlock({})).state).toBe('ready');

    await api.lock.setPassphrase({ next: 'app lock passphrase' });
    expect(await api.lock.info({})).toEqual({ protection: 'passphrase', keychainAvailable: true });
    await api.vault.lock({});
    expect((await api.app.status({})).passphraseRequired).toBe(true);
    expect(await failure(api.vault.unlock({}))).toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    expect(await failure(unlock(api, 'wrong one'))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect((await unlock(api, 'app lock passphrase')).state).toBe('ready');
    expect(await failure(api.lock.setPassphrase({ next: 'another passphrase' }))).toMatchObject({ code: 'NOT_KEYCHAIN' });

    await api.lock.changePassphrase({ current: 'app lock passphrase', next: 'changed passphrase' });
    expect(await failure(api.lock.removePassphrase({ current: 'app lock passphrase' }))).toMatchObject({ code: 'WRONG_PASSPHRASE' });
    await api.lock.removePassphrase({ current: 'changed passphrase' });
    await api.vault.lock({});
    expect((await api.app.status({})).passphraseRequired).toBe(false);
    expect((await api.vault.unlock({})).state).toBe('ready');
  });

  it('without a keychain the passphrase cannot be removed', async () => {
    const { api } = await profile();
    expect(await api.lock.info({})).toEqual({ protection: 'passphrase', keychainAvailable: false });
    expect(await failure(api.lock.removePassphrase({ current: PASSPHRASE }))).toMatchObject({ code: 'KEYCHAIN_UNAVAILABLE' });
    expect(await failure(api.lock.setPassphrase({ next: 'another passphrase' }))).toMatchObject({ code: 'NOT_KEYCHAIN' });
  });
});

describe('settings', () => {
  it('defaults, partial updates, persistence across lock/unlock, validation, and locked while locked', async () => {
    const { api } = await profile();
    expect(await api.settings.get({})).toEqual({
      autoLockMinutes: 15,
      receipts: true,
      typing: true,
      notifications: 'name-and-text',
      theme: 'system',
      language: 'system',
    });
    expect(await api.settings.update({ autoLockMinutes: 0, language: 'ko' })).toMatchObject({ autoLockMinutes: 0, language: 'ko', theme: 'system' });
    expect(await api.settings.update({ receipts: false })).toMatchObject({ autoLockMinutes: 0, language: 'ko', receipts: false });
    for (const bad of [{ autoLockMinutes: 7 }, { theme: 'neon' }, { unknown: true }, { receipts: 'yes' }]) {
      // `as never`: deliberately outside the request type, as a compromised renderer could send
      expect(await failure(api.settings.update(bad as never))).toMatchObject({ code: 'BAD_REQUEST' });
    }
    await api.vault.lock({});
    expect(await failure(api.settings.get({}))).toMatchObject({ code: 'LOCKED' });
    await unlock(api, PASSPHRASE);
    expect(await api.settings.get({})).toMatchObject({ autoLockMinutes: 0, language: 'ko', receipts: false, typing: true });
  });
});
