// `npm run web`: the web host on 127.0.0.1, with an embedded local relay unless --server is given.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelay } from '../../server/relay.js';
import { defaultDataDir, EMBEDDED_RELAY_PORT } from '../core/paths.js';
import { parseArgs } from '../cli/args.js';
import { startWebHost } from './host.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const args = parseArgs(process.argv.slice(2));
const flag = (name: string) => {
  const value = args.flags.get(name);
  return typeof value === 'string' ? value : undefined;
};

const dataDir = path.resolve(flag('data') ?? path.join(defaultDataDir(), 'web'));
let serverUrl = flag('server');
let relay: Awaited<ReturnType<typeof startRelay>> | null = null;
if (!serverUrl) {
  relay = await startRelay({ dataDir: path.join(dataDir, 'relay'), port: Number(flag('relay-port') ?? EMBEDDED_RELAY_PORT) });
  serverUrl = relay.url;
  process.stdout.write(`Local relay on ${relay.url}\n`);
}

const host = await startWebHost({
  profileDir: path.resolve(flag('profile') ?? path.join(dataDir, 'profile')),
  defaultServerUrl: serverUrl,
  staticDir: path.join(root, 'dist/renderer'),
  bridgeScript: path.join(root, 'dist/web-host/refuge-bridge.js'),
  port: Number(flag('port') ?? 0),
});
process.stdout.write(`Refuge web host: ${host.url}\n`);

const shutdown = async () => {
  await host.close();
  await relay?.close();
  process.exit(0);
};
process.on('SIGINT', () => void shutdown());
process.on('SIGTERM', () => void shutdown());
