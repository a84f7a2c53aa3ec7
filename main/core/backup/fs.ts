// Small file-system helpers for atomic placement of backup files and restored profiles.
import { link, open, rename, rm, stat } from 'node:fs/promises';
import { BackupError, errnoCode, ioError } from './errors.js';

export { fsyncDir } from '../durable-fs.js';

export async function fsyncFile(path: string): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Moves `from` to `to` unless `to` exists: a hard link (atomic, fails with EEXIST), then the
 * temp name is removed. File systems without hard links fall back to check-then-rename.
 * Throws `exists` if `to` is taken.
 */
export async function placeNoClobber(from: string, to: string, exists: () => BackupError): Promise<void> {
  try {
    await link(from, to);
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST') throw exists();
    if (!['EPERM', 'ENOTSUP', 'ENOSYS', 'EOPNOTSUPP', 'EXDEV'].includes(code ?? '')) throw ioError(error, 'move the file into place');
    if (await pathExists(to)) throw exists();
    try {
      await rename(from, to);
    } catch (renameError) {
      throw ioError(renameError, 'move the file into place');
    }
    return;
  }
  await rm(from, { force: true });
}

export async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === 'ENOENT') return false;
    throw ioError(error, 'check a path');
  }
}
