// A running export or import: starts the job, polls backup.progress until it ends, cancels on
// request, and shows it as a progress bar with messages and bytes (BackupProgressView).
import { useCallback, useEffect, useRef, useState } from 'react';
import type { BackupProgress } from '../../../../shared/ipc/channels/backup.js';
import { errorCode, errorMessage, useRefuge } from '../../api.js';
import { t, type StringKey } from '../../i18n/index.js';
import { MIN_PASSPHRASE } from '../../settings/strength.js';
import { formatSize, knownBackupError, progressFraction } from './format.js';

const POLL_MS = 200;

export type { BackupProgress };

/** A user-facing message for an error from the core (its code, when the UI has its own words). */
export function backupErrorText(e: unknown): string {
  const known = knownBackupError(errorCode(e));
  return known ? t(`backup.error.${known}`, { min: MIN_PASSPHRASE }) : errorMessage(e);
}

export function useBackupJob() {
  const api = useRefuge();
  const [progress, setProgress] = useState<BackupProgress | null>(null);
  const alive = useRef(true);
  const jobId = useRef<string | null>(null);

  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);

  /** Starts a job and follows it to its end; resolves with its final progress. */
  const run = useCallback(
    async (kind: BackupProgress['kind'], start: () => Promise<{ jobId: string }>): Promise<BackupProgress> => {
      const { jobId: id } = await start();
      jobId.current = id;
      // Shown at once, before the first poll: the key derivation takes a moment.
      let current: BackupProgress = { jobId: id, kind, state: 'running', phase: 'kdf', messages: 0, totalMessages: 0, bytes: 0, totalBytes: null };
      if (alive.current) setProgress(current);
      while (current.state === 'running') {
        await new Promise((resolve) => window.setTimeout(resolve, POLL_MS));
        current = await api.backup.progress({ jobId: id });
        if (alive.current) setProgress(current);
      }
      jobId.current = null;
      return current;
    },
    [api],
  );

  const cancel = useCallback(() => {
    const id = jobId.current;
    if (id) void api.backup.cancel({ jobId: id }).catch(() => undefined);
  }, [api]);

  const reset = useCallback(() => setProgress(null), []);

  // Leaving the screen mid-export cancels it rather than leaving a job nobody watches.
  useEffect(() => cancel, [cancel]);

  return { progress, run, cancel, reset };
}

export function BackupProgressView({
  progress,
  label,
  messagesKey,
  testId,
  onCancel,
}: {
  progress: BackupProgress;
  label: StringKey;
  messagesKey: StringKey;
  testId: string;
  onCancel: () => void;
}) {
  const fraction = progressFraction(progress);
  const running = progress.state === 'running';
  const text =
    progress.phase === 'kdf' && running
      ? t('backup.progress.kdf')
      : t(messagesKey, {
          done: progress.messages.toLocaleString(),
          total: progress.totalMessages.toLocaleString(),
          size: formatSize(progress.bytes),
          totalSize: formatSize(progress.totalBytes ?? progress.bytes),
        });
  return (
    <div className="backup-progress" data-testid={testId} data-state={progress.state} data-phase={progress.phase}>
      {/* no value while the key is derived: an indeterminate bar */}
      <progress className="backup-progress__bar" aria-label={t(label)} max={1} {...(fraction === null ? {} : { value: fraction })} />
      <div className="backup-progress__row">
        <p className="backup-progress__text" role="status" data-testid={`${testId}-text`}>
          {text}
        </p>
        {running ? (
          <button type="button" className="button" data-testid={`${testId}-cancel`} onClick={onCancel}>
            {t('backup.cancel')}
          </button>
        ) : null}
      </div>
    </div>
  );
}
