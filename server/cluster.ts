// Cluster plumbing: the socket.io Redis Streams adapter, and the Redis connection under it.
//
// Cross-node delivery uses io.serverSideEmit('refuge:wake', devices): the adapter sends
// server-side emits over Redis PUB/SUB, which stores nothing, so Redis never holds an envelope, a
// sender or even a recipient. The node holding the recipient's socket then reads the envelopes
// from PostgreSQL. A wake lost while a node is (re)connecting to Redis is made up for by the
// relay's periodic sweep and by the backlog push every socket gets when it authenticates.
import { createAdapter } from '@socket.io/redis-streams-adapter';
import { createClient } from 'redis';
import type { Server } from 'socket.io';

export interface ClusterOptions {
  /** redis://host:port */
  url: string;
  /** Prefix of every Redis key and channel this relay uses (lets several relays share one Redis). Default "refuge". */
  prefix?: string;
  /** Give up starting if Redis does not answer within this time. Default 10 s. */
  connectTimeoutMs?: number;
}

export interface ClusterLink {
  prefix: string;
  /** Installs the adapter on the server and waits until this node receives cluster messages. */
  attach(io: Server): Promise<void>;
  /** Throws if Redis does not answer. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

const PREFIX = /^[A-Za-z0-9_.:-]{1,64}$/;

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export async function connectCluster(options: ClusterOptions): Promise<ClusterLink> {
  const prefix = options.prefix ?? 'refuge';
  if (!PREFIX.test(prefix)) throw new Error('the Redis prefix must be 1-64 of A-Z a-z 0-9 _ . : -');
  const client = createClient({ url: options.url });
  // node-redis reconnects by itself; an 'error' event without a listener would crash the process.
  client.on('error', () => {});
  try {
    await withTimeout(client.connect(), options.connectTimeoutMs ?? 10_000, `connecting to Redis at ${options.url.replace(/\/\/[^@/]*@/, '//***@')}`);
  } catch (e) {
    client.destroy();
    throw e;
  }
  const channel = `${prefix}#/#`;
  const subscribers = async () => {
    const counts = (await client.pubSubNumSub(channel)) as unknown as Record<string, number>;
    return Number(counts[channel] ?? 0);
  };
  let closed = false;
  return {
    prefix,
    async attach(io) {
      const before = await subscribers();
      io.adapter(
        createAdapter(client, {
          streamName: `${prefix}:sio`,
          channelPrefix: prefix,
          sessionKeyPrefix: `${prefix}:sio-session:`,
          // The stream only carries the adapter's heartbeats: this relay never broadcasts through it.
          maxLen: 1000,
        }),
      );
      // The adapter subscribes in the background; wait for it, so a wake sent right after start is not missed.
      for (let i = 0; i < 200 && (await subscribers()) <= before; i++) await new Promise((r) => setTimeout(r, 10));
    },
    async ping() {
      await withTimeout(client.ping(), 2000, 'Redis ping');
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await withTimeout(client.close(), 2000, 'closing Redis');
      } catch {
        client.destroy();
      }
    },
  };
}
