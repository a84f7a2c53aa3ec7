// A child process running one user's app core and sync engine (the receiving side of the send
// scenario): creates and registers the profile, syncs until drained, then reports over IPC every
// message it stores with the wall-clock time it was stored (performance.timeOrigin + now(), the
// same clock in every process of this machine).
//   fork bench/lib/peer-child.ts RELAY_URL PROFILE_DIR USERNAME
import { SyncEngine } from '../../shared/sync/engine.js';
import { coreFromApi } from '../../shared/sync/core.js';
import { createProfile } from './profile.js';

export type PeerChildMessage = { type: 'ready' } | { type: 'stored'; ids: string[]; at: number };

async function main(): Promise<void> {
  const [relayUrl, dir, username] = process.argv.slice(2);
  const send = process.send?.bind(process);
  if (!relayUrl || !dir || !username || !send) throw new Error('usage: fork peer-child.ts RELAY_URL PROFILE_DIR USERNAME');
  const profile = await createProfile(dir, username, relayUrl);
  const engine = new SyncEngine({ serverUrl: relayUrl, core: coreFromApi(profile.api) });
  engine.on('received', (results) => {
    const at = performance.timeOrigin + performance.now();
    const ids = results.flatMap((r) => (r.message ? [r.message.id] : []));
    if (ids.length > 0) send({ type: 'stored', ids, at } satisfies PeerChildMessage);
  });
  engine.on('error', (error) => process.stderr.write(`[peer ${username}] ${error.code}: ${error.message}\n`));
  await engine.drain({ timeoutMs: 60_000 });
  send({ type: 'ready' } satisfies PeerChildMessage);
  process.on('disconnect', () => {
    void engine.stop().finally(() => {
      profile.core.close();
      process.exit(0);
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`peer-child: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
