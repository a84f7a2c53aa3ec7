// Groups, headless: three CLI profiles against a relay on a random port, each command a real
// `refuge` process. A group chats, one member is removed and can read nothing sent after, and
// a subpoena of the relay's storage finds no group id, group name or member list.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Database from '@signalapp/sqlcipher';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../server/relay.js';
import { findPlaintext } from '../../e2e/support/plaintext.js';
import { tempDir } from '../../e2e/support/harness.js';
import { createApi } from '../../shared/ipc/api.js';
import { Core } from '../core/service/core.js';
import { passphraseProtectorFactory } from '../core/service/protectors.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// Long names: a 3-letter name could turn up by chance inside base64 ciphertext.
const ALICE = 'alice_grp8';
const BOB = 'bobby_grp8';
const CAROL = 'carol_grp8';
const GROUP_NAME = 'Family Gathering 가족';
const BEFORE = ['Dinner at 7? 🍝', "I'll bring dessert"];
const AFTER = ['Now that Carol is out: surprise party plan', 'Secret: the cake is in the garage'];

let relay: Awaited<ReturnType<typeof startRelay>>;
const relayDir = tempDir('group-relay');
const dirs = { [ALICE]: tempDir('group-alice'), [BOB]: tempDir('group-bob'), [CAROL]: tempDir('group-carol') };
const passphrases = { [ALICE]: 'alice passphrase', [BOB]: 'bob passphrase', [CAROL]: 'carol passphrase' };
type Name = keyof typeof dirs;

async function refuge(name: Name, command: string[], rest: string[]) {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin/refuge.mjs'), ...command, '--profile', dirs[name], ...rest], {
      env: { ...process.env, REFUGE_PASSPHRASE: passphrases[name], REFUGE_ARGON2: 'interactive' },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

interface Line {
  id: string;
  from: string;
  text: string;
  group?: string;
  system?: { kind: string };
}
const lines = (stdout: string): Line[] =>
  stdout
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line);

async function sync(name: Name): Promise<Line[]> {
  const out = await refuge(name, ['sync'], ['--json']);
  expect(out.stderr).toBe('');
  expect(out.code).toBe(0);
  return lines(out.stdout);
}

/** Every cell of every table of the relay's SQLite file, as text (blobs as UTF-8, hex and base64). */
function dumpRelay(): { table: string; cells: string[] }[] {
  const db = new Database(path.join(relayDir, 'relay.sqlite'));
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table'", { pluck: true })
      .all()
      .filter((v): v is string => typeof v === 'string');
    const rows: { table: string; cells: string[] }[] = [];
    for (const table of tables) {
      for (const row of db.prepare(`SELECT * FROM "${table.replaceAll('"', '""')}"`).all()) {
        const cells = Object.values(row).flatMap((v) =>
          v instanceof Uint8Array ? [Buffer.from(v).toString('utf8'), Buffer.from(v).toString('hex'), Buffer.from(v).toString('base64')] : [String(v)],
        );
        rows.push({ table, cells });
      }
    }
    return rows;
  } finally {
    db.close();
  }
}

/** What a subpoena of the relay would turn up about the group: must be nothing. */
function subpoena(groupId: string) {
  const rows = dumpRelay();
  const needles = [groupId, groupId.replaceAll('-', ''), Buffer.from(groupId.replaceAll('-', ''), 'hex').toString('base64url'), GROUP_NAME, 'Family', '가족'];
  const leaks = rows.filter((r) => r.cells.some((c) => needles.some((n) => c.includes(n))));
  // A member list: any row naming two or more of the members.
  const lists = rows.filter((r) => [ALICE, BOB, CAROL].filter((name) => r.cells.some((c) => c.includes(name))).length > 1);
  const bodies = rows.filter((r) => r.table === 'envelopes').map((r) => r.cells.join('|'));
  return { rows, leaks, lists, pendingEnvelopes: bodies.length };
}

beforeAll(async () => {
  relay = await startRelay({ dataDir: relayDir, port: 0 });
});
afterAll(async () => {
  await relay.close();
});

describe('refuge group: an end-to-end encrypted group the relay cannot see', { timeout: 300_000 }, () => {
  let groupId = '';

  it('creates a group of three and exchanges messages', async () => {
    for (const name of [ALICE, BOB, CAROL] as const) {
      expect(await refuge(name, ['init'], ['--server', relay.url, '--username', name])).toMatchObject({ code: 0 });
    }
    const created = await refuge(ALICE, ['group', 'create'], ['--name', GROUP_NAME, BOB, CAROL]);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    groupId = created.stdout.trim();
    expect(groupId).toMatch(/^[0-9a-f-]{36}$/);

    // While the creation waits in the relay's mailboxes, nothing there names the group or lists its members.
    const pending = subpoena(groupId);
    expect(pending.pendingEnvelopes).toBe(2);
    expect(pending.leaks).toEqual([]);
    expect(pending.lists).toEqual([]);

    for (const name of [BOB, CAROL] as const) {
      const got = await sync(name);
      expect(got).toEqual([expect.objectContaining({ from: ALICE, group: groupId, system: expect.objectContaining({ kind: 'create' }) })]);
    }
    const list = await refuge(BOB, ['group', 'list'], ['--json']);
    const groups = JSON.parse(list.stdout) as { groupId: string; name: string; members: { username: string; admin: boolean }[] }[];
    expect(groups).toEqual([
      expect.objectContaining({
        groupId,
        name: GROUP_NAME,
        members: [
          { username: ALICE, admin: true },
          { username: BOB, admin: false },
          { username: CAROL, admin: false },
        ],
      }),
    ]);

    expect(await refuge(ALICE, ['group', 'send'], ['--group', groupId, BEFORE[0] ?? ''])).toMatchObject({ code: 0 });
    // Bob has never talked to Carol: `group send` fetches her keys and opens a session first.
    expect(await refuge(BOB, ['group', 'send'], ['--group', groupId, BEFORE[1] ?? ''])).toMatchObject({ code: 0, stderr: '' });
    // Both copies of a message are different ciphertext (the relay cannot link them).
    const pendingBodies = dumpRelay().filter((r) => r.table === 'envelopes');
    expect(new Set(pendingBodies.map((r) => r.cells.find((c) => c.length > 200))).size).toBe(pendingBodies.length);

    expect((await sync(CAROL)).map((l) => [l.from, l.text, l.group])).toEqual([
      [ALICE, BEFORE[0], groupId],
      [BOB, BEFORE[1], groupId],
    ]);
    expect((await sync(BOB)).map((l) => [l.from, l.text])).toEqual([[ALICE, BEFORE[0]]]);
    expect((await sync(ALICE)).map((l) => [l.from, l.text])).toEqual([[BOB, BEFORE[1]]]);
  });

  it('removes a member, who then can read nothing sent after, while the others read everything', async () => {
    const removed = await refuge(ALICE, ['group', 'remove'], ['--group', groupId, CAROL]);
    expect(removed).toMatchObject({ code: 0 });
    expect(removed.stdout).not.toContain(CAROL);
    expect((await sync(BOB)).map((l) => l.system?.kind)).toEqual(['remove']);
    expect((await sync(CAROL)).map((l) => [l.from, l.system?.kind])).toEqual([[ALICE, 'remove']]);

    expect(await refuge(ALICE, ['group', 'send'], ['--group', groupId, AFTER[0] ?? ''])).toMatchObject({ code: 0 });
    expect(await refuge(BOB, ['group', 'send'], ['--group', groupId, AFTER[1] ?? ''])).toMatchObject({ code: 0 });

    // Nothing in the relay is addressed to Carol; she takes the copies addressed to the others
    // (as a relay insider could) and tries them on her own profile: none opens.
    const db = new Database(path.join(relayDir, 'relay.sqlite'));
    let stolen: { id: string; sender: string; body: string; username: string }[];
    try {
      stolen = db
        .prepare(
          `SELECT e.id AS id, e.sender AS sender, e.body AS body, a.username AS username
           FROM envelopes e JOIN devices d ON d.id = e.device JOIN accounts a ON a.id = d.account_id`,
        )
        .all()
        .map((r) => ({ id: String(r['id']), sender: String(r['sender']), body: String(r['body']), username: String(r['username']) }));
    } finally {
      db.close();
    }
    expect(stolen.map((e) => e.username).sort()).toEqual([ALICE, BOB]);
    const core = await Core.open({ profileDir: dirs[CAROL], defaultServerUrl: '', passphraseRequired: true, protector: passphraseProtectorFactory() });
    try {
      const api = createApi((channel, request) => core.handle(channel, request));
      await api.vault.unlock({ passphrase: passphrases[CAROL] });
      const { results } = await api.envelopes.receive({
        envelopes: stolen.map((e) => ({ id: e.id, from: e.sender, fromDeviceId: 1, body: e.body, receivedAt: Date.now() })),
      });
      expect(results.map((r) => r.outcome)).toEqual(['rejected', 'rejected']);
      const [carolGroup] = await api.groups.list({});
      expect(carolGroup).toMatchObject({ groupId, member: false });
      const page = await api.messages.list({ conversationId: carolGroup?.conversationId ?? '', limit: 100 });
      expect(page.messages.map((m) => m.text)).not.toContain(AFTER[0]);
    } finally {
      core.close();
    }
    expect(await sync(CAROL)).toEqual([]);
    const carolHistory = await refuge(CAROL, ['group', 'history'], ['--group', groupId, '--json']);
    const carolTexts = lines(carolHistory.stdout).map((l) => l.text);
    expect(carolTexts).toEqual(expect.arrayContaining(BEFORE));
    for (const text of AFTER) expect(carolTexts).not.toContain(text);

    expect((await sync(BOB)).map((l) => [l.from, l.text])).toEqual([[ALICE, AFTER[0]]]);
    expect((await sync(ALICE)).map((l) => [l.from, l.text])).toEqual([[BOB, AFTER[1]]]);
    for (const name of [ALICE, BOB] as const) {
      const history = lines((await refuge(name, ['group', 'history'], ['--group', groupId, '--json'])).stdout);
      expect(history.filter((l) => !l.system).map((l) => l.text)).toEqual([...BEFORE, ...AFTER]);
    }
  });

  it('leaves nothing in the relay that names the group or lists its members', () => {
    const after = subpoena(groupId);
    expect(after.rows.length).toBeGreaterThan(0);
    expect(after.leaks).toEqual([]);
    expect(after.lists).toEqual([]);
    // The relay's files as bytes (database, WAL, freed pages): no group id, name or message.
    expect(findPlaintext([relayDir], [groupId, GROUP_NAME, ...BEFORE, ...AFTER])).toEqual([]);
  });
});
