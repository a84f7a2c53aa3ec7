// Helpers for tests (and the relay_cluster bench) that need PostgreSQL and Redis, and for relays
// run as separate processes (`node --import tsx server/main.ts`). No vitest here: the bench
// imports this too; describeWithServices is in describe-services.ts.
//
// PostgreSQL and Redis come from REFUGE_TEST_POSTGRES_URL / REFUGE_TEST_REDIS_URL (default: the
// local services, trust auth). Tests that need them FAIL when CI=true and a service is missing;
// elsewhere they are skipped with the reason printed. Every run uses its own database and its own
// Redis key prefix, so parallel runs never see each other.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createClient } from 'redis';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const POSTGRES_URL = process.env.REFUGE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const REDIS_URL = process.env.REFUGE_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface ServiceStatus {
  available: boolean;
  reason: string;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

let probed: Promise<ServiceStatus> | undefined;

/** Whether PostgreSQL (with CREATE DATABASE rights) and Redis answer. Probed once per test file. */
export function probeServices(): Promise<ServiceStatus> {
  probed ??= (async () => {
    const problems: string[] = [];
    const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 3000 });
    client.on('error', () => {});
    try {
      await withTimeout(client.connect(), 4000, 'PostgreSQL');
      await client.query('SELECT 1');
    } catch (e) {
      problems.push(`PostgreSQL at ${POSTGRES_URL}: ${(e as Error).message}`);
    } finally {
      await client.end().catch(() => {});
    }
    const redis = createClient({ url: REDIS_URL, socket: { connectTimeout: 3000, reconnectStrategy: false } });
    redis.on('error', () => {});
    try {
      await withTimeout(redis.connect(), 4000, 'Redis');
      await redis.ping();
    } catch (e) {
      problems.push(`Redis at ${REDIS_URL}: ${(e as Error).message}`);
    } finally {
      if (redis.isOpen) await redis.close().catch(() => {});
      else redis.destroy();
    }
    return problems.length === 0 ? { available: true, reason: '' } : { available: false, reason: problems.join('; ') };
  })();
  return probed;
}

export function uniqueName(prefix: string): string {
  return `${prefix}_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
}

export interface TestDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh database for this test file (dropped by drop(), connections and all). */
export async function createTestDatabase(): Promise<TestDatabase> {
  const name = uniqueName('refuge_test');
  const admin = new pg.Client({ connectionString: POSTGRES_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(POSTGRES_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A unique Redis prefix and a function that deletes every key under it. */
export function redisPrefix(): { prefix: string; cleanup(): Promise<void> } {
  const prefix = uniqueName('refuge_test');
  return {
    prefix,
    async cleanup() {
      const redis = createClient({ url: REDIS_URL });
      redis.on('error', () => {});
      await redis.connect();
      try {
        for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
          if (keys.length > 0) await redis.del(keys);
        }
      } finally {
        await redis.close();
      }
    },
  };
}

/** Every key under `prefix` with a printable dump of its value (strings, hashes, lists, sets, streams). */
export async function dumpRedis(prefix: string): Promise<Map<string, string>> {
  const redis = createClient({ url: REDIS_URL });
  redis.on('error', () => {});
  await redis.connect();
  const out = new Map<string, string>();
  try {
    for await (const keys of redis.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      for (const key of keys) {
        const type = await redis.type(key);
        let value: unknown;
        if (type === 'string') value = await redis.get(key);
        else if (type === 'hash') value = await redis.hGetAll(key);
        else if (type === 'list') value = await redis.lRange(key, 0, -1);
        else if (type === 'set') value = await redis.sMembers(key);
        else if (type === 'zset') value = await redis.zRange(key, 0, -1);
        else if (type === 'stream') value = await redis.xRange(key, '-', '+');
        else value = `<${type}>`;
        out.set(key, JSON.stringify(value));
      }
    }
  } finally {
    await redis.close();
  }
  return out;
}

/** A free TCP port on 127.0.0.1 (for a relay that must come back on the same port). */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface RelayProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** stderr so far (JSON log lines) */
  stderr(): string;
  exited: Promise<number | null>;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `server/main.ts` in its own Node process (no npx in between, so a signal reaches the relay
 * itself) and resolves once it prints its URL.
 */
export async function spawnRelay(args: string[], options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {}): Promise<RelayProcess> {
  // BENCH_PROFILE_CHILDREN=DIR writes a CPU profile of each relay process there (as bench/lib/net.ts does for its children)
  const profile = process.env.BENCH_PROFILE_CHILDREN ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_CHILDREN}`] : [];
  const child = spawn(process.execPath, ['--import', 'tsx', ...profile, 'server/main.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
  });
  // never outlive the test process, whatever happens to the test
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const exited = new Promise<number | null>((resolveExit) =>
    child.once('exit', (code) => {
      process.off('exit', reap);
      resolveExit(code);
    }),
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`relay did not start within ${options.timeoutMs ?? 30_000} ms: ${stderr.slice(-2000)}`));
    }, options.timeoutMs ?? 30_000);
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      const match = /Refuge relay listening on (http:\/\/\S+)/.exec(stdout);
      if (match?.[1]) {
        clearTimeout(timer);
        resolveUrl(match[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`relay exited with ${code} before it listened: ${stderr.slice(-2000)}`));
    });
  });
  return {
    url,
    pid: child.pid ?? 0,
    child,
    stderr: () => stderr,
    exited,
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Reads one sample from a relay's /metrics. */
export async function metric(url: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.slice(name.length + 1)) : undefined;
}
