// relay_cluster: throughput of a two-node relay cluster (two relay processes, one PostgreSQL, one
// Redis) with every envelope crossing nodes: 20 senders connected to node A, 20 receivers to node
// B; senders send 300-byte opaque envelopes in batches of 50 with 2 requests in flight, each batch
// to the next receiver in turn; receivers ack every pushed batch (the load of the `relay` scenario).
// Baseline: the same load on one embedded relay process (SQLite, the default), senders and
// receivers on the same node. Both relays run as their own processes (`server/main.ts`), so the
// cluster's two nodes do not share one event loop with each other or with the clients. --quick
// (a smoke test in seconds) starts the relays in this process instead, to skip process start-up.
// Goal: ratio ≥ 0.5 of single-node.
// Needs PostgreSQL and Redis (REFUGE_TEST_POSTGRES_URL / REFUGE_TEST_REDIS_URL, default local):
// without them the scenario fails under CI=true and otherwise reports a `skipped` info row.
import { startRelay } from '../../server/relay.js';
import type { RelayClient } from '../../shared/sync/client.js';
import {
  createTestDatabase,
  probeServices,
  REDIS_URL,
  redisPrefix,
  type RelayProcess,
  spawnRelay,
} from '../../server/services-testkit.js';
import { opaqueBody } from '../lib/net.js';
import { SimPeer } from '../lib/profile.js';
import { goals } from '../lib/results.js';
import { defineScenario, type ScenarioContext } from '../lib/scenario.js';
import { median, repeat, until } from '../lib/stats.js';

const PAIRS = 20;
const BATCH = 50;
const WINDOW = 2;
const BODY_CHARS = 300;

interface Load {
  senders: RelayClient[];
  receivers: string[];
  delivered(): number;
  reset(): void;
}

/** Registers PAIRS senders on `senderUrl` and PAIRS receivers (acking every push) on `receiverUrl`. */
async function setUp(ctx: ScenarioContext, tag: string, senderUrl: string, receiverUrl: string): Promise<Load> {
  let delivered = 0;
  const senders: RelayClient[] = [];
  const receivers: string[] = [];
  for (let i = 0; i < PAIRS; i++) {
    const client = await (await SimPeer.create(`${tag}s${i}`)).register(senderUrl);
    ctx.defer(() => client.close());
    senders.push(client);
  }
  for (let i = 0; i < PAIRS; i++) {
    const peer = await SimPeer.create(`${tag}r${i}`);
    const client = await peer.register(receiverUrl);
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
  return { senders, receivers, delivered: () => delivered, reset: () => (delivered = 0) };
}

/** Envelopes per second, stored, delivered and acked. */
async function run(load: Load, batches: number, body: string): Promise<number> {
  const total = PAIRS * batches * BATCH;
  load.reset();
  const start = performance.now();
  await Promise.all(
    load.senders.map(async (client, s) => {
      let next = 0;
      const lane = async () => {
        while (next < batches) {
          const k = next++;
          const to = load.receivers[(s + k) % PAIRS] as string;
          const envelopes = Array.from({ length: BATCH }, () => ({ id: crypto.randomUUID(), to, toDeviceId: 1, body }));
          const refused = (await client.sendEnvelopes(envelopes)).find((r) => !r.accepted);
          if (refused && !refused.accepted) throw new Error(`relay refused an envelope: ${refused.error.code}`);
        }
      };
      await Promise.all(Array.from({ length: WINDOW }, lane));
    }),
  );
  await until(() => load.delivered() >= total, `all ${total} envelopes acked (${load.delivered()})`, 180_000, 1);
  return (total / (performance.now() - start)) * 1000;
}

export default defineScenario({
  name: 'relay_cluster',
  description: 'envelopes/s across two relay nodes (PostgreSQL + Redis), 20 senders on A → 20 receivers on B, vs one embedded relay',
  async run(ctx) {
    const services = await probeServices();
    if (!services.available) {
      if (process.env.CI === 'true') throw new Error(`needs PostgreSQL and Redis: ${services.reason}`);
      ctx.log(`skipped: ${services.reason}`);
      return [ctx.row({ metric: 'skipped_no_services', value: 0, unit: 'n/a', goal: goals.info() })];
    }
    const perSender = ctx.size(Number(process.env.BENCH_RELAY_PER_SENDER ?? 2000), 50);
    const batches = Math.ceil(perSender / BATCH);
    const body = opaqueBody(BODY_CHARS);
    const quiet = ['--log-level', 'warn', '--port', '0'];
    const stop = (p: RelayProcess) => () => p.kill('SIGTERM');
    const db = await createTestDatabase();
    ctx.defer(() => db.drop());
    const redis = redisPrefix();
    ctx.defer(() => redis.cleanup());
    const cluster = ['--postgres', db.url, '--redis', REDIS_URL, '--redis-prefix', redis.prefix, ...quiet];

    let urls: { single: string; a: string; b: string };
    if (ctx.quick) {
      const log = (line: string) => ctx.log(`relay: ${line}`);
      const single = await startRelay({ dataDir: ctx.tmp('relay-single'), log });
      ctx.defer(() => single.close());
      const node = () => startRelay({ postgres: { connectionString: db.url }, redis: { url: REDIS_URL, prefix: redis.prefix }, log });
      const [a, b] = await Promise.all([node(), node()]);
      ctx.defer(() => a.close());
      ctx.defer(() => b.close());
      urls = { single: single.url, a: a.url, b: b.url };
    } else {
      const single = await spawnRelay([...quiet, '--data', ctx.tmp('relay-single')]);
      ctx.defer(stop(single));
      const [a, b] = await Promise.all([spawnRelay(cluster), spawnRelay(cluster)]);
      ctx.defer(stop(a));
      ctx.defer(stop(b));
      urls = { single: single.url, a: a.url, b: b.url };
    }
    // ---- one embedded node (the default deployment), and two cluster nodes with every envelope crossing them
    const singleLoad = await setUp(ctx, 'one', urls.single, urls.single);
    const clusterLoad = await setUp(ctx, 'two', urls.a, urls.b);

    const samples = await repeat(
      ctx.reps,
      async () => ({ single: await run(singleLoad, batches, body), cluster: await run(clusterLoad, batches, body) }),
      ctx.quick ? 0 : 1,
    );
    const clusterRate = median(samples.map((s) => s.cluster));
    const singleRate = median(samples.map((s) => s.single));
    ctx.log(`cluster (cross-node) ${clusterRate.toFixed(0)}/s, single embedded node ${singleRate.toFixed(0)}/s`);
    return [
      ctx.row({
        metric: 'cross_node_envelopes_per_s',
        value: clusterRate,
        unit: 'env/s',
        baseline: { name: 'single embedded relay (SQLite)', value: singleRate },
        goal: goals.ratioAtLeast(0.5),
      }),
    ];
  },
});
