// relay: throughput of the relay on loopback. 20 senders and 20 receivers, each a RelayClient
// (shared/sync) authenticated as its own device; senders send 300-byte opaque envelopes in
// batches of 50 with 2 requests in flight, each batch to the next receiver in turn; receivers
// ack every pushed batch. Counted: envelopes stored, delivered and acked per second.
// Both run in a child process, the 40 clients in this one. Baseline: a bare socket.io relay in the
// same layout that forwards each batch to the receiver's socket and answers the ack, with no
// validation, auth or storage.
// Goal: ≥ 10,000 envelopes/s and ratio ≥ 0.5.
import type { Socket } from 'socket.io-client';
import type { RelayClient } from '../../shared/sync/client.js';
import { bareClient, opaqueBody, startRelayProcess } from '../lib/net.js';
import { SimPeer } from '../lib/profile.js';
import { goals } from '../lib/results.js';
import { defineScenario } from '../lib/scenario.js';
import { median, repeat, until } from '../lib/stats.js';

const PAIRS = 20;
const BATCH = 50;
const WINDOW = 2;
const BODY_CHARS = 300;

/** Runs `count` batches per sender with WINDOW requests in flight; returns when all are answered. */
async function pump(senders: number, batches: number, sendBatch: (sender: number, k: number) => Promise<void>): Promise<void> {
  await Promise.all(
    Array.from({ length: senders }, async (_, s) => {
      let next = 0;
      const lane = async () => {
        while (next < batches) await sendBatch(s, next++);
      };
      await Promise.all(Array.from({ length: WINDOW }, lane));
    }),
  );
}

export default defineScenario({
  name: 'relay',
  description: 'envelopes/s stored, delivered and acked, 20 senders → 20 receivers vs a bare socket.io relay',
  async run(ctx) {
    const perSender = ctx.size(Number(process.env.BENCH_RELAY_PER_SENDER ?? 2000), 20);
    const batches = Math.ceil(perSender / BATCH);
    const total = PAIRS * batches * BATCH;
    const body = opaqueBody(BODY_CHARS);

    // ---- the relay, in its own process (with the bare server beside it)
    const { relayUrl, bareUrl: url } = await startRelayProcess(ctx);
    let delivered = 0;
    const senders: { peer: SimPeer; client: RelayClient }[] = [];
    const receivers: string[] = [];
    for (let i = 0; i < PAIRS; i++) {
      const peer = await SimPeer.create(`sender${i}`);
      const client = await peer.register(relayUrl);
      ctx.defer(() => client.close());
      senders.push({ peer, client });
    }
    for (let i = 0; i < PAIRS; i++) {
      const peer = await SimPeer.create(`receiver${i}`);
      const client = await peer.register(relayUrl);
      ctx.defer(() => client.close());
      client.onEnvelopes(
        (batch) => {
          const ids = batch.envelopes.map((e) => e.id);
          void client.ack(ids).then(
            () => (delivered += ids.length),
            (e: unknown) => ctx.log(`ack failed: ${(e as Error).message}`),
          );
        },
        (error) => ctx.log(`receiver: ${error.code} ${error.message}`),
      );
      receivers.push(peer.username);
    }
    const viaRelay = async () => {
      delivered = 0;
      const start = performance.now();
      await pump(PAIRS, batches, async (s, k) => {
        const sender = senders[s];
        if (!sender) return;
        const to = receivers[(s + k) % PAIRS] as string;
        const envelopes = Array.from({ length: BATCH }, () => ({ id: crypto.randomUUID(), to, toDeviceId: 1, body }));
        const results = await sender.client.sendEnvelopes(envelopes);
        const refused = results.find((r) => !r.accepted);
        if (refused && !refused.accepted) throw new Error(`relay refused an envelope: ${refused.error.code}`);
      });
      await until(() => delivered >= total, `all ${total} envelopes acked (${delivered})`, 120_000, 1);
      return (total / (performance.now() - start)) * 1000;
    };

    // ---- the bare socket.io relay (bench/lib/relay-child.ts): forwards and acks, nothing else
    let bareDelivered = 0;
    const bareSenders: Socket[] = [];
    for (let i = 0; i < PAIRS; i++) bareSenders.push(await bareClient(ctx, url, { name: `s${i}` }));
    for (let i = 0; i < PAIRS; i++) {
      const socket = await bareClient(ctx, url, { name: `r${i}` });
      socket.on('envelopes', (batch: { envelopes: { id: string }[] }) => {
        const ids = batch.envelopes.map((e) => e.id);
        void socket.emitWithAck('ack', ids).then(() => (bareDelivered += ids.length));
      });
    }
    const bare = async () => {
      bareDelivered = 0;
      const start = performance.now();
      await pump(PAIRS, batches, async (s, k) => {
        const envelopes = Array.from({ length: BATCH }, () => ({ id: crypto.randomUUID(), body }));
        await bareSenders[s]?.emitWithAck('send', { to: `r${(s + k) % PAIRS}`, envelopes });
      });
      await until(() => bareDelivered >= total, 'all bare envelopes acked', 120_000, 1);
      return (total / (performance.now() - start)) * 1000;
    };

    const samples = await repeat(ctx.reps, async () => ({ bare: await bare(), relay: await viaRelay() }), ctx.quick ? 0 : 1);
    const rate = median(samples.map((s) => s.relay));
    const bareRate = median(samples.map((s) => s.bare));
    ctx.log(`relay ${rate.toFixed(0)}/s, bare socket.io ${bareRate.toFixed(0)}/s`);
    return [
      ctx.row({
        metric: 'envelopes_per_s',
        value: rate,
        unit: 'env/s',
        baseline: { name: 'bare socket.io relay', value: bareRate },
        goal: goals.all(goals.atLeast(10_000, '/s'), goals.ratioAtLeast(0.5)),
      }),
    ];
  },
});
