// Encrypted backups: export the whole history to one file, restore it into a new profile.
// Format: docs/PROTOCOL.md, "Backup format".
export { BackupError, type BackupErrorCode } from './errors.js';
export { exportBackup, type BackupProgress, type ExportOptions, type ExportResult } from './export.js';
export { importBackup, RESTORE_MARKER, type ImportOptions, type ImportResult } from './import.js';
export { CHUNK_BYTES, FORMAT_VERSION, HEADER_BYTES, SEALED_CHUNK_BYTES, type Kdf } from './format.js';
