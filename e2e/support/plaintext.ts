// The at-rest audit: reads every file under the given folders and reports any run of
// `runLength` consecutive bytes of a secret that appears in them (UTF-8, and UTF-16LE for
// good measure, since SQLite may store text either way).
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
