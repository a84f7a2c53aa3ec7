// Every bad input a restore can meet: each gets its own typed error, and the target profile
// folder (missing, empty, or holding other files) is left exactly as it was, with nothing
// left beside it.
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import sodium from 'libsodium-wrappers-sumo';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BackupError, exportBackup, importBackup, type BackupErrorCode } from './index.js';
import { defaultKdf, encodeHeader, HEADER_BYTES, HEADER_OFFSETS, resealChecksum, SEALED_CHUNK_BYTES, type Kdf } from './format.js';
import { RecordSplitter } from './records.js';
import { BackupReader, BackupWriter } from './stream.js';
import { fingerprint, makeSourceProfile, protector, tempRoot, TEST_PARAMS } from './test-support.js';

const PASS = 'tamper-proof passphrase';
let root: string;
let good: Uint8Array;
let chunks: number;
let caseNo = 0;

beforeAll(async () => {
  await sodium.ready;
  root = tempRoot('tamper');
  const source = await makeSourceProfile(join(root, 'source'), { messages: 400, padding: 120 });
  const file = join(root, 'good.backup');
  await exportBackup({ profileDir: source.dir, key: source.key, out: file, passphrase: PASS, params: TEST_PARAMS });
  good = new Uint8Array(readFileSync(file));
  chunks = (good.length - HEADER_BYTES) / SEALED_CHUNK_BYTES;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

type TargetKind = 'missing' | 'empty' | 'unrelated files';

/** A fresh parent folder holding the target in the given state. */
function makeTarget(kind: TargetKind): { parent: string; target: string } {
  const parent = join(root, `case-${++caseNo}`);
  mkdirSync(parent);
  const target = join(parent, 'profile');
  if (kind !== 'missing') mkdirSync(target);
  if (kind === 'unrelated files') {
    writeFileSync(join(target, 'preferences.json'), '{"theme":"dark"}');
    mkdirSync(join(target, 'logs'));
    writeFileSync(join(target, 'logs', 'main.log'), 'started\n');
  }
  return { parent, target };
}

function bytesFile(bytes: Uint8Array): string {
  const file = join(root, `input-${++caseNo}.backup`);
  writeFileSync(file, bytes);
  return file;
}

interface Attempt {
  input: Uint8Array | string;
  passphrase?: string;
  kdf?: Kdf;
}

/** Runs an import against all three target states; returns the error code (the same for all). */
async function failure(attempt: Attempt, expected: BackupErrorCode, kinds: readonly TargetKind[] = ['missing', 'empty', 'unrelated files']): Promise<void> {
  const input = typeof attempt.input === 'string' ? attempt.input : bytesFile(attempt.input);
  for (const kind of kinds) {
    const { parent, target } = makeTarget(kind);
    const before = fingerprint(parent);
    const error = await importBackup({
      profileDir: target,
      input,
      passphrase: attempt.passphrase ?? PASS,
      protector: protector('new profile'),
      ...(attempt.kdf ? { kdf: attempt.kdf } : {}),
    }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error, `${expected} (${kind})`).toBeInstanceOf(BackupError);
    expect((error as BackupError).code, kind).toBe(expected);
    // The target and everything beside it: byte for byte as before (no temp folder left).
    expect(fingerprint(parent), kind).toEqual(before);
  }
}

function flipBit(bytes: Uint8Array, offset: number, bit = 0): Uint8Array {
  const copy = new Uint8Array(bytes);
  copy[offset] = (copy[offset] ?? 0) ^ (1 << bit);
  return copy;
}

function chunkStart(index: number): number {
  return HEADER_BYTES + index * SEALED_CHUNK_BYTES;
}

/** Decrypts a backup into its records (for crafting altered-but-authentic files). */
async function recordsOf(file: string): Promise<Record<string, unknown>[]> {
  const handle = await open(file, 'r');
  try {
    const reader = await BackupReader.open(handle, { passphrase: PASS });
    const records: Record<string, unknown>[] = [];
    const splitter = new RecordSplitter((value) => records.push(value as Record<string, unknown>));
    for await (const chunk of reader.chunks()) splitter.push(chunk);
    splitter.end();
    return records;
  } finally {
    await handle.close();
  }
}

/** Writes an authentic backup (right passphrase, valid stream) with arbitrary plaintext lines. */
async function authentic(lines: string[]): Promise<string> {
  const file = join(root, `authentic-${++caseNo}.backup`);
  const handle = await open(file, 'wx');
  try {
    const writer = await BackupWriter.create(handle, { passphrase: PASS, params: TEST_PARAMS });
    for (const line of lines) writer.writeText(`${line}\n`);
    await writer.finish();
  } finally {
    await handle.close();
  }
  return file;
}

describe('restoring a bad backup changes nothing', () => {
  it('the fixture spans several chunks and restores fine', async () => {
    expect(chunks).toBeGreaterThanOrEqual(4);
    const { target } = makeTarget('empty');
    await expect(importBackup({ profileDir: target, input: bytesFile(good), passphrase: PASS, protector: protector('p') })).resolves.toMatchObject({
      messages: 805,
    });
  });

  it('wrong passphrase: WRONG_PASSPHRASE', async () => {
    await failure({ input: good, passphrase: 'tamper-proof passphrasE' }, 'WRONG_PASSPHRASE');
  });

  it('truncated anywhere: TRUNCATED', async () => {
    await failure({ input: good.subarray(0, chunkStart(2) + 1000) }, 'TRUNCATED'); // inside a chunk
    await failure({ input: good.subarray(0, chunkStart(chunks - 1)) }, 'TRUNCATED'); // final chunk missing
    await failure({ input: good.subarray(0, chunkStart(0)) }, 'TRUNCATED'); // header only
    await failure({ input: good.subarray(0, good.length - 1) }, 'TRUNCATED'); // one byte short
    await failure({ input: good.subarray(0, 60) }, 'TRUNCATED'); // inside the header
  });

  it('a flipped bit: CORRUPT, wherever it is', async () => {
    await failure({ input: flipBit(good, chunkStart(0) + 5) }, 'CORRUPT'); // first chunk
    await failure({ input: flipBit(good, chunkStart(2) + 40_000, 3) }, 'CORRUPT'); // a middle chunk
    await failure({ input: flipBit(good, good.length - 1, 7) }, 'CORRUPT'); // the final chunk's MAC
    await failure({ input: flipBit(good, chunkStart(chunks - 1)) }, 'CORRUPT'); // the final chunk's tag byte
    await failure({ input: flipBit(good, HEADER_OFFSETS.salt + 3) }, 'CORRUPT'); // header: salt
    await failure({ input: flipBit(good, HEADER_OFFSETS.streamHeader) }, 'CORRUPT'); // header: stream header
    await failure({ input: flipBit(good, HEADER_OFFSETS.keyCheck + 31) }, 'CORRUPT'); // header: key check
  });

  it('chunks swapped, dropped or replayed: CORRUPT', async () => {
    const swapped = new Uint8Array(good);
    swapped.set(good.subarray(chunkStart(1), chunkStart(2)), chunkStart(2));
    swapped.set(good.subarray(chunkStart(2), chunkStart(3)), chunkStart(1));
    await failure({ input: swapped }, 'CORRUPT');
    const dropped = new Uint8Array([...good.subarray(0, chunkStart(1)), ...good.subarray(chunkStart(2))]);
    await failure({ input: dropped }, 'CORRUPT');
  });

  it('a header edited with a fixed-up checksum still fails: the header is bound to the stream', async () => {
    // e.g. a cheaper opslimit with a recomputed checksum: the key check no longer matches
    const edited = new Uint8Array(good);
    new DataView(edited.buffer).setUint32(HEADER_OFFSETS.opslimit, 2);
    resealChecksum(edited);
    await failure({ input: edited }, 'WRONG_PASSPHRASE');
  });

  it('anything after the final chunk: TRAILING_DATA', async () => {
    await failure({ input: new Uint8Array([...good, 0]) }, 'TRAILING_DATA');
    await failure({ input: new Uint8Array([...good, ...good.subarray(chunkStart(0), chunkStart(1))]) }, 'TRAILING_DATA');
  });

  it('a file from a newer Refuge: UNSUPPORTED_VERSION', async () => {
    const newer = new Uint8Array(good);
    new DataView(newer.buffer).setUint16(HEADER_OFFSETS.version, 2);
    await failure({ input: newer }, 'UNSUPPORTED_VERSION');
    resealChecksum(newer);
    await failure({ input: newer }, 'UNSUPPORTED_VERSION');
  });

  it('absurd Argon2id parameters: KDF_PARAMS_OUT_OF_RANGE, refused before any hashing', async () => {
    let calls = 0;
    const spy: Kdf = async (...args) => {
      calls++;
      return defaultKdf(...args);
    };
    for (const [field, value] of [
      ['memlimit', 2n ** 40n], // 1 TiB
      ['memlimit', 2n ** 64n - 1n],
      ['memlimit', 1024n], // below libsodium's minimum
      ['opslimit', 0xffffffffn],
      ['opslimit', 0n],
    ] as const) {
      const crafted = new Uint8Array(good);
      const view = new DataView(crafted.buffer);
      if (field === 'memlimit') view.setBigUint64(HEADER_OFFSETS.memlimit, value);
      else view.setUint32(HEADER_OFFSETS.opslimit, Number(value));
      resealChecksum(crafted);
      await failure({ input: crafted, kdf: spy }, 'KDF_PARAMS_OUT_OF_RANGE');
    }
    expect(calls).toBe(0);
    // the spy does reach the KDF for a sane header
    await failure({ input: good, passphrase: 'wrong', kdf: spy }, 'WRONG_PASSPHRASE');
    expect(calls).toBeGreaterThan(0);
  });

  it('an unknown key-derivation function: UNSUPPORTED_KDF', async () => {
    const crafted = new Uint8Array(good);
    crafted[HEADER_OFFSETS.kdf] = 2;
    resealChecksum(crafted);
    await failure({ input: crafted }, 'UNSUPPORTED_KDF');
  });

  it('not a backup at all: NOT_A_BACKUP; no file: FILE_NOT_FOUND', async () => {
    await failure({ input: new TextEncoder().encode('{"messages": ["hello"]}\n'.repeat(100)) }, 'NOT_A_BACKUP');
    await failure({ input: new Uint8Array(0) }, 'NOT_A_BACKUP');
    await failure({ input: join(root, 'no-such-file.backup') }, 'FILE_NOT_FOUND');
  });

  it('a stream that ends with TAG_FINAL in the middle: TRAILING_DATA', async () => {
    // Authentic chunks, but the writer "finished" early and more chunks follow.
    const salt = sodium.randombytes_buf(16);
    const { deriveBackupKeys } = await import('./format.js');
    const keys = await deriveBackupKeys(PASS, salt, TEST_PARAMS);
    const { state, header: streamHeader } = sodium.crypto_secretstream_xchacha20poly1305_init_push(keys.streamKey);
    const header = encodeHeader({ version: 1, params: TEST_PARAMS, salt, streamHeader }, keys.checkKey);
    const chunk = new Uint8Array(SEALED_CHUNK_BYTES - 17);
    const first = sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, header, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    const second = sodium.crypto_secretstream_xchacha20poly1305_push(state, chunk, null, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    await failure({ input: new Uint8Array([...header, ...first, ...second]) }, 'TRAILING_DATA');
    // and the same first chunk without the header as its additional data does not open
    const { state: s2, header: h2 } = sodium.crypto_secretstream_xchacha20poly1305_init_push(keys.streamKey);
    const header2 = encodeHeader({ version: 1, params: TEST_PARAMS, salt, streamHeader: h2 }, keys.checkKey);
    const noAd = sodium.crypto_secretstream_xchacha20poly1305_push(s2, chunk, null, sodium.crypto_secretstream_xchacha20poly1305_TAG_FINAL);
    await failure({ input: new Uint8Array([...header2, ...noAd]) }, 'CORRUPT');
  });

  it('authentic but malformed content: CORRUPT, after rows were already written to the temp profile', async () => {
    const records = await recordsOf(bytesFile(good));
    const lines = records.map((r) => JSON.stringify(r));
    const end = lines.length - 1;
    const firstMessage = records.findIndex((r) => r['type'] === 'message');
    const ONE = ['unrelated files'] as const; // each case below also fails late; one target state keeps this quick
    expect(await recordsOf(await authentic(lines))).toEqual(records); // the crafting itself is faithful

    // a message pointing at a conversation that does not exist (late in the file: after many inserts)
    const lastMessage = records.findLastIndex((r) => r['type'] === 'message');
    const orphan = records.map((r, i) => (i === lastMessage ? { ...r, conversationId: 'no-such-conversation' } : r));
    await failure({ input: await authentic(orphan.map((r) => JSON.stringify(r))) }, 'CORRUPT');
    // a duplicated message id
    await failure({ input: await authentic([...lines.slice(0, end), lines[firstMessage] ?? '', lines[end] ?? '']) }, 'CORRUPT', ONE);
    // no end record (the stream itself is complete)
    await failure({ input: await authentic(lines.slice(0, end)) }, 'CORRUPT', ONE);
    // records out of order
    await failure({ input: await authentic([lines[0] ?? '', ...lines.slice(2, 5), lines[1] ?? '', ...lines.slice(5)]) }, 'CORRUPT', ONE);
    // counts that do not match what came
    await failure({ input: await authentic([...lines.slice(0, firstMessage), ...lines.slice(firstMessage + 1)]) }, 'CORRUPT', ONE);
    // something that is not a record
    await failure({ input: await authentic([...lines.slice(0, 3), '{"type":"session","record":"AAAA"}', ...lines.slice(3)]) }, 'CORRUPT', ONE);
    await failure({ input: await authentic([...lines.slice(0, 3), 'not json', ...lines.slice(3)]) }, 'CORRUPT', ONE);
    // a record after the end
    await failure({ input: await authentic([...lines, lines[firstMessage] ?? '']) }, 'CORRUPT', ONE);
  });

  it('authentic but inconsistent group records: CORRUPT; a backup made before groups still restores', async () => {
    const records = await recordsOf(bytesFile(good));
    const ONE = ['unrelated files'] as const;
    const at = (type: string) => records.findIndex((r) => r['type'] === type);
    const edit = (index: number, patch: (r: Record<string, unknown>) => Record<string, unknown>) =>
      authentic(records.map((r, i) => JSON.stringify(i === index ? patch(r) : r)));
    for (const type of ['group', 'group-member', 'group-change', 'group-resend', 'group-event', 'group-receipt']) expect(at(type), type).toBeGreaterThan(0);

    // a sender key smuggled into a group record (strict schema)
    await failure({ input: await edit(at('group'), (r) => ({ ...r, ownKey: 'AAAA' })) }, 'CORRUPT', ONE);
    // a change whose body is another change than its row says
    await failure({ input: await edit(at('group-change'), (r) => ({ ...r, author: 'mallory' })) }, 'CORRUPT', ONE);
    await failure({ input: await edit(at('group-change'), (r) => ({ ...r, body: '{"op":"create"}' })) }, 'CORRUPT', ONE);
    // a member of a group that does not exist
    await failure({ input: await edit(at('group-member'), (r) => ({ ...r, groupId: '00000000-0000-4000-8000-000000000000' })) }, 'CORRUPT', ONE);
    // a system line on a message of another conversation
    const direct = records.find((r) => r['type'] === 'message' && String(r['id']).startsWith('m-'));
    const change = JSON.parse(String(records[at('group-event')]?.['change'])) as Record<string, unknown>;
    const moved = JSON.stringify({ ...change, id: direct?.['id'] });
    await failure({ input: await edit(at('group-event'), (r) => ({ ...r, messageId: direct?.['id'], change: moved })) }, 'CORRUPT', ONE);
    // a receipt on someone else's message, on a direct message, and a read that was never delivered
    const incoming = records.find((r) => r['type'] === 'message' && r['outgoing'] === false && r['conversationId'] === records[at('group')]?.['conversationId']);
    await failure({ input: await edit(at('group-receipt'), (r) => ({ ...r, messageId: incoming?.['id'] })) }, 'CORRUPT', ONE);
    await failure({ input: await edit(at('group-receipt'), (r) => ({ ...r, messageId: direct?.['id'] })) }, 'CORRUPT', ONE);
    await failure({ input: await edit(at('group-receipt'), (r) => ({ ...r, deliveredAt: null, readAt: 1 })) }, 'CORRUPT', ONE);
    // a direct conversation without a peer, and a group conversation left without its group
    const directConversation = records.findIndex((r) => r['type'] === 'conversation' && r['kind'] === 'direct');
    await failure({ input: await edit(directConversation, (r) => ({ ...r, peer: null })) }, 'CORRUPT', ONE);
    const groupConversation = records.findIndex((r) => r['type'] === 'conversation' && r['kind'] === 'group');
    // (counts fixed up, so only the check that every group conversation has its group can catch it)
    const noGroupCounts = (counts: unknown) => ({ ...(counts as object), groups: 0, groupMembers: 0, groupChanges: 0, groupResends: 0, groupEvents: 0, groupReceipts: 0 });
    const withoutGroup = records
      .filter((r) => !String(r['type']).startsWith('group'))
      .map((r) => (r['type'] === 'backup' || r['type'] === 'end' ? { ...r, counts: noGroupCounts(r['counts']) } : r));
    await failure({ input: await authentic(withoutGroup.map((r) => JSON.stringify(r))) }, 'CORRUPT', ONE);

    // Before groups were backed up: no group records and no group counts. It restores.
    const groupMessages = new Set(records.filter((r) => r['type'] === 'message' && r['conversationId'] === records[groupConversation]?.['id']).map((r) => r['id']));
    const legacyCounts = (counts: unknown) => {
      const c = counts as Record<string, number>;
      return { prekeys: c['prekeys'], contacts: c['contacts'], conversations: (c['conversations'] ?? 0) - 1, messages: (c['messages'] ?? 0) - groupMessages.size, settings: c['settings'] };
    };
    const legacy = records
      .filter((r) => !String(r['type']).startsWith('group') && r !== records[groupConversation] && !groupMessages.has(r['id']))
      .map((r) => (r['type'] === 'backup' || r['type'] === 'end' ? { ...r, counts: legacyCounts(r['counts']) } : r));
    const { target } = makeTarget('missing');
    await expect(
      importBackup({ profileDir: target, input: await authentic(legacy.map((r) => JSON.stringify(r))), passphrase: PASS, protector: protector('p') }),
    ).resolves.toMatchObject({ messages: 800 });
  });

  it('a restore that fails leaves no parent folder it created', async () => {
    const parent = join(root, `case-${++caseNo}`);
    mkdirSync(parent);
    const target = join(parent, 'new', 'deeper', 'profile');
    await expect(
      importBackup({ profileDir: target, input: bytesFile(flipBit(good, chunkStart(3))), passphrase: PASS, protector: protector('p') }),
    ).rejects.toMatchObject({ code: 'CORRUPT' });
    expect(readdirSync(parent)).toEqual([]);
  });
});
