// Argon2id parameters from a crafted keyring file are refused before any hashing starts:
// Worker is wrapped in a spy, so a refused unwrap must not have constructed one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

const workers = vi.hoisted(() => ({ started: 0 }));
vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  class CountingWorker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      super(...args);
      workers.started++;
    }
  }
  return { ...original, Worker: CountingWorker };
});

const { ARGON2ID_PRESETS, createVault, KEYRING_FILE, PassphraseKeyProtector, unlockVault, VaultError } = await import('./index.js');

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'refuge-vault-params-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('Argon2id parameter caps', () => {
  it('a real unwrap does start a worker (so the spy works)', async () => {
    await createVault(dir, new PassphraseKeyProtector('pw', { params: ARGON2ID_PRESETS.min }));
    const before = workers.started;
    await unlockVault(dir, new PassphraseKeyProtector('pw', { params: ARGON2ID_PRESETS.min }));
    expect(workers.started).toBe(before + 1);
  });

  it('absurd parameters in a crafted file are refused before hashing', async () => {
    await createVault(dir, new PassphraseKeyProtector('pw', { params: ARGON2ID_PRESETS.min }));
    const path = join(dir, KEYRING_FILE);
    const good = JSON.parse(readFileSync(path, 'utf8')) as { wrapped: { kdf: Record<string, unknown> } };
    const absurd = [
      { memlimit: 64 * 1024 * 1024 * 1024 }, // 64 GiB
      { memlimit: 1024 * 1024 * 1024 + 1024 }, // just over the 1 GiB cap
      { memlimit: 1e300 },
      { memlimit: 1024 }, // below libsodium's minimum
      { opslimit: 1_000_000 },
      { opslimit: 0 },
      { opslimit: 2.5 },
      { opslimit: -1 },
    ];
    for (const change of absurd) {
      writeFileSync(path, JSON.stringify({ ...good, wrapped: { ...good.wrapped, kdf: { ...good.wrapped.kdf, ...change } } }));
      const before = workers.started;
      const started = performance.now();
      const error = await unlockVault(dir, new PassphraseKeyProtector('pw', { params: ARGON2ID_PRESETS.min })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(VaultError);
      expect((error as InstanceType<typeof VaultError>).code).toBe('KDF_PARAMS_OUT_OF_RANGE');
      expect(workers.started).toBe(before);
      expect(performance.now() - started).toBeLessThan(200);
    }
  });

  it('absurd parameters passed by a caller are refused too', () => {
    expect(() => new PassphraseKeyProtector('pw', { params: { opslimit: 3, memlimit: 8 * 1024 ** 3 } })).toThrow(
      expect.objectContaining({ code: 'KDF_PARAMS_OUT_OF_RANGE' }),
    );
  });
});
