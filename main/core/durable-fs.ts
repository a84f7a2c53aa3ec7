// File-system helpers the vault and the backup share for durable, atomic placement of files.
import { open } from 'node:fs/promises';

/** Makes renames in `dir` durable on POSIX (Windows cannot fsync a folder; NTFS journals it). */
export async function fsyncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // best effort: some file systems refuse fsync on folders
  }
}

/** The errno code (ENOENT, EEXIST, ...) of a Node file-system error, if it has one. */
export function errnoCode(error: unknown): string | undefined {
  if (typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string') return error.code;
  return undefined;
}
