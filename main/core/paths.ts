// Where Refuge keeps its data on each desktop OS when no folder is given.
import os from 'node:os';
import path from 'node:path';

export function defaultDataDir(): string {
  const home = os.homedir();
  switch (process.platform) {
    case 'darwin':
      return path.join(home, 'Library', 'Application Support', 'Refuge');
    case 'win32':
      return path.join(process.env.APPDATA ?? path.join(home, 'AppData', 'Roaming'), 'Refuge');
    default:
      return path.join(process.env.XDG_DATA_HOME ?? path.join(home, '.local', 'share'), 'refuge');
  }
}

/** The embedded relay listens on a fixed loopback port so a profile's server URL stays valid across restarts. */
export const EMBEDDED_RELAY_PORT = 47_100;
