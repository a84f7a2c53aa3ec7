// The encrypted stream on its own: whatever mix of writes goes in (record lines, large owned
// pages, views into bigger buffers, exact multiples of a chunk, nothing at all), the reader gets
// back exactly those bytes followed by zero padding, in whole chunks, and a flipped bit anywhere
// in the body is refused.
import { readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CHUNK_BYTES, HEADER_BYTES, SEALED_CHUNK_BYTES } from './format.js';
import { BackupReader, BackupWriter } from './stream.js';
import { tempRoot, TEST_PARAMS } from './test-support.js';

const PASS = 'stream test passphrase';
let root: string;
let n = 0;

beforeAll(() => {
  root = tempRoot('stream');
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Write = { text: string } | { bytes: Uint8Array } | { owned: Uint8Array };

async function writeFile(writes: Write[]): Promise<string> {
  const file = join(root, `stream-${++n}.backup`);
  const handle = await open(file, 'wx');
  try {
    const writer = await BackupWriter.create(handle, { passphrase: PASS, params: TEST_PARAMS });
    for (const w of writes) {
      if ('text' in w) writer.writeText(w.text);
      else if ('bytes' in w) writer.write(w.bytes);
      else writer.writeOwned(w.owned);
      await writer.flush();
    }
    await writer.finish();
  } finally {
    await handle.close();
  }
  return file;
}

async function readBack(file: string): Promise<Uint8Array> {
  const handle = await open(file, 'r');
  try {
    const reader = await BackupReader.open(handle, { passphrase: PASS });
    const parts: Uint8Array[] = [];
    for await (const chunk of reader.chunks()) parts.push(new Uint8Array(chunk));
    return Buffer.concat(parts);
  } finally {
    await handle.close();
  }
}

function pattern(length: number, seed: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) out[i] = (i * 31 + seed * 7 + 1) % 251;
  return out;
}

async function roundTrip(writes: Write[], expected: Uint8Array): Promise<void> {
  const file = await writeFile(writes);
  const size = readFileSync(file).length;
  const chunks = Math.max(1, Math.ceil(expected.length / CHUNK_BYTES));
  expect(size).toBe(HEADER_BYTES + chunks * SEALED_CHUNK_BYTES);
  const plain = await readBack(file);
  expect(plain.length).toBe(chunks * CHUNK_BYTES);
  expect(Buffer.from(plain.subarray(0, expected.length)).equals(Buffer.from(expected))).toBe(true);
  expect(plain.subarray(expected.length).every((b) => b === 0)).toBe(true);
}

describe('the encrypted stream', () => {
  it('carries any mix of writes byte for byte, in whole chunks', async () => {
    const big = pattern(3 * CHUNK_BYTES + 12_345, 1);
    const host = pattern(CHUNK_BYTES, 2);
    const view = host.subarray(100, 40_100); // a view into a bigger buffer: copied, the buffer stays usable
    const lines = Array.from({ length: 3000 }, (_, i) => `{"line":${i},"text":"안녕 👋 ${'x'.repeat(i % 97)}"}\n`);
    const writes: Write[] = [...lines.slice(0, 1500).map((t) => ({ text: t })), { owned: big }, { owned: view }, { bytes: pattern(1000, 3) }, { text: lines.slice(1500).join('') }];
    const expected = Buffer.concat([Buffer.from(lines.slice(0, 1500).join('')), pattern(3 * CHUNK_BYTES + 12_345, 1), host.subarray(100, 40_100), pattern(1000, 3), Buffer.from(lines.slice(1500).join(''))]);
    await roundTrip(writes, expected);
    expect(host[100]).toBe(pattern(CHUNK_BYTES, 2)[100]); // the view's buffer was not taken
  });

  it('an exact multiple of a chunk, and nothing at all, end with one final chunk', async () => {
    await roundTrip([{ owned: pattern(2 * CHUNK_BYTES, 4) }], pattern(2 * CHUNK_BYTES, 4));
    await roundTrip([], new Uint8Array(0));
  });

  it('a file the worker cannot write: a typed IO error naming the cause, not the data', async () => {
    const file = join(root, 'read-only.backup');
    await import('node:fs').then((fs) => fs.writeFileSync(file, ''));
    const handle = await open(file, 'r'); // writes to it fail with EBADF
    try {
      const writer = await BackupWriter.create(handle, { passphrase: PASS, params: TEST_PARAMS });
      writer.writeText('secret record text\n');
      writer.writeOwned(pattern(2 * CHUNK_BYTES, 6));
      const error = await writer.finish().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ name: 'BackupError', code: 'IO', message: 'Could not write the backup file (EBADF).' });
      await writer.settle();
    } finally {
      await handle.close();
    }
  });

  it('a flipped bit in the body is refused', async () => {
    const file = await writeFile([{ owned: pattern(2 * CHUNK_BYTES + 5, 5) }]);
    const bytes = new Uint8Array(readFileSync(file));
    const at = HEADER_BYTES + SEALED_CHUNK_BYTES + 77;
    bytes[at] = (bytes[at] ?? 0) ^ 1;
    const bad = join(root, 'flipped.backup');
    await import('node:fs').then((fs) => fs.writeFileSync(bad, bytes));
    await expect(readBack(bad)).rejects.toMatchObject({ code: 'CORRUPT' });
  });
});
