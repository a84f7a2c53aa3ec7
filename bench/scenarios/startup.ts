// startup: launching with a backlog. 10 contacts (sessions established) queued 5,000 messages on
// the relay while the profile was closed; measured from Core.open + unlock until the sync engine
// has stored and acked all of them and sent back its receipts (SyncEngine.drain). Baseline: the
// same launch of an empty profile (unlock, connect, authenticate, find nothing). The relay runs in
// its own process, as it does in real life. Goal: ≤ 5 s.
import { SyncEngine } from '../../shared/sync/engine.js';
import { coreFromApi } from '../../shared/sync/core.js';
import { startRelayProcess } from '../lib/net.js';
import { chatText, collectReplies, createProfile, SimPeer, unlockProfile } from '../lib/profile.js';
import { goals } from '../lib/results.js';
import { defineScenario } from '../lib/scenario.js';
import { median, repeat } from '../lib/stats.js';
import type { RelayClient } from '../../shared/sync/client.js';

/** Unlocks `dir`, syncs until drained; returns the time and how many messages were stored. */
async function launch(dir: string, relayUrl: string): Promise<{ ms: number; stored: number }> {
  const start = performance.now();
  const profile = await unlockProfile(dir);
  const engine = new SyncEngine({ serverUrl: relayUrl, core: coreFromApi(profile.api) });
  let stored = 0;
  engine.on('received', (results) => {
    for (const r of results) if (r.message) stored++;
  });
  try {
    await engine.drain({ timeoutMs: 120_000 });
    return { ms: performance.now() - start, stored };
  } finally {
    await engine.stop();
    profile.core.close();
  }
}

export default defineScenario({
  name: 'startup',
  description: 'launch with 5,000 queued envelopes from 10 contacts until all are stored vs launching an empty profile',
  async run(ctx) {
    const contactCount = ctx.size(10, 2);
    const queued = ctx.size(5000, 100);
    const { relayUrl } = await startRelayProcess(ctx);
    const dir = ctx.tmp('startup-profile');
    const receiver = await createProfile(dir, 'receiver', relayUrl);
    receiver.core.close();
    const emptyDir = ctx.tmp('startup-empty');
    const empty = await createProfile(emptyDir, 'nobody', relayUrl);
    empty.core.close();

    // Contacts: registered with the relay, each with a session the receiver has answered.
    const peers: SimPeer[] = [];
    const clients: RelayClient[] = [];
    for (let i = 0; i < contactCount; i++) {
      const peer = await SimPeer.create(`contact${i}`);
      const client = await peer.register(relayUrl);
      ctx.defer(() => client.close());
      const [bundle] = await client.fetchBundles('receiver');
      if (!bundle) throw new Error('no bundle for receiver');
      peer.startSession(bundle);
      await client.sendEnvelopes([peer.envelope('receiver', 'hello')]);
      peers.push(peer);
      clients.push(client);
    }
    const first = await launch(dir, relayUrl);
    if (first.stored !== contactCount) throw new Error(`stored ${first.stored} of ${contactCount} hellos`);
    await collectReplies(relayUrl, peers, 'receiver');

    const samples = await repeat(ctx.reps, async () => {
      // Queue the backlog while the receiver is closed: contacts take turns, 50 messages at a time.
      for (let sent = 0; sent < queued; ) {
        for (let p = 0; p < peers.length && sent < queued; p++) {
          const n = Math.min(50, queued - sent);
          const peer = peers[p] as SimPeer;
          await (clients[p] as RelayClient).sendEnvelopes(Array.from({ length: n }, (_, i) => peer.envelope('receiver', chatText(20 + ((sent + i) % 150)))));
          sent += n;
        }
      }
      const base = await launch(emptyDir, relayUrl);
      const full = await launch(dir, relayUrl);
      if (full.stored !== queued) throw new Error(`stored ${full.stored} of ${queued} queued messages`);
      // The receipts the receiver sent are the contacts' to read; keep their mailboxes small.
      await collectReplies(relayUrl, peers, 'receiver');
      return { base: base.ms, full: full.ms };
    });
    const full = median(samples.map((s) => s.full));
    const base = median(samples.map((s) => s.base));
    ctx.log(`backlog ${full.toFixed(0)} ms, empty ${base.toFixed(0)} ms`);
    return [
      ctx.row({
        metric: 'launch_with_backlog',
        value: full,
        unit: 'ms',
        baseline: { name: 'launch of an empty profile', value: base },
        goal: goals.atMost(5000, 'ms'),
      }),
      ctx.row({ metric: 'backlog_messages_per_s', value: (queued / (full - base)) * 1000, unit: 'msg/s', baseline: null, goal: goals.info() }),
    ];
  },
});
