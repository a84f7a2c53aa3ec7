// Shared by the store tests (not imported by production code).
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function tempProfile(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'refuge-store-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function randomKey(): Uint8Array {
  return new Uint8Array(randomBytes(32));
}

/** path -> sha256 of every file under `root`, recursively. */
export { fileHashes as snapshot } from '../../../e2e/support/plaintext.js';

/** Every file under `root` (recursively), concatenated per file. */
export function readAll(root: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.push({ path, bytes: readFileSync(path) });
  }
  return out;
}

/** Every 8-byte window of `text` (UTF-8) found in any of `files`, as "path: window". */
export function plaintextHits(files: { path: string; bytes: Buffer }[], text: string, window = 8): string[] {
  const needle = Buffer.from(text, 'utf8');
  const hits: string[] = [];
  for (let i = 0; i + window <= needle.length; i++) {
    const run = needle.subarray(i, i + window);
    for (const file of files) if (file.bytes.includes(run)) hits.push(`${file.path}: ${run.toString('hex')}`);
  }
  return hits;
}
