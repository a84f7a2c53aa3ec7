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

// The 'electron' package's own CLI launches the binary, downloading it on first run
// (Electron >= 42 has no postinstall, so `npm ci` works offline).
const electronCli = createRequire(import.meta.url).resolve('electron/cli.js');
const app = spawn(process.execPath, [electronCli, root], { stdio: 'inherit' });
app.on('exit', (code) => process.exit(code ?? 0));
