// The vault: the profile's random 256-bit database key, stored only wrapped by a KeyProtector in
// `profileDir/keyring.json`. Writes are atomic (temp file + fsync + rename + fsync of the folder);
// a failed unlock or rewrap leaves the folder byte-for-byte unchanged.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { link, mkdir, open, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { VaultError } from './errors.js';
import { DB_KEY_BYTES, WRAPPED_KEY_VERSION, WrappedKeySchema, type KeyProtector, type ProtectorKind, type WrappedKey } from './wrapped-key.js';
import { errnoCode, fsyncDir } from '../durable-fs.js';

export const KEYRING_FILE = 'keyring.json';
export const KEYRING_FORMAT = 'refuge-keyring';
export const KEYRING_VERSION = 1;
/** A keyring file is a few hundred bytes; anything far larger is not ours. */
const MAX_KEYRING_BYTES = 64 * 1024;
const KNOWN_KINDS: readonly string[] = ['passphrase', 'os-keychain'] satisfies ProtectorKind[];

const KeyringFileSchema = z
  .object({
    format: z.literal(KEYRING_FORMAT),
    version: z.literal(KEYRING_VERSION),
    wrapped: WrappedKeySchema,
  })
  .strict();
type KeyringFile = z.infer<typeof KeyringFileSchema>;

export interface VaultInfo {
  /** which protector wrapped the key: the caller knows whether to ask for a passphrase */
  kind: ProtectorKind;
  /** version of the wrapped-key record */
  version: number;
}

/** True when the profile folder holds a keyring file (it may still be corrupt). */
export function vaultExists(profileDir: string): boolean {
  return existsSync(keyringPath(profileDir));
}

/** Reads which protector guards the key, without unwrapping anything. Throws VaultError. */
export function readVaultInfo(profileDir: string): VaultInfo {
  const path = keyringPath(profileDir);
  let text: string;
  try {
    if (statSync(path).size > MAX_KEYRING_BYTES) throw new VaultError('CORRUPT', 'The keyring file is not a Refuge keyring.');
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw ioError(error, 'read');
  }
  const { wrapped } = parseKeyring(text);
  return { kind: wrapped.kind, version: wrapped.version };
}

/**
 * Creates the profile's database key: 32 random bytes, wrapped by `protector` and written to
 * `profileDir/keyring.json` (the folder is created if needed). Refuses with ALREADY_EXISTS if a
 * keyring is there. Returns the raw key; the caller should wipe it (`key.fill(0)`) when done.
 */
export async function createVault(profileDir: string, protector: KeyProtector): Promise<Uint8Array> {
  try {
    await mkdir(profileDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw ioError(error, 'create the profile folder');
  }
  if (vaultExists(profileDir)) throw alreadyExists();
  const key = new Uint8Array(randomBytes(DB_KEY_BYTES));
  try {
    const wrapped = await wrapChecked(protector, key);
    await writeKeyring(profileDir, { format: KEYRING_FORMAT, version: KEYRING_VERSION, wrapped }, { replace: false });
    return key;
  } catch (error) {
    key.fill(0);
    throw error;
  }
}

/** Unwraps the database key. Throws VaultError (WRONG_PASSPHRASE, NOT_FOUND, CORRUPT, ...). Reads only. */
export async function unlockVault(profileDir: string, protector: KeyProtector): Promise<Uint8Array> {
  const { wrapped } = await readKeyring(profileDir);
  return unwrapChecked(protector, wrapped);
}

/**
 * Re-wraps the same database key under `newProtector` (e.g. a new passphrase, or moving between
 * passphrase and OS keychain). The database is not touched. If `oldProtector` cannot unwrap, the
 * folder is left unchanged.
 */
export async function rewrapVault(profileDir: string, oldProtector: KeyProtector, newProtector: KeyProtector): Promise<void> {
  const { wrapped } = await readKeyring(profileDir);
  const key = await unwrapChecked(oldProtector, wrapped);
  try {
    const rewrapped = await wrapChecked(newProtector, key);
    await writeKeyring(profileDir, { format: KEYRING_FORMAT, version: KEYRING_VERSION, wrapped: rewrapped }, { replace: true });
  } finally {
    key.fill(0);
  }
}

// ---- internals ----------------------------------------------------------------------------

function keyringPath(profileDir: string): string {
  return join(profileDir, KEYRING_FILE);
}

async function wrapChecked(protector: KeyProtector, key: Uint8Array): Promise<WrappedKey> {
  const wrapped = await protector.wrap(key);
  const parsed = WrappedKeySchema.safeParse(wrapped);
  if (!parsed.success || parsed.data.kind !== protector.kind) {
    throw new VaultError('PROTECTOR_FAILED', 'The key protector produced an invalid record.');
  }
  return parsed.data;
}

async function unwrapChecked(protector: KeyProtector, wrapped: WrappedKey): Promise<Uint8Array> {
  if (wrapped.kind !== protector.kind) {
    throw new VaultError('PROTECTOR_MISMATCH', `This profile's key is protected by "${wrapped.kind}", not "${protector.kind}".`);
  }
  const key = await protector.unwrap(wrapped);
  if (!(key instanceof Uint8Array) || key.length !== DB_KEY_BYTES) {
    throw new VaultError('CORRUPT', 'The unwrapped database key has the wrong length.');
  }
  return key;
}

async function readKeyring(profileDir: string): Promise<KeyringFile> {
  const path = keyringPath(profileDir);
  let text: string;
  try {
    if ((await stat(path)).size > MAX_KEYRING_BYTES) throw new VaultError('CORRUPT', 'The keyring file is not a Refuge keyring.');
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw ioError(error, 'read');
  }
  return parseKeyring(text);
}

/** Parses keyring.json; distinguishes a newer format (UNSUPPORTED_VERSION) from damage (CORRUPT). */
export function parseKeyring(text: string): KeyringFile {
  const corrupt = () => new VaultError('CORRUPT', 'The keyring file is damaged or not a Refuge keyring.');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw corrupt();
  }
  if (!isObject(json) || json['format'] !== KEYRING_FORMAT || typeof json['version'] !== 'number') throw corrupt();
  const unsupported = () =>
    new VaultError('UNSUPPORTED_VERSION', 'This profile was created by a newer version of Refuge; update Refuge to open it.');
  if (json['version'] !== KEYRING_VERSION) throw unsupported();
  const wrapped = json['wrapped'];
  if (!isObject(wrapped)) throw corrupt();
  if (typeof wrapped['version'] === 'number' && wrapped['version'] !== WRAPPED_KEY_VERSION) throw unsupported();
  if (typeof wrapped['kind'] === 'string' && !KNOWN_KINDS.includes(wrapped['kind'])) throw unsupported();
  const parsed = KeyringFileSchema.safeParse(json);
  if (!parsed.success) throw corrupt();
  return parsed.data;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Writes the keyring atomically: a temp file in the same folder, fsync, then rename (replace)
 * or hard link (no clobber: fails if the target appeared meanwhile), then fsync of the folder.
 */
async function writeKeyring(profileDir: string, file: KeyringFile, opts: { replace: boolean }): Promise<void> {
  const final = keyringPath(profileDir);
  const tmp = join(profileDir, `.${KEYRING_FILE}.${randomBytes(6).toString('hex')}.tmp`);
  const data = `${JSON.stringify(file, null, 2)}\n`;
  try {
    const handle = await open(tmp, 'wx', 0o600);
    try {
      await handle.writeFile(data, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    if (opts.replace) {
      await rename(tmp, final);
    } else {
      try {
        await link(tmp, final);
      } catch (error) {
        if (errnoCode(error) === 'EEXIST') throw alreadyExists();
        // File systems without hard links (some FAT/exFAT/network mounts): check, then rename.
        if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP'].includes(errnoCode(error) ?? '')) throw error;
        if (vaultExists(profileDir)) throw alreadyExists();
        await rename(tmp, final);
      }
    }
  } catch (error) {
    throw ioError(error, 'write');
  } finally {
    await rm(tmp, { force: true }).catch(() => undefined);
  }
  await fsyncDir(profileDir);
}

function alreadyExists(): VaultError {
  return new VaultError('ALREADY_EXISTS', 'A profile key already exists in this folder.');
}

function ioError(error: unknown, what: string): VaultError {
  if (error instanceof VaultError) return error;
  if (errnoCode(error) === 'ENOENT' && what === 'read') return new VaultError('NOT_FOUND', 'There is no profile key in this folder.');
  return new VaultError('IO', `Could not ${what} the profile key file (${errnoCode(error) ?? 'error'}).`, { cause: error });
}
