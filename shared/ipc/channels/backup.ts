// Contract channels of the backup area (see shared/ipc/contract.ts): encrypted export and
// restore as background jobs with progress, and re-establishing sessions after a restore.
import { z } from 'zod';
import { PrekeyBundleSchema } from '../../protocol/keys.js';
import { channel, Empty, Ok } from '../channel.js';
import { Passphrase, RegistrationSchema } from '../schemas.js';

/** A file path on the machine running the core (the web host's browser cannot pick one itself). */
const FilePath = z.string().min(1).max(4096);
const JobId = z.string().min(1).max(64);

export const BackupJobStateSchema = z.enum(['running', 'done', 'failed', 'cancelled']);
export type BackupJobState = z.infer<typeof BackupJobStateSchema>;

export const BackupProgressSchema = z.object({
  jobId: JobId,
  kind: z.enum(['export', 'import']),
  /** running: deriving the key, then writing/reading; done; failed (see error); cancelled (nothing left behind) */
  state: BackupJobStateSchema,
  /** 'kdf' while Argon2id runs (no byte moves yet), then 'stream' */
  phase: z.enum(['kdf', 'stream']),
  messages: z.number().int().nonnegative(),
  totalMessages: z.number().int().nonnegative(),
  /** bytes written (export) or read (import) */
  bytes: z.number().int().nonnegative(),
  /** the file's size (import only; export does not know it in advance) */
  totalBytes: z.number().int().nonnegative().nullable(),
  /** export: the file written, once done */
  path: z.string().optional(),
  /** failed: why (code and a message safe to show) */
  error: z.object({ code: z.string(), message: z.string() }).optional(),
});
export type BackupProgress = z.infer<typeof BackupProgressSchema>;

export const backupChannels = {
  'backup.export': channel(
    z.object({ path: FilePath, passphrase: Passphrase }),
    z.object({ jobId: JobId }),
    'Starts an encrypted export of the whole history to a new file at `path` (never overwrites); poll backup.progress.',
  ),
  'backup.import': channel(
    z.object({ path: FilePath, backupPassphrase: Passphrase, profilePassphrase: Passphrase.optional() }),
    z.object({ jobId: JobId }),
    'Restores a backup into this (empty) profile, all or nothing; only in state no-account. Unlock afterwards with the profile passphrase.',
  ),
  'backup.progress': channel(z.object({ jobId: JobId }), BackupProgressSchema, 'Progress of an export or import job.'),
  'backup.cancel': channel(z.object({ jobId: JobId }), Ok, 'Cancels a running job; a cancelled export leaves no file, a cancelled import no profile.'),
  'backup.pendingSessions': channel(
    Empty,
    z.object({ usernames: z.array(z.string()), prekeysStale: z.boolean() }),
    'After a restore: contacts without a session (fetch their bundles, backup.resetSession each), and whether the relay still holds pre-restore one-time prekeys (backup.freshPrekeys).',
  ),
  'backup.freshPrekeys': channel(
    Empty,
    RegistrationSchema,
    'After a restore: replaces every one-time prekey with new ones and returns the full key upload, to re-register with the relay (which then drops all the old ones).',
  ),
  'backup.prekeysUploaded': channel(Empty, Ok, 'The relay accepted the re-registration of backup.freshPrekeys: the restore is complete.'),
  'backup.resetSession': channel(
    z.object({ bundles: z.array(PrekeyBundleSchema).min(1).max(16) }),
    z.object({ username: z.string(), devices: z.number().int().nonnegative() }),
    "Starts fresh sessions with a known contact (same identity key) and queues a session-reset message so their device replaces its old session.",
  ),
} as const;
