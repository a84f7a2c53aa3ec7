// Fixtures shared by several scenarios of one run (built once, removed when the run ends).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MessageRow } from '../../main/core/store/index.js';
import { chatText, createProfile, openProfileStore, SimPeer, bundleFromRegistration } from './profile.js';

const cache = new Map<string, Promise<unknown>>();
const dirs: string[] = [];

function shared<T>(key: string, build: () => Promise<T>): Promise<T> {
  let entry = cache.get(key) as Promise<T> | undefined;
  if (!entry) {
    entry = build();
    cache.set(key, entry);
    entry.catch(() => cache.delete(key));
  }
  return entry;
}

/** Removes every fixture folder (run.ts calls this at the end of a run). */
export function disposeFixtures(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  cache.clear();
}

export interface HistoryProfile {
  dir: string;
  conversationId: string;
  messages: number;
}

/**
 * A closed profile whose one conversation (with `friend`) holds `messages` messages, half sent,
 * half received, a minute apart. The conversation, contact and session come from a real
 * received message; the history is then written through the Store API directly (setup, not
 * a measured path), in large transactions.
 */
export function historyProfile(messages: number, log: (line: string) => void): Promise<HistoryProfile> {
  return shared(`history-${messages}`, async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refuge-bench-history-'));
    dirs.push(dir);
    const started = performance.now();
    const profile = await createProfile(dir, 'owner');
    const friend = await SimPeer.create('friend');
    friend.startSession(bundleFromRegistration(profile.registration, 0));
    const { results } = await profile.api.envelopes.receive({ envelopes: [friend.delivered('owner', 'hi')] });
    const conversationId = results[0]?.message?.conversationId;
    if (!conversationId) throw new Error('the first message was not stored');
    profile.core.close();

    const store = await openProfileStore(dir);
    try {
      const start = Date.now() - messages * 60_000;
      const CHUNK = 500;
      for (let done = 1; done < messages; done += CHUNK) {
        store.transaction(() => {
          for (let i = done; i < Math.min(messages, done + CHUNK); i++) {
            const outgoing = i % 2 === 0;
            const sentAt = start + i * 60_000;
            const row: MessageRow = {
              id: timeOrderedId(sentAt),
              conversationId,
              sender: outgoing ? 'me' : 'friend',
              outgoing,
              text: chatText(10 + ((i * 53) % 200)),
              sentAt,
              receivedAt: outgoing ? null : sentAt + 500,
              status: outgoing ? 'delivered' : 'received',
            };
            store.insertMessage(row);
          }
        });
      }
      store.checkpoint();
    } finally {
      store.close();
    }
    log(`built a ${messages.toLocaleString('en-US')}-message profile in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return { dir, conversationId, messages };
  });
}

/**
 * A UUID-shaped id that sorts by time (like UUIDv7), so building a big history appends to the
 * id index instead of touching a random page per row. Reading a page is not affected.
 */
function timeOrderedId(ms: number): string {
  const hex = ms.toString(16).padStart(12, '0') + crypto.randomUUID().replace(/-/g, '').slice(12);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-7${hex.slice(13, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** A registered profile with no contacts and no messages. */
export function emptyProfile(): Promise<{ dir: string }> {
  return shared('empty', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'refuge-bench-empty-'));
    dirs.push(dir);
    const profile = await createProfile(dir, 'empty');
    profile.core.close();
    return { dir };
  });
}
