// The core's lock area: handlers for the channels in shared/ipc/channels/lock.ts, and the
// throttle on passphrase attempts that vault.unlock (core.ts) shares with them.
//
// The throttle lives in memory: persisting a failure counter would mean writing to the profile
// on a failed unlock, which must leave it byte-for-byte unchanged. It slows down guessing
// through the app; someone holding the files is slowed by Argon2id instead.
import { RefugeError } from '../../../shared/ipc/contract.js';
import type { lockChannels } from '../../../shared/ipc/channels/lock.js';
import { readVaultInfo, rewrapVault, vaultExists, VaultError } from '../vault/index.js';
import type { AreaHandlers, CoreContext } from './context.js';
import type { CoreOptions } from './core.js';

/** Free attempts before the delay starts. */
const FREE_ATTEMPTS = 2;
export const MAX_UNLOCK_DELAY_MS = 5 * 60_000;

/** The wait after `failures` wrong passphrases in a row: 0, 0, 1 s, 2 s, 4 s, 8 s, ... at most 5 min. */
export function unlockDelayMs(failures: number): number {
  if (failures <= FREE_ATTEMPTS) return 0;
  return Math.min(MAX_UNLOCK_DELAY_MS, 1000 * 2 ** Math.min(failures - FREE_ATTEMPTS - 1, 30));
}

function tooManyAttempts(waitMs: number): RefugeError {
  const seconds = Math.ceil(waitMs / 1000);
  const minutes = Math.ceil(seconds / 60);
  const when = seconds < 60 ? `${seconds} second${seconds === 1 ? '' : 's'}` : `${minutes} minute${minutes === 1 ? '' : 's'}`;
  return new RefugeError('TOO_MANY_ATTEMPTS', `Too many attempts. Try again in ${when}.`);
}

function isWrongPassphrase(error: unknown): boolean {
  return error instanceof VaultError && error.code === 'WRONG_PASSPHRASE';
}

/**
 * Runs passphrase checks one at a time. After FREE_ATTEMPTS wrong passphrases in a row, each
 * further one opens a growing window (unlockDelayMs) in which attempts are refused with
 * TOO_MANY_ATTEMPTS without running the check (so the right passphrase is refused too). A
 * correct passphrase resets the count.
 */
export class PassphraseAttempts {
  #failures = 0;
  #notBefore = 0;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly now: () => number) {}

  get failures(): number {
    return this.#failures;
  }

  /** `check` throws VaultError WRONG_PASSPHRASE for a wrong passphrase. */
  run<T>(check: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(() => this.#runOne(check));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  async #runOne<T>(check: () => Promise<T>): Promise<T> {
    const wait = this.#notBefore - this.now();
    if (wait > 0) throw tooManyAttempts(wait);
    try {
      const result = await check();
      this.#failures = 0;
      this.#notBefore = 0;
      return result;
    } catch (error) {
      if (isWrongPassphrase(error)) {
        this.#failures += 1;
        this.#notBefore = this.now() + unlockDelayMs(this.#failures);
      }
      throw error;
    }
  }
}

/** What protects the profile's key now, without unwrapping anything. */
export function protection(profileDir: string): 'passphrase' | 'os-keychain' | 'none' {
  if (!vaultExists(profileDir)) return 'none';
  return readVaultInfo(profileDir).kind;
}

/**
 * Whether unlocking needs a passphrase: always where there is no keychain, and on a keychain
 * app when the user added an app-lock passphrase (the key is then wrapped by it).
 */
export function needsPassphrase(options: CoreOptions): boolean {
  if (options.passphraseRequired) return true;
  try {
    return protection(options.profileDir) === 'passphrase';
  } catch {
    return false; // a damaged keyring: unlocking will report it
  }
}

export function lockHandlers(ctx: CoreContext, attempts = new PassphraseAttempts(() => ctx.now())): AreaHandlers<keyof typeof lockChannels> {
  const dir = ctx.options.profileDir;
  const keychainAvailable = !ctx.options.passphraseRequired;
  return {
    'lock.info': () => ({ protection: protection(dir), keychainAvailable }),
    'lock.changePassphrase': async (req) => {
      ctx.requireOpen();
      if (protection(dir) !== 'passphrase') throw new RefugeError('NO_PASSPHRASE', 'This profile has no passphrase yet; set one instead.');
      await attempts.run(() => rewrapVault(dir, ctx.options.protector(req.current), ctx.options.protector(req.next)));
      return { ok: true as const };
    },
    'lock.setPassphrase': async (req) => {
      ctx.requireOpen();
      if (protection(dir) !== 'os-keychain') throw new RefugeError('NOT_KEYCHAIN', 'This profile already has a passphrase; change it instead.');
      await rewrapVault(dir, ctx.options.protector(undefined), ctx.options.protector(req.next));
      return { ok: true as const };
    },
    'lock.removePassphrase': async (req) => {
      ctx.requireOpen();
      if (!keychainAvailable) throw new RefugeError('KEYCHAIN_UNAVAILABLE', 'There is no OS keychain to keep the key in; the passphrase stays.');
      if (protection(dir) !== 'passphrase') throw new RefugeError('NO_PASSPHRASE', 'This profile has no passphrase.');
      await attempts.run(() => rewrapVault(dir, ctx.options.protector(req.current), ctx.options.protector(undefined)));
      return { ok: true as const };
    },
  };
}
