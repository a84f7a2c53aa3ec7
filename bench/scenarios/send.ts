// send: end-to-end latency of one message, from A's messages.send to B's core having stored it
// (B's sync engine reports it), with both apps online and A sending 50 messages per second.
// Three processes, as in real life: A (this one: core + sync engine), the relay, and B (core +
// sync engine); B's delivery receipts flow back meanwhile, as in the app. Baseline: a bare
// socket.io round trip (emit with ack) to a server in the relay's process, at the same pace.
// Goals: p50 ≤ 10 ms, p99 ≤ 50 ms.
import { addContact } from '../../shared/sync/flows.js';
import { SyncEngine } from '../../shared/sync/engine.js';
import { coreFromApi } from '../../shared/sync/core.js';
import { bareClient, forkChild, opaqueBody, startRelayProcess } from '../lib/net.js';
import type { PeerChildMessage } from '../lib/peer-child.js';
import { chatText, createProfile } from '../lib/profile.js';
import { goals } from '../lib/results.js';
import { defineScenario } from '../lib/scenario.js';
import { median, quantile, repeat, sleep, until } from '../lib/stats.js';

const RATE_PER_S = 50;
const epochNow = () => performance.timeOrigin + performance.now();

export default defineScenario({
  name: 'send',
  description: 'A→relay→B stored latency at 50 msg/s (three processes) vs a bare socket.io round trip',
  async run(ctx) {
    const perRep = ctx.size(250, 10);
    const interval = 1000 / RATE_PER_S;
    const { relayUrl, bareUrl } = await startRelayProcess(ctx);

    const sentAt = new Map<string, number>();
    const latencies: number[] = [];
    await forkChild<PeerChildMessage>(ctx, './peer-child.ts', [relayUrl, ctx.tmp('send-b'), 'bob'], (message) => {
      const m = message as PeerChildMessage;
      if (m.type !== 'stored') return;
      for (const id of m.ids) {
        const t0 = sentAt.get(id);
        if (t0 !== undefined) latencies.push(m.at - t0);
      }
    });
    const a = await createProfile(ctx.tmp('send-a'), 'alice', relayUrl);
    ctx.defer(() => a.core.close());
    const { conversationId } = await addContact(a.api, relayUrl, 'bob');
    const engineA = new SyncEngine({ serverUrl: relayUrl, core: coreFromApi(a.api) });
    ctx.defer(() => engineA.stop());
    await engineA.drain({ timeoutMs: 30_000 });

    const send = async (text: string) => {
      const t0 = epochNow();
      const message = await a.api.messages.send({ conversationId, text });
      sentAt.set(message.id, t0);
      engineA.kick(); // what the UI does after messages.send
    };
    // First contact: a prekey message, answered by a receipt (A's session leaves the prekey phase).
    await send('hello');
    await until(() => latencies.length === 1, 'the first message', 30_000);
    await engineA.drain({ timeoutMs: 30_000 });

    const paced = async (n: number, one: (i: number) => Promise<void>) => {
      const start = performance.now();
      const pending: Promise<void>[] = [];
      for (let i = 0; i < n; i++) {
        const wait = start + i * interval - performance.now();
        if (wait > 0) await sleep(wait);
        pending.push(one(i));
      }
      await Promise.all(pending);
    };

    const socket = await bareClient(ctx, bareUrl);
    const body = opaqueBody(600);
    // Each repetition takes 2 × perRep / 50 s: three (plus one discarded) keep the suite short.
    const samples = await repeat(
      Math.min(ctx.reps, 3),
      async () => {
        const bare: number[] = [];
        await paced(perRep, async () => {
          const t0 = performance.now();
          await socket.emitWithAck('echo', { body });
          bare.push(performance.now() - t0);
        });
        latencies.length = 0;
        await paced(perRep, (i) => send(chatText(20 + (i % 120))));
        // A message that never arrives fails the scenario (and the quick run): that is a lost message.
        await until(() => latencies.length >= perRep, 'every message to arrive', 30_000);
        await engineA.drain({ timeoutMs: 30_000 }); // receipts in: the next repetition starts quiet
        return { p50: quantile(latencies, 0.5), p99: quantile(latencies, 0.99), bare50: quantile(bare, 0.5), bare99: quantile(bare, 0.99) };
      },
      1, // a discarded first repetition: connections warm, code compiled
    );
    const m = (f: (s: (typeof samples)[number]) => number) => median(samples.map(f));
    ctx.log(`p50 ${m((s) => s.p50).toFixed(2)} ms, p99 ${m((s) => s.p99).toFixed(2)} ms (bare ${m((s) => s.bare50).toFixed(2)} / ${m((s) => s.bare99).toFixed(2)})`);
    return [
      ctx.row({ metric: 'latency_p50', value: m((s) => s.p50), unit: 'ms', baseline: { name: 'bare socket.io round trip p50', value: m((s) => s.bare50) }, goal: goals.atMost(10, 'ms') }),
      ctx.row({ metric: 'latency_p99', value: m((s) => s.p99), unit: 'ms', baseline: { name: 'bare socket.io round trip p99', value: m((s) => s.bare99) }, goal: goals.atMost(50, 'ms') }),
    ];
  },
});
