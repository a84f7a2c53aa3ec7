// backup: export and restore a 100,000-message profile.
// - export throughput (bytes of backup written per second of streaming: reading the snapshot,
//   serializing, encrypting, writing; Argon2id and the final fsync excluded, the latter reported
//   as export_fsync) against raw crypto_secretstream push
//   throughput over the same number of 64 KiB chunks, measured in the same run. Goal: ≥ 50 %.
// - peak RSS of a fresh process restoring the backup into a new profile (Argon2id at its minimum:
//   its memory is set by its parameters, not by the history). Goal: ≤ 200 MB.
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sodium from 'libsodium-wrappers-sumo';
import { z } from 'zod';
import { exportBackup, CHUNK_BYTES } from '../../main/core/backup/index.js';
import { ARGON2ID_PRESETS } from '../../main/core/vault/index.js';
import { historyProfile } from '../lib/fixtures.js';
import { profileKey } from '../lib/profile.js';
import { goals } from '../lib/results.js';
import { defineScenario } from '../lib/scenario.js';
import { median, repeat } from '../lib/stats.js';

const ROOT = resolve(fileURLToPath(import.meta.url), '../../..');
const CHILD = resolve(ROOT, 'bench/lib/backup-child.ts');
const MB = 1024 * 1024;
const PASSPHRASE = 'bench backup passphrase';

const ReportSchema = z.object({ maxRss: z.number(), messages: z.number(), ms: z.number() });

function child(args: string[]): Promise<z.infer<typeof ReportSchema>> {
  return new Promise((done, fail) => {
    execFile(process.execPath, ['--import', 'tsx', CHILD, ...args], { cwd: ROOT, timeout: 600_000, maxBuffer: 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) return fail(new Error(`backup-child failed: ${stderr.trim() || error.message}`));
      try {
        done(ReportSchema.parse(JSON.parse(stdout.trim().split('\n').pop() ?? '')));
      } catch (e) {
        fail(new Error(`backup-child printed no report: ${(e as Error).message}`));
      }
    });
  });
}

/** MB/s of crypto_secretstream_xchacha20poly1305_push over `chunks` 64 KiB chunks (the baseline). */
function rawSecretstream(chunks: number): number {
  const key = sodium.crypto_secretstream_xchacha20poly1305_keygen();
  const { state } = sodium.crypto_secretstream_xchacha20poly1305_init_push(key);
  const chunk = sodium.randombytes_buf(CHUNK_BYTES);
  const started = performance.now();
  for (let i = 0; i < chunks; i++) {
    const tag = i === chunks - 1 ? sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL : sodium.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE;
    sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, null, tag);
  }
  const seconds = (performance.now() - started) / 1000;
  return (chunks * CHUNK_BYTES) / MB / seconds;
}

export default defineScenario({
  name: 'backup',
  description: 'export throughput vs raw crypto_secretstream (Argon2id excluded); peak RSS of a restore',
  async run(ctx) {
    await sodium.ready;
    const history = await historyProfile(ctx.size(100_000, 2_000), ctx.log);
    const key = await profileKey(history.dir);
    ctx.defer(() => key.fill(0));
    const out = ctx.tmp('backup-out');
    const reps = Math.min(ctx.reps, 3);

    const exports = await repeat(reps, async (rep) => {
      const file = join(out, `export-${rep}.backup`);
      const result = await exportBackup({ profileDir: history.dir, key, out: file, passphrase: PASSPHRASE, params: ARGON2ID_PRESETS.min });
      if (result.messages !== history.messages) throw new Error(`exported ${result.messages} of ${history.messages} messages`);
      const chunks = Math.round(result.bytes / (CHUNK_BYTES + 17));
      // baseline right after, over the same number of chunks (interleaved, so noise hits both)
      const raw = rawSecretstream(chunks);
      return { file, bytes: result.bytes, mbps: result.bytes / MB / (result.streamMs / 1000), raw, seconds: (result.streamMs + result.syncMs) / 1000, syncMs: result.syncMs };
    });
    const throughput = median(exports.map((e) => e.mbps));
    const raw = median(exports.map((e) => e.raw));
    const size = statSync(exports[0]?.file ?? '').size / MB;
    ctx.log(`export ${throughput.toFixed(1)} MB/s vs raw secretstream ${raw.toFixed(1)} MB/s; backup ${size.toFixed(1)} MB`);

    const file = exports[0]?.file ?? '';
    const restores = await repeat(reps, async (rep) => {
      const base = await child([file, ctx.tmp(`restore-base-${rep}`), PASSPHRASE, 'baseline']);
      const full = await child([file, join(ctx.tmp(`restore-${rep}`), 'profile'), PASSPHRASE]);
      if (full.messages !== history.messages) throw new Error(`restored ${full.messages} of ${history.messages} messages`);
      return { base, full };
    });
    const rss = median(restores.map((r) => r.full.maxRss)) / MB;
    const baseRss = median(restores.map((r) => r.base.maxRss)) / MB;
    const importSeconds = median(restores.map((r) => r.full.ms)) / 1000;
    ctx.log(`restore peak RSS ${rss.toFixed(1)} MB (modules only ${baseRss.toFixed(1)} MB), ${importSeconds.toFixed(1)} s`);

    return [
      ctx.row({
        metric: 'export_throughput',
        value: throughput,
        unit: 'MB/s',
        baseline: { name: 'raw crypto_secretstream push, 64 KiB chunks', value: raw },
        goal: goals.ratioAtLeast(0.5),
      }),
      ctx.row({ metric: 'export_time', value: median(exports.map((e) => e.seconds)), unit: 's', goal: goals.info() }),
      ctx.row({ metric: 'export_fsync', value: median(exports.map((e) => e.syncMs)), unit: 'ms', goal: goals.info() }),
      ctx.row({ metric: 'backup_size', value: size, unit: 'MB', goal: goals.info() }),
      ctx.row({
        metric: 'import_peak_rss',
        value: rss,
        unit: 'MB',
        baseline: { name: 'same process, modules loaded only', value: baseRss },
        goal: goals.atMost(200, 'MB'),
      }),
      ctx.row({ metric: 'import_time', value: importSeconds, unit: 's', goal: goals.info() }),
    ];
  },
});
