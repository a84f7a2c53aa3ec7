// The first conversation, headless: two CLI profiles against a relay on a random port,
// each command a real `refuge` process.
import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../server/relay.js';
import { fileHashes, findPlaintext } from '../../e2e/support/plaintext.js';
import { tempDir } from '../../e2e/support/harness.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HELLO = '안녕하세요 Bob 👋';
const REPLY = 'Hi Alice! Got it, loud and clear.';

let relay: Awaited<ReturnType<typeof startRelay>>;
const relayDir = tempDir('cli-relay');
const aliceDir = tempDir('cli-alice');
const bobDir = tempDir('cli-bob');

async function refuge(args: string[], passphrase: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [path.join(root, 'bin/refuge.mjs'), ...args], {
      env: { ...process.env, REFUGE_PASSPHRASE: passphrase, REFUGE_ARGON2: 'interactive' },
      timeout: 60_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}
const alice = (...args: string[]) => refuge([args[0] ?? '', '--profile', aliceDir, ...args.slice(1)], 'alice passphrase');
const bob = (...args: string[]) => refuge([args[0] ?? '', '--profile', bobDir, ...args.slice(1)], 'bob passphrase');

beforeAll(async () => {
  relay = await startRelay({ dataDir: relayDir, port: 0 });
});
afterAll(async () => {
  await relay.close();
});

describe('refuge CLI: the first end-to-end encrypted conversation', { timeout: 120_000 }, () => {
  it('registers two users, exchanges messages both ways, and keeps history', async () => {
    expect(await alice('init', '--server', relay.url, '--username', 'Alice')).toMatchObject({ code: 0 });
    expect(await bob('init', '--server', relay.url, '--username', 'bob')).toMatchObject({ code: 0 });

    const taken = await refuge(['init', '--profile', tempDir('cli-mallory'), '--server', relay.url, '--username', 'ALICE'], 'x');
    expect(taken.code).not.toBe(0);
    expect(taken.stderr).toMatch(/USERNAME_TAKEN/);

    expect(await alice('add', 'bob')).toMatchObject({ code: 0, stdout: 'Added bob\n' });
    expect((await alice('send', '--to', 'bob', HELLO)).code).toBe(0);

    const bobSync = await bob('sync', '--json');
    expect(bobSync.code).toBe(0);
    const received = bobSync.stdout.trim().split('\n').map((line) => JSON.parse(line) as { from: string; text: string; sentAt: number });
    expect(received).toHaveLength(1);
    expect(received[0]).toMatchObject({ from: 'alice', text: HELLO });
    expect(typeof received[0]?.sentAt).toBe('number');

    // Synced again: nothing is shown twice.
    expect((await bob('sync', '--json')).stdout.trim()).toBe('');

    expect((await bob('send', '--to', 'alice', REPLY)).code).toBe(0);
    const aliceSync = await alice('sync', '--json');
    expect(aliceSync.stdout).toContain(JSON.stringify(REPLY));

    const history = await alice('history', '--with', 'bob', '--json');
    const lines = history.stdout.trim().split('\n').map((l) => JSON.parse(l) as { from: string; text: string; status: string });
    expect(lines.map((l) => [l.from, l.text])).toEqual([
      ['me', HELLO],
      ['bob', REPLY],
    ]);
    // Bob's device sent a delivery receipt when it stored the message.
    expect(lines[0]?.status).toBe('delivered');

    const aliceNumber = (await alice('safety-number', '--with', 'bob')).stdout.split('\n').slice(1, 3).join(' ');
    const bobNumber = (await bob('safety-number', '--with', 'alice')).stdout.split('\n').slice(1, 3).join(' ');
    expect(aliceNumber).toMatch(/^(\d{5} ){11}\d{5}$/);
    expect(aliceNumber).toBe(bobNumber);
  });

  it('leaves no plaintext of any message in the relay folder or either profile', () => {
    expect(findPlaintext([relayDir, aliceDir, bobDir], [HELLO, REPLY])).toEqual([]);
  });

  it('refuses a wrong passphrase with a one-line error and leaves the profile byte-for-byte unchanged', async () => {
    const before = fileHashes(aliceDir);
    const wrong = await refuge(['history', '--profile', aliceDir, '--with', 'bob'], 'not the passphrase');
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr.trim().split('\n')).toHaveLength(1);
    expect(wrong.stderr).toMatch(/wrong passphrase/i);
    expect(fileHashes(aliceDir)).toEqual(before);
  });
});
