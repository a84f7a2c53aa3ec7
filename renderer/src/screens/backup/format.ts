// Small pure helpers of the backup screens (unit-tested in format.test.ts).
import type { BackupProgress } from '../../../../shared/ipc/channels/backup.js';

/** "512 KB", "3.2 MB", "1.4 GB": sizes as a person reads them. */
export function formatSize(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '0 KB';
  if (bytes < 1024 * 1024) return `${Math.max(bytes === 0 ? 0 : 1, Math.round(bytes / 1024))} KB`;
  if (bytes < 1024 * 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
  return `${(bytes / (1024 * 1024 * 1024)).toFixed(1)} GB`;
}

/**
 * How far a job is, 0..1, or null while unknown (the key derivation runs first). An import
 * counts bytes read (it knows the file size); an export counts messages written.
 */
export function progressFraction(p: Pick<BackupProgress, 'state' | 'phase' | 'messages' | 'totalMessages' | 'bytes' | 'totalBytes'>): number | null {
  if (p.state === 'done') return 1;
  if (p.phase === 'kdf') return null;
  if (p.totalBytes) return Math.min(1, p.bytes / p.totalBytes);
  if (p.totalMessages > 0) return Math.min(1, p.messages / p.totalMessages);
  return null;
}

/** A full path on macOS/Linux (/...), or Windows (C:\..., \\server\share\...). */
export function isFullPath(path: string): boolean {
  const p = path.trim();
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}

/** The i18n key of a backup error code, when the UI has its own words for it. */
export const BACKUP_ERROR_CODES = [
  'WRONG_PASSPHRASE',
  'TRUNCATED',
  'CORRUPT',
  'TRAILING_DATA',
  'UNSUPPORTED_VERSION',
  'UNSUPPORTED_KDF',
  'KDF_PARAMS_OUT_OF_RANGE',
  'NOT_A_BACKUP',
  'FILE_NOT_FOUND',
  'FILE_EXISTS',
  'PROFILE_EXISTS',
  'LOCKED',
  'WEAK_PASSPHRASE',
] as const;
export type BackupErrorCode = (typeof BACKUP_ERROR_CODES)[number];

export function knownBackupError(code: string | undefined): BackupErrorCode | null {
  return (BACKUP_ERROR_CODES as readonly string[]).includes(code ?? '') ? (code as BackupErrorCode) : null;
}
