// The core's backup area: handlers for the channels in shared/ipc/channels/backup.ts.
// Export and import run as background jobs (one at a time per core) that the UI or CLI polls
// with backup.progress; after a restore, backup.pendingSessions / backup.resetSession let the
// sync flow (shared/sync/flows.ts reestablishSessions) start fresh sessions with every contact.
import { randomUUID } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { RefugeError } from '../../../shared/ipc/contract.js';
import type { BackupProgress, backupChannels } from '../../../shared/ipc/channels/backup.js';
import { fromBase64url, toBase64url } from '../../../shared/encoding/base64url.js';
import { canonicalUsername } from '../../../shared/protocol/username.js';
import { BackupError, exportBackup, importBackup, RESTORE_MARKER } from '../backup/index.js';
import {
  buildKeysUpload,
  deserializeKyberPrekey,
  deserializeSignedPrekey,
  encryptMessage,
  generateKyberPrekeys,
  generateOneTimePrekeys,
  initiateSession,
  serializeKyberPrekey,
  serializeOneTimePrekey,
  serializeSession,
  verifyBundle,
} from '../crypto/index.js';
import { ARGON2ID_PRESETS, type Argon2idParams } from '../vault/index.js';
import type { AreaHandlers, CoreContext } from './context.js';
import { toRefugeError } from './errors.js';
import { encodePayload } from './payload.js';

/** Shorter backup passphrases are refused: the file may end up anywhere, and Argon2id only slows guessing. */
export const MIN_BACKUP_PASSPHRASE = 8;
/** Finished jobs remembered for backup.progress. */
const KEEP_FINISHED = 16;
/** Fresh one-time prekeys after a restore: as many as a new account starts with (core.ts). */
const ONE_TIME_AFTER_RESTORE = 100;
const KYBER_ONE_TIME_AFTER_RESTORE = 20;

/** Argon2id cost of new backups: MODERATE; REFUGE_ARGON2=interactive (test profiles) picks INTERACTIVE. */
export function backupKdfParams(): Argon2idParams {
  return process.env.REFUGE_ARGON2 === 'interactive' ? ARGON2ID_PRESETS.interactive : ARGON2ID_PRESETS.moderate;
}

interface Job {
  progress: BackupProgress;
  controller: AbortController;
  finished: boolean;
}

function toIpcError(error: unknown): { code: string; message: string } {
  if (error instanceof BackupError) return { code: error.code, message: error.message };
  const refuge = toRefugeError(error);
  return { code: refuge.code, message: refuge.message };
}

function toRefuge(error: unknown): RefugeError {
  return error instanceof BackupError ? new RefugeError(error.code, error.message) : toRefugeError(error);
}

export function backupHandlers(ctx: CoreContext): AreaHandlers<keyof typeof backupChannels> {
  const jobs = new Map<string, Job>();

  function running(): Job | undefined {
    for (const job of jobs.values()) if (!job.finished) return job;
    return undefined;
  }

  function start(kind: 'export' | 'import', run: (job: Job) => Promise<void>): { jobId: string } {
    if (running()) throw new RefugeError('BACKUP_BUSY', 'A backup or restore is already running.');
    const jobId = randomUUID();
    const job: Job = {
      controller: new AbortController(),
      finished: false,
      progress: { jobId, kind, state: 'running', phase: 'kdf', messages: 0, totalMessages: 0, bytes: 0, totalBytes: null },
    };
    jobs.set(jobId, job);
    void run(job).then(
      () => {
        job.progress = { ...job.progress, state: 'done' };
      },
      (error: unknown) => {
        const cancelled = error instanceof BackupError && error.code === 'CANCELLED';
        job.progress = cancelled ? { ...job.progress, state: 'cancelled' } : { ...job.progress, state: 'failed', error: toIpcError(error) };
      },
    ).finally(() => {
      job.finished = true;
      const finished = [...jobs.values()].filter((j) => j.finished);
      for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) jobs.delete(old.progress.jobId);
    });
    return { jobId };
  }

  function checkPath(path: string): void {
    if (!isAbsolute(path)) throw new RefugeError('BAD_PATH', 'Give the full path of the backup file (starting from the root folder).');
  }

  return {
    'backup.export': (req) => {
      ctx.requireReady();
      checkPath(req.path);
      if (Array.from(req.passphrase).length < MIN_BACKUP_PASSPHRASE) {
        throw new RefugeError('WEAK_PASSPHRASE', `A backup passphrase needs at least ${MIN_BACKUP_PASSPHRASE} characters.`);
      }
      // A copy: locking wipes the core's key, and the export must notice the lock, not read zeros.
      const key = new Uint8Array(ctx.requireOpen().key);
      return start('export', async (job) => {
        try {
          const result = await exportBackup({
            profileDir: ctx.options.profileDir,
            key,
            out: req.path,
            passphrase: req.passphrase,
            params: backupKdfParams(),
            signal: job.controller.signal,
            now: () => ctx.now(),
            check: () => {
              if (ctx.status().state !== 'ready') throw new BackupError('LOCKED');
            },
            onProgress: (p) => {
              job.progress = { ...job.progress, phase: 'stream', ...p };
            },
          });
          job.progress = { ...job.progress, path: result.path };
        } finally {
          key.fill(0);
        }
      });
    },

    'backup.import': (req) => {
      if (ctx.status().state !== 'no-account') {
        throw new RefugeError('PROFILE_EXISTS', 'This profile already has an account. Restore into a new, empty profile.');
      }
      checkPath(req.path);
      if (ctx.options.passphraseRequired && !req.profilePassphrase) {
        throw new RefugeError('PASSPHRASE_REQUIRED', 'Choose a passphrase to protect this profile.');
      }
      const protector = ctx.options.protector(req.profilePassphrase);
      return start('import', async (job) => {
        await importBackup({
          profileDir: ctx.options.profileDir,
          input: req.path,
          passphrase: req.backupPassphrase,
          protector,
          signal: job.controller.signal,
          onProgress: (p) => {
            job.progress = { ...job.progress, phase: 'stream', ...p };
          },
        });
      });
    },

    'backup.progress': (req) => {
      const job = jobs.get(req.jobId);
      if (!job) throw new RefugeError('UNKNOWN_JOB', 'There is no such backup job.');
      return job.progress;
    },

    'backup.cancel': (req) => {
      const job = jobs.get(req.jobId);
      if (!job) throw new RefugeError('UNKNOWN_JOB', 'There is no such backup job.');
      job.controller.abort();
      return { ok: true as const };
    },

    'backup.pendingSessions': () => {
      const store = ctx.requireReady();
      const usernames = store
        .listContacts()
        .map((c) => c.username)
        .filter((username) => store.listSessionDevices(username).length === 0);
      return { usernames, prekeysStale: existsSync(join(ctx.options.profileDir, RESTORE_MARKER)) };
    },

    'backup.freshPrekeys': () => {
      const store = ctx.requireReady();
      const identity = ctx.identity(store);
      return store.transaction(() => {
        const account = ctx.requireAccount(store);
        // Every one-time prekey of the backup goes: the relay may have handed some out already.
        for (const id of store.listPrekeyIds('onetime')) store.deletePrekey('onetime', id);
        for (const id of store.listPrekeyIds('kyber')) store.deletePrekey('kyber', id); // keeps the last-resort key
        let nextId = account.nextPrekeyId;
        const oneTime = generateOneTimePrekeys(nextId, ONE_TIME_AFTER_RESTORE);
        nextId += oneTime.length;
        const kyberOneTime = generateKyberPrekeys(identity, nextId, KYBER_ONE_TIME_AFTER_RESTORE, false);
        nextId += kyberOneTime.length;
        store.putPrekeys('onetime', oneTime.map((k) => ({ id: k.id, record: serializeOneTimePrekey(k) })));
        store.putPrekeys('kyber', kyberOneTime.map((k) => ({ id: k.id, record: serializeKyberPrekey(k), lastResort: false })));
        store.saveAccount({ ...account, nextPrekeyId: nextId });
        const signed = store.listPrekeyIds('signed').at(-1);
        const lastResort = store.listPrekeyIds('kyber').find((id) => store.getPrekeyRow('kyber', id)?.lastResort === true);
        const signedRow = signed === undefined ? undefined : store.getPrekey('signed', signed);
        const lastResortRow = lastResort === undefined ? undefined : store.getPrekey('kyber', lastResort);
        if (!signedRow || !lastResortRow) throw new RefugeError('INTERNAL', 'The profile is missing its prekeys.');
        return {
          username: account.username,
          deviceId: account.deviceId,
          keys: buildKeysUpload(identity, deserializeSignedPrekey(signedRow), deserializeKyberPrekey(lastResortRow), oneTime, kyberOneTime),
        };
      });
    },

    'backup.prekeysUploaded': () => {
      ctx.requireReady();
      rmSync(join(ctx.options.profileDir, RESTORE_MARKER), { force: true });
      return { ok: true as const };
    },

    'backup.resetSession': (req) => {
      const store = ctx.requireReady();
      const account = ctx.requireAccount(store);
      const first = req.bundles[0];
      if (!first) throw new RefugeError('BAD_REQUEST', 'No prekey bundle was given.');
      const username = canonicalUsername(first.username);
      if (username === account.username) throw new RefugeError('SELF_CONTACT', 'You cannot start a session with yourself.');
      const contact = store.getContact(username);
      if (!contact) throw new RefugeError('UNKNOWN_CONTACT', `${username} is not among your contacts.`);
      try {
        for (const bundle of req.bundles) {
          if (canonicalUsername(bundle.username) !== username || bundle.identityKey !== first.identityKey) {
            throw new RefugeError('BAD_BUNDLE', 'The relay returned inconsistent keys for this user.');
          }
          verifyBundle(bundle);
        }
      } catch (error) {
        throw toRefuge(error);
      }
      // The backup holds the identity key the user knew (and maybe verified). Anything else is an
      // identity change, which only the user may accept (contacts.add records it as pending).
      if (!equalBytes(contact.identityKey, fromBase64url(first.identityKey))) {
        throw new RefugeError('IDENTITY_CHANGED', `${username}'s safety number has changed. Verify it before continuing.`);
      }
      const identity = ctx.identity(store);
      const now = ctx.now();
      const hello = encodePayload({ v: 1, type: 'session', kind: 'reset' });
      store.transaction(() => {
        const rows = req.bundles.map((bundle) => {
          // A prekey message on a fresh session: the peer's core replaces its old session with it.
          const { session, ciphertext } = encryptMessage(initiateSession(identity, bundle, now), hello, now);
          store.putSession(username, bundle.deviceId, serializeSession(session));
          return { envelopeId: randomUUID(), messageId: null, to: username, toDeviceId: bundle.deviceId, body: toBase64url(ciphertext), createdAt: now };
        });
        store.enqueueOutbox(rows);
      });
      return { username, devices: req.bundles.length };
    },
  };
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}
