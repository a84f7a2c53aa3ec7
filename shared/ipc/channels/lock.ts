// Contract channels of the lock area (see shared/ipc/contract.ts). Locking and unlocking are
// the core channels vault.lock / vault.unlock (wrong passphrase: WRONG_PASSPHRASE; after
// repeated failures a growing delay: TOO_MANY_ATTEMPTS "Too many attempts. Try again in N seconds.").
import { z } from 'zod';
import { channel, Empty, Ok } from '../channel.js';
import { Passphrase } from '../schemas.js';

/** A new passphrase: at least 8 characters. */
export const NewPassphrase = z.string().min(8).max(1024);

export const lockChannels = {
  'lock.info': channel(
    Empty,
    z.object({
      /** what protects the database key now; 'none' before a profile exists */
      protection: z.enum(['passphrase', 'os-keychain', 'none']),
      /** this app can keep the key in the OS keychain (Electron with a working keychain) */
      keychainAvailable: z.boolean(),
    }),
    'How the profile is locked. Works while locked.',
  ),
  'lock.changePassphrase': channel(
    z.object({ current: Passphrase, next: NewPassphrase }),
    Ok,
    'Re-wraps the database key under a new passphrase; the history is not rewritten. WRONG_PASSPHRASE if `current` is wrong (counts toward the unlock delay).',
  ),
  'lock.setPassphrase': channel(
    z.object({ next: NewPassphrase }),
    Ok,
    'Adds an app-lock passphrase to a profile whose key is in the OS keychain: the key is re-wrapped under the passphrase, which unlocking then needs. Needs the profile unlocked. NOT_KEYCHAIN if it already has a passphrase.',
  ),
  'lock.removePassphrase': channel(
    z.object({ current: Passphrase }),
    Ok,
    'Moves the database key back into the OS keychain (no passphrase needed to unlock). KEYCHAIN_UNAVAILABLE where there is none; WRONG_PASSPHRASE if `current` is wrong.',
  ),
} as const;
