// The at-rest audit: reads every file under the given folders and reports any run of
// `runLength` consecutive bytes of a secret that appears in them (UTF-8, and UTF-16LE for
// good measure, since SQLite may store text either way).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface PlaintextHit {
  file: string;
  secret: string;
  offset: number;
}

export function listFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  if (statSync(root, { throwIfNoEntry: false })?.isDirectory()) walk(root);
  return out;
}

/** relative path -> sha256 of every file under `root`: compare before and after to prove nothing changed. */
export function fileHashes(root: string): Record<string, string> {
  return Object.fromEntries(listFiles(root).map((file) => [path.relative(root, file), createHash('sha256').update(readFileSync(file)).digest('hex')]));
}

function runsOf(bytes: Buffer, runLength: number): Buffer[] {
  if (bytes.length <= runLength) return [bytes];
  const runs: Buffer[] = [];
  for (let i = 0; i + runLength <= bytes.length; i++) runs.push(bytes.subarray(i, i + runLength));
  return runs;
}

export function findPlaintext(roots: string[], secrets: string[], runLength = 8): PlaintextHit[] {
  const hits: PlaintextHit[] = [];
  const needles = secrets.flatMap((secret) =>
    [Buffer.from(secret, 'utf8'), Buffer.from(secret, 'utf16le')].flatMap((encoded) =>
      runsOf(encoded, runLength).map((run) => ({ secret, run })),
    ),
  );
  for (const root of roots) {
    for (const file of listFiles(root)) {
      const content = readFileSync(file);
      for (const { secret, run } of needles) {
        const offset = content.indexOf(run);
        if (offset !== -1) {
          hits.push({ file, secret, offset });
          break;
        }
      }
    }
  }
  return hits;
}

export interface BytesHit {
  file: string;
  /** the label of the secret */
  secret: string;
  offset: number;
}

/**
 * The same audit for binary secrets (private keys, serialized key records): any run of 8
 * consecutive bytes of a secret found in any file under `roots`. Every 8-byte window of every
 * secret goes into a set, and each file is read once, window by window, so thousands of key
 * records against megabytes of files stay fast. (Secrets shorter than 8 bytes are looked for whole.)
 */
export function findBytes(roots: string[], secrets: { label: string; bytes: Uint8Array }[]): BytesHit[] {
  const RUN = 8;
  const windows = new Map<bigint, string>();
  const short: { label: string; bytes: Buffer }[] = [];
  for (const { label, bytes } of secrets) {
    const buffer = Buffer.from(bytes);
    if (buffer.length < RUN) {
      if (buffer.length > 0) short.push({ label, bytes: buffer });
      continue;
    }
    for (let i = 0; i + RUN <= buffer.length; i++) windows.set(buffer.readBigUInt64LE(i), label);
  }
  const hits: BytesHit[] = [];
  for (const root of roots) {
    for (const file of listFiles(root)) {
      const content = readFileSync(file);
      let hit: BytesHit | undefined;
      for (let i = 0; i + RUN <= content.length && !hit; i++) {
        const label = windows.get(content.readBigUInt64LE(i));
        if (label !== undefined) hit = { file, secret: label, offset: i };
      }
      for (const { label, bytes } of short) {
        if (hit) break;
        const offset = content.indexOf(bytes);
        if (offset !== -1) hit = { file, secret: label, offset };
      }
      if (hit) hits.push(hit);
    }
  }
  return hits;
}
