import { describe, expect, it } from 'vitest';
import { en } from '../../i18n/en.js';
import { BACKUP_ERROR_CODES, formatSize, isFullPath, knownBackupError, progressFraction } from './format.js';

const base = { state: 'running', phase: 'stream', messages: 0, totalMessages: 0, bytes: 0, totalBytes: null } as const;

describe('backup screen helpers', () => {
  it('formats sizes', () => {
    expect(formatSize(0)).toBe('0 KB');
    expect(formatSize(10)).toBe('1 KB');
    expect(formatSize(512 * 1024)).toBe('512 KB');
    expect(formatSize(3.25 * 1024 * 1024)).toBe('3.3 MB');
    expect(formatSize(1.5 * 1024 ** 3)).toBe('1.5 GB');
  });

  it('measures an export by messages and an import by bytes; unknown while the key is derived', () => {
    expect(progressFraction({ ...base, phase: 'kdf' })).toBeNull();
    expect(progressFraction({ ...base, messages: 25, totalMessages: 100 })).toBe(0.25);
    expect(progressFraction({ ...base, messages: 10, totalMessages: 100, bytes: 300, totalBytes: 1000 })).toBe(0.3);
    expect(progressFraction({ ...base, totalMessages: 0 })).toBeNull();
    expect(progressFraction({ ...base, state: 'done' })).toBe(1);
  });

  it('accepts only full paths', () => {
    expect(isFullPath('/home/alice/refuge.backup')).toBe(true);
    expect(isFullPath('C:\\Users\\alice\\refuge.backup')).toBe(true);
    expect(isFullPath('\\\\server\\share\\refuge.backup')).toBe(true);
    expect(isFullPath('refuge.backup')).toBe(false);
    expect(isFullPath('~/refuge.backup')).toBe(false);
  });

  it('has words for every backup error code it claims to know', () => {
    for (const code of BACKUP_ERROR_CODES) expect(en[`backup.error.${code}`]).toBeTruthy();
    expect(knownBackupError('CORRUPT')).toBe('CORRUPT');
    expect(knownBackupError('INTERNAL')).toBeNull();
  });
});
