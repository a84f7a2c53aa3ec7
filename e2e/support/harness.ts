// Starts what an e2e spec needs for real: a relay on a random port with its own data folder,
// and one web host per user, each with its own profile folder.
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startRelay } from '../../server/relay.js';
import { startWebHost, type WebHost } from '../../main/web-host/host.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export function tempDir(prefix: string): string {
  return mkdtempSync(path.join(os.tmpdir(), `refuge-${prefix}-`));
}

export async function relayIn(dataDir: string) {
  return startRelay({ dataDir, port: 0 });
}

export async function webHostFor(profileDir: string, serverUrl: string): Promise<WebHost> {
  return startWebHost({
    profileDir,
    defaultServerUrl: serverUrl,
    staticDir: path.join(root, 'dist/renderer'),
    bridgeScript: path.join(root, 'dist/web-host/refuge-bridge.js'),
  });
}
