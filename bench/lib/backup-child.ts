// Run in a child process by the backup scenario: restores a backup into a new profile folder
// (or, with "baseline", only loads the same modules), then reports this process's peak resident
// memory as one JSON line on stdout. A separate process, so the harness's heap is not counted.
//   node --import tsx bench/lib/backup-child.ts BACKUP_FILE TARGET_DIR PASSPHRASE [baseline]
import { importBackup } from '../../main/core/backup/index.js';
import { initCrypto } from '../../main/core/crypto/index.js';
import { ARGON2ID_PRESETS, PassphraseKeyProtector } from '../../main/core/vault/index.js';

async function main(): Promise<void> {
  const [file, target, passphrase, mode] = process.argv.slice(2);
  if (!file || !target || !passphrase) throw new Error('usage: backup-child.ts BACKUP_FILE TARGET_DIR PASSPHRASE [baseline]');
  await initCrypto();
  let messages = 0;
  let ms = 0;
  if (mode !== 'baseline') {
    const started = performance.now();
    // Argon2id at its minimum: its memory is fixed by its parameters (MODERATE alone is 256 MiB,
    // in a worker that ends before the stream starts), so it is kept out of the streaming figure.
    const result = await importBackup({
      profileDir: target,
      input: file,
      passphrase,
      protector: new PassphraseKeyProtector(passphrase, { params: ARGON2ID_PRESETS.min }),
    });
    ms = performance.now() - started;
    messages = result.messages;
  }
  // resourceUsage().maxRSS: the peak resident set of this process so far, in KiB.
  process.stdout.write(`${JSON.stringify({ maxRss: process.resourceUsage().maxRSS * 1024, messages, ms })}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`backup-child: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exit(1);
  },
);
