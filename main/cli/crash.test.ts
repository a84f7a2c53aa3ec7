// Crash safety, headless: Bob's `refuge sync` is killed with SIGKILL (kill -9) while a burst of
// messages from Alice arrives, twice, then runs to the end. Every message must be in Bob's
// history exactly once (the relay redelivers what was not acked; the core deduplicates), the
// search index must agree with the table, and `refuge search` must find them.
import { execFile, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../server/relay.js';
import { tempDir } from '../../e2e/support/harness.js';
import { createApi } from '../../shared/ipc/api.js';
import { flushOutbox } from '../../shared/sync/index.js';
import { Core } from '../core/service/core.js';
import { passphraseProtectorFactory } from '../core/service/protectors.js';
import { openStore } from '../core/store/index.js';
import { PassphraseKeyProtector, unlockVault } from '../core/vault/index.js';

const run = promisify(execFile);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(root, 'bin/refuge.mjs');
const ENV = { ...process.env, REFUGE_ARGON2: 'interactive' };
/** Five relay batches: the first kill lands with most of the burst still to come. */
const BURST = 1000;

let relay: Awaited<ReturnType<typeof startRelay>>;
const relayDir = tempDir('crash-relay');
const aliceDir = tempDir('crash-alice');
const bobDir = tempDir('crash-bob');

async function refuge(args: string[], passphrase: string) {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { env: { ...ENV, REFUGE_PASSPHRASE: passphrase }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

const text = (i: number) => `burst ${String(i).padStart(4, '0')}: ${i % 2 ? '메시지를 보냈어요' : 'encrypted hello'}`;

/** Starts `refuge sync --json` for Bob; with `killAfterLines`, SIGKILLs it as soon as that many messages were printed. */
function bobSync(killAfterLines?: number): Promise<{ lines: string[]; killed: boolean; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'sync', '--profile', bobDir, '--json'], {
      env: { ...ENV, REFUGE_PASSPHRASE: 'bob passphrase' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const lines: string[] = [];
    let buffer = '';
    let killed = false;
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      const parts = buffer.split('\n');
      buffer = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l.length > 0));
      if (killAfterLines !== undefined && !killed && lines.length >= killAfterLines) {
        killed = child.kill('SIGKILL');
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ lines, killed, code });
    });
  });
}

beforeAll(async () => {
  relay = await startRelay({ dataDir: relayDir, port: 0 });
  expect((await refuge(['init', '--profile', aliceDir, '--server', relay.url, '--username', 'alice'], 'alice passphrase')).code).toBe(0);
  expect((await refuge(['init', '--profile', bobDir, '--server', relay.url, '--username', 'bob'], 'bob passphrase')).code).toBe(0);
  expect((await refuge(['add', '--profile', aliceDir, 'bob'], 'alice passphrase')).code).toBe(0);
}, 120_000);

afterAll(async () => {
  await relay?.close();
  for (const dir of [relayDir, aliceDir, bobDir]) rmSync(dir, { recursive: true, force: true });
});

describe('crash safety: kill -9 during a burst of incoming messages', { timeout: 180_000 }, () => {
  it('loses nothing and shows nothing twice after restarts', async () => {
    // Alice sends the burst (in-process: one core, one relay connection).
    const alice = await Core.open({ profileDir: aliceDir, defaultServerUrl: '', passphraseRequired: true, protector: passphraseProtectorFactory() });
    try {
      const api = createApi((channel, request) => alice.handle(channel, request));
      await api.vault.unlock({ passphrase: 'alice passphrase' });
      const conversation = (await api.conversations.list({})).find((c) => c.peer === 'bob');
      if (!conversation) throw new Error('alice has no conversation with bob');
      for (let i = 0; i < BURST; i++) await api.messages.send({ conversationId: conversation.id, text: text(i) });
      const flushed = await flushOutbox(api, relay.url);
      expect(flushed.sent).toBe(BURST);
    } finally {
      alice.close();
    }

    // Bob syncs and dies mid-burst, twice; then a sync runs to the end.
    const first = await bobSync(1);
    expect(first.killed).toBe(true);
    expect(first.lines.length).toBeLessThan(BURST);
    const second = await bobSync(first.lines.length + 1);
    const last = await bobSync();
    expect(last.code).toBe(0);

    // Nothing printed twice across the runs...
    const printed = [...first.lines, ...second.lines, ...last.lines].map((l) => (JSON.parse(l) as { text: string }).text);
    expect(new Set(printed).size).toBe(printed.length);

    // ...and the history holds every message exactly once, in order.
    const history = await refuge(['history', '--profile', bobDir, '--with', 'alice', '--json'], 'bob passphrase');
    expect(history.code).toBe(0);
    const texts = history.stdout.trim().split('\n').map((l) => (JSON.parse(l) as { text: string; from: string }).text);
    expect(texts).toEqual(Array.from({ length: BURST }, (_, i) => text(i)));

    // The full-text index survived the kills in step with the table.
    const key = await unlockVault(bobDir, new PassphraseKeyProtector('bob passphrase'));
    const store = openStore(bobDir, key);
    try {
      const db = store.connection();
      db.prepare("INSERT INTO messages_fts (messages_fts, rank) VALUES ('integrity-check', 1)").run();
      expect(db.prepare("SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'text : \"burst\"'", { pluck: true }).get()).toBe(BURST);
    } finally {
      store.close();
      key.fill(0);
    }
  });

  it('`refuge search` finds Korean and English messages, as JSON lines', async () => {
    const korean = await refuge(['search', '--profile', bobDir, '--json', '--limit', '5', '메시지'], 'bob passphrase');
    expect(korean.code).toBe(0);
    const rows = korean.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row).toMatchObject({ peer: 'alice', from: 'alice' });
      expect(typeof row['messageId']).toBe('string');
      expect(typeof row['sentAt']).toBe('number');
      expect(String(row['snippet'])).toContain('메시지를');
      const [[start, end] = [0, 0]] = row['highlights'] as [number, number][];
      expect(String(row['snippet']).slice(start, end)).toBe('메시지를');
    }
    const english = await refuge(['search', '--profile', bobDir, '--with', 'alice', 'encrypt', '0998'], 'bob passphrase');
    expect(english.code).toBe(0);
    expect(english.stdout).toMatch(/^\[\d{4}-\d\d-\d\dT[^\]]+\] alice · alice: burst 0998: encrypted hello\n$/u);

  });
});
