// The passphrase protector used by the CLI and the web host (no OS keychain there).
import { RefugeError } from '../../../shared/ipc/contract.js';
import { ARGON2ID_PRESETS } from '../vault/argon2.js';
import { PassphraseKeyProtector } from '../vault/passphrase.js';
import type { KeyProtector } from '../vault/wrapped-key.js';

/**
 * New profiles use Argon2id MODERATE. REFUGE_ARGON2=interactive picks libsodium's INTERACTIVE
 * cost instead, for throwaway test profiles; it only affects profiles created while it is set,
 * since unlocking always uses the parameters stored with the wrapped key.
 */
export function passphraseProtectorFactory(): (passphrase: string | undefined) => KeyProtector {
  const params = process.env.REFUGE_ARGON2 === 'interactive' ? ARGON2ID_PRESETS.interactive : ARGON2ID_PRESETS.moderate;
  return (passphrase) => {
    if (!passphrase) throw new RefugeError('PASSPHRASE_REQUIRED', 'Enter your passphrase.');
    return new PassphraseKeyProtector(passphrase, { params });
  };
}
