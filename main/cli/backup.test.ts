// Backups end to end, headless: Alice chats with Bob, exports, restores into a brand-new profile
// folder, and the restored Alice sees the same history and keeps talking with Bob both ways,
// without anyone re-adding anyone. Every command is a real `refuge` process against a relay.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../server/relay.js';
import { findPlaintext } from '../../e2e/support/plaintext.js';
import { tempDir } from '../../e2e/support/harness.js';
import { fingerprint } from '../core/backup/test-support.js';
import { jsonLines, runRefuge as refuge } from './test-support.js';

const MESSAGES = ['안녕하세요 Bob, 백업 테스트 중이에요 👋', 'Hi Alice! Backups sound great.', 'Second one from Alice: encrypted-backup-marker', '메시지를 복원할 수 있나요?'];
const AFTER = ['Alice restored: hello again from a new machine', 'Bob hears the restored Alice loud and clear'];
const BACKUP_PASS = 'a long backup passphrase 백업';

let relay: Awaited<ReturnType<typeof startRelay>>;
const relayDir = tempDir('bk-relay');
const aliceDir = tempDir('bk-alice');
const bobDir = tempDir('bk-bob');
const filesDir = tempDir('bk-files');
const newHome = tempDir('bk-newmachine');
const restoredDir = path.join(newHome, 'profile'); // does not exist yet: a brand-new profile folder
const backupFile = path.join(filesDir, 'alice.refuge-backup');

const as = (dir: string, passphrase: string) => (...args: string[]) =>
  refuge([args[0] ?? '', ...(args[0] === 'backup' ? [args[1] ?? ''] : []), '--profile', dir, ...args.slice(args[0] === 'backup' ? 2 : 1)], {
    REFUGE_PASSPHRASE: passphrase,
    REFUGE_BACKUP_PASSPHRASE: BACKUP_PASS,
  });
const alice = as(aliceDir, 'alice passphrase');
const bob = as(bobDir, 'bob passphrase');
const restored = as(restoredDir, 'a new passphrase on the new machine');

function history(stdout: string) {
  return jsonLines<{ id: string; from: string; text: string; sentAt: number; status: string }>(stdout);
}

async function syncTexts(user: typeof alice): Promise<{ from: string; text: string }[]> {
  const result = await user('sync', '--json');
  expect(result.code, result.stderr).toBe(0);
  return jsonLines<{ from: string; text: string }>(result.stdout);
}

beforeAll(async () => {
  relay = await startRelay({ dataDir: relayDir, port: 0 });
});
afterAll(async () => {
  await relay.close();
});

describe('refuge backup: export, restore on a new machine, keep talking', { timeout: 300_000 }, () => {
  let original: ReturnType<typeof history> = [];

  it('Alice and Bob chat; Alice exports an encrypted backup', async () => {
    expect((await alice('init', '--server', relay.url, '--username', 'alice')).code).toBe(0);
    expect((await bob('init', '--server', relay.url, '--username', 'bob')).code).toBe(0);
    expect((await alice('add', 'bob')).code).toBe(0);
    expect((await alice('send', '--to', 'bob', MESSAGES[0] ?? '')).code).toBe(0);
    expect((await syncTexts(bob)).map((m) => m.text)).toEqual([MESSAGES[0]]);
    expect((await bob('send', '--to', 'alice', MESSAGES[1] ?? '')).code).toBe(0);
    expect((await alice('send', '--to', 'bob', MESSAGES[2] ?? '')).code).toBe(0);
    expect((await alice('send', '--to', 'bob', MESSAGES[3] ?? '')).code).toBe(0);
    expect((await syncTexts(alice)).map((m) => m.text)).toEqual([MESSAGES[1]]);
    expect((await syncTexts(bob)).map((m) => m.text)).toEqual([MESSAGES[2], MESSAGES[3]]);
    await syncTexts(alice); // delivery receipts

    const before = await alice('history', '--with', 'bob', '--json');
    original = history(before.stdout);
    expect(original.map((m) => m.text)).toEqual(MESSAGES);

    const exported = await alice('backup', 'export', '--out', backupFile);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toMatch(/^Backed up 4 messages to .*alice\.refuge-backup \(\d+\.\d MB\)\n$/);
    expect(statSync(backupFile).size).toBeGreaterThan(0);
    // only the finished file: no temp or partial files beside it
    expect(readdirSync(filesDir)).toEqual(['alice.refuge-backup']);
  });

  it('the backup file holds no readable message, username or passphrase', () => {
    expect(findPlaintext([filesDir], [...MESSAGES, 'alice passphrase', BACKUP_PASS, relay.url])).toEqual([]);
  });

  it('a wrong backup passphrase fails with one clear line and creates nothing', async () => {
    const before = fingerprint(newHome);
    const wrong = await refuge(['backup', 'import', '--profile', restoredDir, '--in', backupFile], {
      REFUGE_PASSPHRASE: 'whatever',
      REFUGE_BACKUP_PASSPHRASE: 'not the backup passphrase',
    });
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/wrong backup passphrase.*WRONG_PASSPHRASE/i);
    expect(fingerprint(newHome)).toEqual(before);
  });

  it('restores into a brand-new profile folder with exactly the same history', async () => {
    const imported = await restored('backup', 'import', '--in', backupFile);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('Restored alice: 4 messages');
    expect(imported.stdout).toContain('Published fresh prekeys to the relay');
    expect(imported.stdout).toContain('Started new sessions with bob');

    const after = await restored('history', '--with', 'bob', '--json');
    expect(after.code, after.stderr).toBe(0);
    expect(history(after.stdout)).toEqual(original);
    // byte-identical output, not just equal objects
    expect(after.stdout).toBe((await alice('history', '--with', 'bob', '--json')).stdout);
  });

  it('the restored Alice and Bob exchange new messages both ways without re-adding anyone', async () => {
    expect((await restored('send', '--to', 'bob', AFTER[0] ?? '')).code).toBe(0);
    expect(await syncTexts(bob)).toEqual([{ from: 'alice', text: AFTER[0], sentAt: expect.any(Number), id: expect.any(String), status: 'received' }]);
    expect((await bob('send', '--to', 'alice', AFTER[1] ?? '')).code).toBe(0);
    expect((await syncTexts(restored)).map((m) => [m.from, m.text])).toEqual([['bob', AFTER[1]]]);
    const full = history((await restored('history', '--with', 'bob', '--json')).stdout);
    expect(full.map((m) => m.text)).toEqual([...MESSAGES, ...AFTER]);
    // the safety number is unchanged: same identity keys on both sides
    const digits = (stdout: string) => stdout.split('\n').slice(1, 3).join(' ');
    const restoredNumber = digits((await restored('safety-number', '--with', 'bob')).stdout);
    expect(restoredNumber).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(restoredNumber).toBe(digits((await bob('safety-number', '--with', 'alice')).stdout));
  });

  it('refuses to restore over an existing profile, and to overwrite a backup file', async () => {
    const before = fingerprint(restoredDir);
    const again = await restored('backup', 'import', '--in', backupFile);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/PROFILE_EXISTS/);
    expect(fingerprint(restoredDir)).toEqual(before);

    const overwrite = await alice('backup', 'export', '--out', backupFile);
    expect(overwrite.code).not.toBe(0);
    expect(overwrite.stderr).toMatch(/FILE_EXISTS/);
  });

  it('explains its usage', async () => {
    const usage = await refuge(['backup'], {});
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('refuge backup export --profile DIR --out FILE');
  });
});
