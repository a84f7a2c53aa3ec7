import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPlaintext } from './plaintext.js';

describe('at-rest plaintext scanner', () => {
  it('finds an 8-byte run of a secret in a nested file, in UTF-8 or UTF-16', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scan-'));
    mkdirSync(path.join(dir, 'a/b'), { recursive: true });
    writeFileSync(path.join(dir, 'a/b/x.db'), Buffer.concat([Buffer.alloc(100), Buffer.from('..하세요 Bob..'), Buffer.alloc(5)]));
    writeFileSync(path.join(dir, 'y.wal'), Buffer.from('zzz Bob 👋', 'utf16le'));
    const hits = findPlaintext([dir], ['안녕하세요 Bob 👋']);
    expect(hits.map((h) => path.basename(h.file)).sort()).toEqual(['x.db', 'y.wal']);
  });

  it('flags a file holding exactly 8 bytes of a secret but not one holding fewer', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'scan-'));
    writeFileSync(path.join(dir, 'f'), 'Bob 👋'); // 8 bytes in UTF-8? 'Bob ' is 4 + emoji 4 = 8: must be found
    writeFileSync(path.join(dir, 'g'), 'Bob');
    const hits = findPlaintext([dir], ['안녕하세요 Bob 👋']);
    expect(hits.map((h) => path.basename(h.file))).toEqual(['f']);
  });
});
