// Backups with groups, headless: three CLI profiles and a relay. Alice's group (created, renamed,
// messages from everyone) is exported, restored into a brand-new profile folder, and comes back
// identical: name, members, admins, history and system lines. Then the restored Alice and the
// others exchange new group messages both ways: her sender key is fresh (ours is never in a
// backup), and theirs reach her again once her sessions were reset.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../server/relay.js';
import { findBytes, findPlaintext } from '../../e2e/support/plaintext.js';
import { tempDir } from '../../e2e/support/harness.js';
import { openStore } from '../core/store/index.js';
import { PassphraseKeyProtector, unlockVault } from '../core/vault/index.js';
import { jsonLines, runRefuge } from './test-support.js';

// Long names: a 3-letter name could turn up by chance inside ciphertext.
const ALICE = 'alice_bkgrp';
const BOB = 'bobby_bkgrp';
const CAROL = 'carol_bkgrp';
const FIRST_NAME = 'Book Club 독서 모임';
const GROUP_NAME = 'Night Owls Reading Circle 🦉';
const BEFORE = ['First chapter thoughts: the lighthouse scene', 'Carol here, 다음 책은 뭐예요?', 'Alice: vote closes on Friday'];
const AFTER = ['Restored Alice writes to the circle again', 'Bobby welcomes the restored Alice back', 'Carol confirms she reads Alice again'];
const BACKUP_PASS = 'group backup passphrase 모임';

let relay: Awaited<ReturnType<typeof startRelay>>;
const relayDir = tempDir('bkg-relay');
const filesDir = tempDir('bkg-files');
const newHome = tempDir('bkg-newmachine');
const backupFile = path.join(filesDir, 'alice-groups.refuge-backup');
const RESTORED = 'restored';
const dirs = {
  [ALICE]: tempDir('bkg-alice'),
  [BOB]: tempDir('bkg-bob'),
  [CAROL]: tempDir('bkg-carol'),
  [RESTORED]: path.join(newHome, 'profile'), // does not exist yet: a brand-new profile folder
};
const passphrases = { [ALICE]: 'alice passphrase', [BOB]: 'bob passphrase', [CAROL]: 'carol passphrase', [RESTORED]: 'alice on the new machine' };
type Name = keyof typeof dirs;

const refuge = (name: Name, command: string[], rest: string[] = []) =>
  runRefuge([...command, '--profile', dirs[name], ...rest], { REFUGE_PASSPHRASE: passphrases[name], REFUGE_BACKUP_PASSPHRASE: BACKUP_PASS });

async function ok(name: Name, command: string[], rest: string[] = []): Promise<string> {
  const out = await refuge(name, command, rest);
  expect(out.stderr, `${name} ${command.join(' ')}`).toBe('');
  expect(out.code).toBe(0);
  return out.stdout;
}

interface Line {
  id: string;
  from: string;
  text: string;
  status: string;
  group?: string;
  system?: { kind: string };
}
const lines = (stdout: string) => jsonLines<Line>(stdout);

const sync = async (name: Name) => lines(await ok(name, ['sync'], ['--json']));
const texts = (got: Line[]) => got.map((l) => [l.from, l.text]);

/** A profile's sender-key states (ours and the others' chains), read with its own key. */
async function senderKeys(name: Name): Promise<{ label: string; bytes: Uint8Array }[]> {
  const key = await unlockVault(dirs[name], new PassphraseKeyProtector(passphrases[name]));
  const store = openStore(dirs[name], key);
  try {
    const db = store.connection();
    const rows = [
      ...db.prepare('SELECT own_key FROM groups WHERE own_key IS NOT NULL', { pluck: true }).all(),
      ...db.prepare('SELECT record FROM group_sender_keys', { pluck: true }).all(),
    ];
    return rows.filter((v): v is Uint8Array<ArrayBuffer> => v instanceof Uint8Array).map((bytes, i) => ({ label: `sender key ${i}`, bytes: new Uint8Array(bytes) }));
  } finally {
    store.close();
    key.fill(0);
  }
}

beforeAll(async () => {
  relay = await startRelay({ dataDir: relayDir, port: 0 });
});
afterAll(async () => {
  await relay.close();
});

describe('refuge backup with groups: restore and keep talking in the group', { timeout: 600_000 }, () => {
  let groupId = '';
  let originalList = '';
  let originalHistory = '';

  it('a group of three chats; Alice exports a backup holding no readable group data', async () => {
    for (const name of [ALICE, BOB, CAROL] as const) await ok(name, ['init'], ['--server', relay.url, '--username', name]);
    groupId = (await ok(ALICE, ['group', 'create'], ['--name', FIRST_NAME, BOB, CAROL])).trim();
    expect(groupId).toMatch(/^[0-9a-f-]{36}$/);
    for (const name of [BOB, CAROL] as const) expect((await sync(name)).map((l) => l.system?.kind)).toEqual(['create']);
    await ok(ALICE, ['group', 'rename'], ['--group', groupId, GROUP_NAME]);
    await ok(ALICE, ['group', 'send'], ['--group', groupId, BEFORE[0] ?? '']);
    expect((await sync(BOB)).map((l) => l.system?.kind ?? l.text)).toEqual(['rename', BEFORE[0]]);
    expect((await sync(CAROL)).map((l) => l.system?.kind ?? l.text)).toEqual(['rename', BEFORE[0]]);
    await ok(CAROL, ['group', 'send'], ['--group', groupId, BEFORE[1] ?? '']);
    await ok(ALICE, ['group', 'send'], ['--group', groupId, BEFORE[2] ?? '']);
    expect(texts(await sync(ALICE))).toEqual([[CAROL, BEFORE[1]]]);
    expect(texts(await sync(BOB))).toEqual([
      [CAROL, BEFORE[1]],
      [ALICE, BEFORE[2]],
    ]);
    await sync(CAROL);
    await sync(ALICE); // delivery receipts

    originalList = await ok(ALICE, ['group', 'list'], ['--json']);
    const [group] = JSON.parse(originalList) as { name: string; members: { username: string; admin: boolean }[] }[];
    expect(group).toMatchObject({
      name: GROUP_NAME,
      members: [
        { username: ALICE, admin: true },
        { username: BOB, admin: false },
        { username: CAROL, admin: false },
      ],
    });
    originalHistory = await ok(ALICE, ['group', 'history'], ['--group', groupId, '--json']);
    const history = lines(originalHistory);
    expect(history.map((l) => l.system?.kind ?? l.text)).toEqual(['create', 'rename', ...BEFORE]);

    const exported = await refuge(ALICE, ['backup', 'export'], ['--out', backupFile]);
    expect(exported.stderr).toBe('');
    expect(exported.stdout).toMatch(/^Backed up 5 messages to /);

    // No 8-byte run of the group's id, names, messages or any sender key, in any encoding.
    expect(findPlaintext([filesDir], [groupId, FIRST_NAME, GROUP_NAME, ...BEFORE, ALICE, BOB, CAROL])).toEqual([]);
    const keys = await senderKeys(ALICE);
    expect(keys).toHaveLength(2); // our chain and Carol's (Bob has not written to the group yet)
    expect(findBytes([filesDir], keys)).toEqual([]);
  });

  it('restores into a brand-new folder with the same group, members, admins, history and system lines', async () => {
    const imported = await refuge(RESTORED, ['backup', 'import'], ['--in', backupFile]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain(`Restored ${ALICE}: 5 messages`);
    expect(imported.stdout).toContain(`Started new sessions with ${BOB}, ${CAROL}`);
    expect(await ok(RESTORED, ['group', 'list'], ['--json'])).toBe(originalList);
    expect(await ok(RESTORED, ['group', 'history'], ['--group', groupId, '--json'])).toBe(originalHistory);
    // No sender key came back: the restored device starts its own chain afresh.
    expect(await senderKeys(RESTORED)).toEqual([]);
  });

  it('the restored Alice and the others exchange new group messages both ways', async () => {
    await ok(RESTORED, ['group', 'send'], ['--group', groupId, AFTER[0] ?? '']);
    expect(texts(await sync(BOB))).toEqual([[ALICE, AFTER[0]]]);
    await ok(BOB, ['group', 'send'], ['--group', groupId, AFTER[1] ?? '']);
    expect(texts(await sync(CAROL))).toEqual([
      [ALICE, AFTER[0]],
      [BOB, AFTER[1]],
    ]);
    await ok(CAROL, ['group', 'send'], ['--group', groupId, AFTER[2] ?? '']);
    expect(texts(await sync(RESTORED))).toEqual([
      [BOB, AFTER[1]],
      [CAROL, AFTER[2]],
    ]);
    expect(texts(await sync(BOB))).toEqual([[CAROL, AFTER[2]]]);
    const history = lines(await ok(RESTORED, ['group', 'history'], ['--group', groupId, '--json']));
    expect(history.map((l) => l.system?.kind ?? l.text)).toEqual(['create', 'rename', ...BEFORE, ...AFTER]);
  });
});
