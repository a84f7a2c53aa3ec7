// `npm run server -- [options]` starts the relay and prints `Refuge relay listening on http://HOST:PORT`
// on its own line (stdout). Logs are JSON lines on stderr. See docs/DEPLOY.md.
import { resolve } from 'node:path';
import pino from 'pino';
import { DEFAULT_LIMITS, DEFAULT_RETENTION_MS, MAX_RETENTION_MS, parseDuration, parseRate, type RelayLimits } from './limits.js';
import type { RelayOptions } from './relay.js';

const USAGE = `usage: npm run server -- [options]
  --port N                  listen port (default 8787; 0 picks a free one)
  --host HOST               listen address (default 127.0.0.1)
  --data DIR                embedded mode: SQLite file in DIR (default ./.refuge-relay)
  --postgres URL            keep state in PostgreSQL (or set REFUGE_POSTGRES_URL)
  --pg-schema NAME          schema for the relay's tables (default refuge)
  --redis URL               cluster mode: cross-node delivery through Redis (or set REFUGE_REDIS_URL); needs --postgres
  --redis-prefix P          prefix of the Redis stream and channels (default refuge)
  --retention D             keep undelivered envelopes this long (default 72h, at most 7d; e.g. 48h, 3d)
  --retention-hours H       the same in hours
  --scrub-interval D        how often deleted data is scrubbed from storage files (default 1m SQLite, 10m PostgreSQL; 0 = never)
  --max-envelope-bytes N    largest envelope body (default ${DEFAULT_LIMITS.maxEnvelopeBytes})
  --max-mailbox-envelopes N envelopes waiting per device (default ${DEFAULT_LIMITS.maxMailboxEnvelopes})
  --max-mailbox-bytes N     bytes waiting per device (default ${DEFAULT_LIMITS.maxMailboxBytes})
  --max-message-bytes N     largest socket message (default ${DEFAULT_LIMITS.maxMessageBytes})
  --max-sockets-per-device N (default ${DEFAULT_LIMITS.maxSocketsPerDevice})
  --device-rate BURST/WINDOW   envelopes and requests per device (default 10000/5s)
  --bundle-rate BURST/WINDOW   prekey bundle fetches per device (default 200/10m)
  --address-rate BURST/WINDOW  connections and events per network address (default 2000/4s)
  --register-rate BURST/WINDOW registrations per network address (default 10/1h)
  --limit-loopback          apply the per-address limits to 127.0.0.1 and ::1 too
  --trust-proxy             take the client address from X-Forwarded-For (behind a reverse proxy)
  --log-ip                  put client addresses in log lines (off by default)
  --log-level LEVEL         fatal, error, warn, info (default), debug, silent`;

const VALUED = new Set([
  'port', 'host', 'data', 'postgres', 'pg-schema', 'redis', 'redis-prefix', 'retention', 'retention-hours', 'scrub-interval',
  'max-envelope-bytes', 'max-mailbox-envelopes', 'max-mailbox-bytes', 'max-message-bytes', 'max-sockets-per-device',
  'device-rate', 'bundle-rate', 'address-rate', 'register-rate', 'log-level',
]);
const SWITCHES = new Set(['trust-proxy', 'log-ip', 'limit-loopback']);

function parseArgs(argv: string[]): Map<string, string> {
  const flags = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    }
    if (!arg.startsWith('--')) throw new Error(`unexpected argument ${arg}`);
    const eq = arg.indexOf('=');
    const name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    if (SWITCHES.has(name)) {
      if (eq > 0) throw new Error(`--${name} takes no value`);
      flags.set(name, 'true');
      continue;
    }
    if (!VALUED.has(name)) throw new Error(`unknown option --${name}`);
    if (eq > 0) {
      flags.set(name, arg.slice(eq + 1));
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`);
    flags.set(name, value);
    i++;
  }
  return flags;
}

function positiveInt(flags: Map<string, string>, name: string): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer`);
  return n;
}

/** Hides a password in a connection URL for log lines. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

async function main(): Promise<void> {
  const flags = parseArgs(process.argv.slice(2));
  const port = Number(flags.get('port') ?? '8787');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');

  let retentionMs = DEFAULT_RETENTION_MS;
  if (flags.has('retention') && flags.has('retention-hours')) throw new Error('give --retention or --retention-hours, not both');
  if (flags.has('retention')) retentionMs = parseDuration(flags.get('retention') as string);
  if (flags.has('retention-hours')) retentionMs = Number(flags.get('retention-hours')) * 3_600_000;
  if (!(retentionMs > 0 && retentionMs <= MAX_RETENTION_MS)) throw new Error('--retention must be > 0 and at most 7 days (168h)');

  const limits: Partial<RelayLimits> = {};
  const setInt = (flag: string, key: 'maxEnvelopeBytes' | 'maxMailboxEnvelopes' | 'maxMailboxBytes' | 'maxMessageBytes' | 'maxSocketsPerDevice') => {
    const n = positiveInt(flags, flag);
    if (n !== undefined) limits[key] = n;
  };
  setInt('max-envelope-bytes', 'maxEnvelopeBytes');
  setInt('max-mailbox-envelopes', 'maxMailboxEnvelopes');
  setInt('max-mailbox-bytes', 'maxMailboxBytes');
  setInt('max-message-bytes', 'maxMessageBytes');
  setInt('max-sockets-per-device', 'maxSocketsPerDevice');
  const setRate = (flag: string, key: 'deviceRate' | 'bundleRate' | 'addressRate' | 'registrationRate') => {
    const text = flags.get(flag);
    if (text !== undefined) limits[key] = parseRate(text);
  };
  setRate('device-rate', 'deviceRate');
  setRate('bundle-rate', 'bundleRate');
  setRate('address-rate', 'addressRate');
  setRate('register-rate', 'registrationRate');
  if (flags.has('limit-loopback')) limits.exemptLoopback = false;

  const level = flags.get('log-level') ?? 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'silent'].includes(level)) throw new Error('--log-level must be fatal, error, warn, info, debug or silent');
  const logger = pino({ level, base: undefined }, pino.destination({ dest: 2, sync: true }));

  const postgres = flags.get('postgres') ?? process.env.REFUGE_POSTGRES_URL;
  const redis = flags.get('redis') ?? process.env.REFUGE_REDIS_URL;
  if (redis && !postgres) throw new Error('--redis (cluster mode) needs --postgres: every node must share the same storage');
  if (postgres && flags.has('data')) throw new Error('give --data (SQLite) or --postgres, not both');
  const dataDir = postgres ? undefined : resolve(flags.get('data') ?? '.refuge-relay');

  const options: RelayOptions = {
    port,
    host: flags.get('host') ?? '127.0.0.1',
    retentionMs,
    limits,
    trustProxy: flags.has('trust-proxy'),
    logIp: flags.has('log-ip'),
    logger,
  };
  if (dataDir) options.dataDir = dataDir;
  if (postgres) options.postgres = { connectionString: postgres, schema: flags.get('pg-schema') ?? 'refuge' };
  if (redis) options.redis = { url: redis, prefix: flags.get('redis-prefix') ?? 'refuge' };
  if (flags.has('scrub-interval')) options.scrubIntervalMs = parseDuration(flags.get('scrub-interval') as string);

  // loaded after the options are checked: a typo is reported without loading the whole relay
  const { startRelay } = await import('./relay.js');
  const relay = await startRelay(options);
  process.stdout.write(`Refuge relay listening on ${relay.url}\n`);
  logger.info(
    {
      url: relay.url,
      storage: postgres ? `postgres ${redact(postgres)} schema ${options.postgres?.schema}` : `sqlite ${dataDir}`,
      cluster: redis ? redact(redis) : false,
      retentionHours: retentionMs / 3_600_000,
    },
    'relay started',
  );
  if (postgres && !redis) logger.warn('PostgreSQL without --redis: run a single node only (live delivery does not cross nodes)');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    relay.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((e: unknown) => {
  process.stderr.write(`refuge relay: ${(e as Error)?.message ?? String(e)}\n${USAGE}\n`);
  process.exit(1);
});
