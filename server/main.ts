// `npm run server -- --port N --data DIR [--host H] [--retention-hours H]`
// Starts the relay and prints `Refuge relay listening on http://HOST:PORT` on its own line.
import { resolve } from 'node:path';
import { DEFAULT_RETENTION_MS, MAX_RETENTION_MS, startRelay } from './relay.js';

const USAGE = 'usage: npm run server -- [--port N] [--data DIR] [--host HOST] [--retention-hours H]';

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
    if (eq > 0) {
      flags.set(arg.slice(2, eq), arg.slice(eq + 1));
      continue;
    }
    const value = argv[i + 1];
    if (value === undefined || value.startsWith('--')) throw new Error(`${arg} needs a value`);
    flags.set(arg.slice(2), value);
    i++;
  }
  for (const key of flags.keys()) {
    if (!['port', 'data', 'host', 'retention-hours'].includes(key)) throw new Error(`unknown option --${key}`);
  }
  return flags;
}

async function main(): Promise<void> {
  const flags = parseArgs(process.argv.slice(2));
  const port = Number(flags.get('port') ?? '8787');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error('--port must be 0..65535');
  const retentionHours = flags.has('retention-hours') ? Number(flags.get('retention-hours')) : DEFAULT_RETENTION_MS / 3_600_000;
  const retentionMs = retentionHours * 3_600_000;
  if (!(retentionMs > 0 && retentionMs <= MAX_RETENTION_MS)) throw new Error('--retention-hours must be > 0 and at most 168 (7 days)');
  const dataDir = resolve(flags.get('data') ?? '.refuge-relay');

  const relay = await startRelay({ dataDir, port, host: flags.get('host') ?? '127.0.0.1', retentionMs });
  process.stdout.write(`Refuge relay listening on ${relay.url}\n`);
  process.stderr.write(`relay data: ${dataDir}; retention ${retentionHours} h\n`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`relay: ${signal}, shutting down\n`);
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
