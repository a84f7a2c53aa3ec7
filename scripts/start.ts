// `npm start`: build, then launch the Electron app. The app itself starts the embedded local
// relay (a SQLite file under its data folder) unless a server is configured in preferences.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const build = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts/build.ts')], { stdio: 'inherit' });
const built = await new Promise<number>((resolve) => build.on('exit', (code) => resolve(code ?? 1)));
if (built !== 0) process.exit(built);

// The 'electron' npm package exports the binary's path when required from Node; on first run
// it downloads the binary (Electron >= 42 has no postinstall, so `npm ci` works offline).
const require = createRequire(import.meta.url);
let electronBinary: string;
try {
  electronBinary = require('electron') as string;
} catch {
  console.error('refuge: the Electron binary could not be downloaded; it needs the internet once (or run `npx install-electron`).');
  process.exit(1);
}
const app = spawn(electronBinary, [root], { stdio: 'inherit' });
app.on('exit', (code) => process.exit(code ?? 0));
