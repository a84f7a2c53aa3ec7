// Argon2id (crypto_pwhash, ALG_ARGON2ID13) in a worker thread, so a derivation of a second or
// more never blocks the event loop. Parameters are range-checked before any worker is started.
import { Worker } from 'node:worker_threads';
import { ARGON2_LIMITS } from './wrapped-key.js';
import { VaultError } from './errors.js';

export interface Argon2idParams {
  opslimit: number;
  memlimit: number;
}

/** libsodium's presets for Argon2id (the values of crypto_pwhash_{OPS,MEM}LIMIT_*). */
export const ARGON2ID_PRESETS = {
  /** for tests only: fast, weak */
  min: { opslimit: 1, memlimit: 8192 },
  /** 2 passes, 64 MiB: for tests and test profiles of the CLI */
  interactive: { opslimit: 2, memlimit: 64 * 1024 * 1024 },
  /** 3 passes, 256 MiB: the default for real profiles (about 1.3 s on a laptop in WebAssembly) */
  moderate: { opslimit: 3, memlimit: 256 * 1024 * 1024 },
  /** 4 passes, 1 GiB: the largest we accept */
  sensitive: { opslimit: 4, memlimit: 1024 * 1024 * 1024 },
} as const satisfies Record<string, Argon2idParams>;

/** Throws VaultError KDF_PARAMS_OUT_OF_RANGE unless the parameters are within ARGON2_LIMITS. */
export function checkArgon2idParams(params: Argon2idParams): void {
  const { opslimit, memlimit } = params;
  const ok =
    Number.isSafeInteger(opslimit) &&
    Number.isSafeInteger(memlimit) &&
    opslimit >= ARGON2_LIMITS.minOpslimit &&
    opslimit <= ARGON2_LIMITS.maxOpslimit &&
    memlimit >= ARGON2_LIMITS.minMemlimit &&
    memlimit <= ARGON2_LIMITS.maxMemlimit;
  if (!ok) {
    throw new VaultError(
      'KDF_PARAMS_OUT_OF_RANGE',
      `Argon2id parameters are outside the accepted range (opslimit ${ARGON2_LIMITS.minOpslimit}..${ARGON2_LIMITS.maxOpslimit}, memlimit ${ARGON2_LIMITS.minMemlimit}..${ARGON2_LIMITS.maxMemlimit} bytes).`,
    );
  }
}

const WORKER_URL = new URL('./argon2-worker.mjs', import.meta.url);

/**
 * Derives `outputBytes` bytes from `password` with Argon2id in a fresh worker thread.
 * `password` is copied (the caller keeps and should wipe its own buffer). Throws VaultError
 * KDF_PARAMS_OUT_OF_RANGE before starting the worker, PROTECTOR_FAILED if the worker fails.
 */
export async function argon2id(password: Uint8Array, salt: Uint8Array, params: Argon2idParams, outputBytes = 32): Promise<Uint8Array> {
  checkArgon2idParams(params);
  if (salt.length !== ARGON2_LIMITS.saltBytes) throw new VaultError('INVALID_ARGUMENT', 'The Argon2id salt must be 16 bytes.');
  if (!Number.isInteger(outputBytes) || outputBytes < 16 || outputBytes > 64) {
    throw new VaultError('INVALID_ARGUMENT', 'The Argon2id output length must be 16..64 bytes.');
  }
  const passwordCopy = new Uint8Array(password);
  const saltCopy = new Uint8Array(salt);
  const worker = new Worker(WORKER_URL);
  try {
    return await new Promise<Uint8Array>((resolve, reject) => {
      const failed = () => new VaultError('PROTECTOR_FAILED', 'The key derivation worker failed.');
      worker.once('message', (reply: unknown) => {
        if (isOkReply(reply) && reply.key.length === outputBytes) resolve(reply.key);
        else reject(failed());
      });
      // The worker's error may describe its inputs in theory; keep it out of our error.
      worker.once('error', () => reject(failed()));
      worker.once('exit', () => reject(failed())); // settles nothing if a reply already came
      worker.postMessage(
        { password: passwordCopy, salt: saltCopy, opslimit: params.opslimit, memlimit: params.memlimit, outputBytes },
        [passwordCopy.buffer],
      );
    });
  } finally {
    if (passwordCopy.buffer.byteLength > 0) passwordCopy.fill(0); // transferred buffers are detached (empty)
    await worker.terminate();
  }
}

function isOkReply(reply: unknown): reply is { ok: true; key: Uint8Array } {
  if (typeof reply !== 'object' || reply === null) return false;
  const r = reply as { ok?: unknown; key?: unknown };
  return r.ok === true && r.key instanceof Uint8Array;
}
