// `refuge backup export|import|sessions`: encrypted backups from the command line, through the
// same core channels as the app (backup.export / backup.import jobs, polled for progress).
// Passphrases come from the environment: REFUGE_PASSPHRASE (the profile) and
// REFUGE_BACKUP_PASSPHRASE (the backup file).
import path from 'node:path';
import { createApi, type RefugeApi } from '../../shared/ipc/api.js';
import { RefugeError } from '../../shared/ipc/contract.js';
import type { BackupProgress } from '../../shared/ipc/channels/backup.js';
import { reestablishSessions } from '../../shared/sync/index.js';
import { Core } from '../core/service/core.js';
import { passphraseProtectorFactory } from '../core/service/protectors.js';
import { requireFlag, UsageError, type ParsedArgs } from './args.js';

export const BACKUP_USAGE = `  refuge backup export --profile DIR --out FILE
  refuge backup import --profile DIR --in FILE
  refuge backup sessions --profile DIR
The backup passphrase is read from REFUGE_BACKUP_PASSPHRASE; import creates the new profile with REFUGE_PASSPHRASE.`;

const POLL_MS = 100;

function env(name: 'REFUGE_PASSPHRASE' | 'REFUGE_BACKUP_PASSPHRASE', what: string): string {
  const value = process.env[name];
  if (!value) throw new UsageError(`set ${name} to ${what}`);
  return value;
}

async function openProfile(args: ParsedArgs): Promise<{ core: Core; api: RefugeApi }> {
  const profileDir = path.resolve(requireFlag(args, 'profile'));
  const core = await Core.open({ profileDir, defaultServerUrl: '', passphraseRequired: true, protector: passphraseProtectorFactory() });
  return { core, api: createApi((channel, request) => core.handle(channel, request)) };
}

function megabytes(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function progressLine(verb: string, p: BackupProgress): string {
  if (p.phase === 'kdf') return `${verb}: deriving the key…`;
  const total = p.totalBytes ? ` of ${megabytes(p.totalBytes)}` : '';
  return `${verb}: ${p.messages.toLocaleString('en-US')} / ${p.totalMessages.toLocaleString('en-US')} messages · ${megabytes(p.bytes)}${total}`;
}

/** Polls a job to its end, drawing a progress line on a terminal; Ctrl-C cancels it. */
async function follow(api: RefugeApi, jobId: string, verb: string): Promise<BackupProgress> {
  const tty = process.stderr.isTTY === true;
  const cancel = () => void api.backup.cancel({ jobId }).catch(() => undefined);
  process.on('SIGINT', cancel);
  try {
    for (;;) {
      const progress = await api.backup.progress({ jobId });
      if (tty) process.stderr.write(`\r\u001b[2K${progressLine(verb, progress)}`);
      if (progress.state !== 'running') {
        if (tty) process.stderr.write('\n');
        if (progress.state === 'failed') throw new RefugeError(progress.error?.code ?? 'INTERNAL', progress.error?.message ?? 'The backup failed.');
        if (progress.state === 'cancelled') throw new RefugeError('CANCELLED', 'Cancelled; nothing was left behind.');
        return progress;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  } finally {
    process.off('SIGINT', cancel);
  }
}

/** Starts fresh sessions with every contact that has none (after a restore). False if any is left. */
async function sessions(api: RefugeApi, serverUrl: string, profileArg: string): Promise<boolean> {
  try {
    const result = await reestablishSessions(api, serverUrl);
    if (result.prekeysRefreshed) process.stdout.write('Published fresh prekeys to the relay\n');
    if (result.reset.length > 0) process.stdout.write(`Started new sessions with ${result.reset.join(', ')}\n`);
    for (const { username, code } of result.failed) process.stderr.write(`refuge: could not start a session with ${username} (${code})\n`);
    return result.failed.length === 0;
  } catch (error) {
    const code = error instanceof RefugeError ? error.code : 'error';
    process.stderr.write(
      `refuge: could not reach the relay to start new sessions (${code}); run \`refuge backup sessions --profile ${profileArg}\` later\n`,
    );
    return false;
  }
}

export async function backupCommand(args: ParsedArgs): Promise<void> {
  const [sub] = args.positionals;
  switch (sub) {
    case 'export': {
      const out = path.resolve(requireFlag(args, 'out'));
      const backupPassphrase = env('REFUGE_BACKUP_PASSPHRASE', 'the passphrase for the backup file');
      const { core, api } = await openProfile(args);
      try {
        const status = await api.vault.unlock({ passphrase: env('REFUGE_PASSPHRASE', 'the profile passphrase') });
        if (status.state !== 'ready') throw new RefugeError('NOT_REGISTERED', 'This profile never finished registering; there is nothing to back up.');
        const { jobId } = await api.backup.export({ path: out, passphrase: backupPassphrase });
        const done = await follow(api, jobId, 'Exporting');
        process.stdout.write(`Backed up ${done.messages} messages to ${done.path ?? out} (${megabytes(done.bytes)})\n`);
      } finally {
        core.close();
      }
      return;
    }
    case 'import': {
      const input = path.resolve(requireFlag(args, 'in'));
      const backupPassphrase = env('REFUGE_BACKUP_PASSPHRASE', 'the passphrase of the backup file');
      const profilePassphrase = env('REFUGE_PASSPHRASE', 'a passphrase for the new profile');
      const { core, api } = await openProfile(args);
      try {
        const { jobId } = await api.backup.import({ path: input, backupPassphrase, profilePassphrase });
        const done = await follow(api, jobId, 'Restoring');
        const status = await api.vault.unlock({ passphrase: profilePassphrase });
        process.stdout.write(`Restored ${status.username ?? 'the account'}: ${done.messages} messages\n`);
        if (status.serverUrl) await sessions(api, status.serverUrl, requireFlag(args, 'profile'));
      } finally {
        core.close();
      }
      return;
    }
    case 'sessions': {
      const { core, api } = await openProfile(args);
      try {
        const status = await api.vault.unlock({ passphrase: env('REFUGE_PASSPHRASE', 'the profile passphrase') });
        if (status.state !== 'ready' || !status.serverUrl) throw new RefugeError('NOT_REGISTERED', 'This profile is not registered with a relay.');
        if (!(await sessions(api, status.serverUrl, requireFlag(args, 'profile')))) {
          throw new RefugeError('SESSIONS_PENDING', 'Some contacts still have no session; try again when they and the relay are reachable.');
        }
      } finally {
        core.close();
      }
      return;
    }
    default:
      throw new UsageError(`refuge backup needs export, import or sessions:\n${BACKUP_USAGE}`);
  }
}
