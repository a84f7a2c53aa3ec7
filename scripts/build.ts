// Builds what runs outside Node's own loader: the renderer (Vite), the web host's browser
// bridge, and the Electron preload (one CommonJS file: sandboxed preloads cannot load ESM).
import { build as esbuild } from 'esbuild';
import { copyFile, mkdir } from 'node:fs/promises';
import { build as viteBuild } from 'vite';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const only = process.argv[2];

if (!only || only === 'renderer') {
  await viteBuild({ configFile: path.join(root, 'renderer/vite.config.ts'), logLevel: 'warn' });
}
if (!only || only === 'bridge') {
  await esbuild({
    entryPoints: [path.join(root, 'main/web-host/bridge-client.ts')],
    outfile: path.join(root, 'dist/web-host/refuge-bridge.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'warning',
  });
}
if (!only || only === 'preload') {
  await esbuild({
    entryPoints: [path.join(root, 'main/preload/preload.ts')],
    outfile: path.join(root, 'dist/preload/preload.cjs'),
    bundle: true,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
    external: ['electron'],
    logLevel: 'warning',
  });
}
if (!only || only === 'electron') {
  // Dependencies stay in node_modules (native addons, ESM-only packages); only our code is bundled.
  await esbuild({
    entryPoints: [path.join(root, 'main/electron/main.ts')],
    outfile: path.join(root, 'dist/electron/main.mjs'),
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    logLevel: 'warning',
  });
  // The Argon2id and backup-sealing workers are loaded by URL relative to the bundle.
  await mkdir(path.join(root, 'dist/electron'), { recursive: true });
  await copyFile(path.join(root, 'main/core/vault/argon2-worker.mjs'), path.join(root, 'dist/electron/argon2-worker.mjs'));
  await copyFile(path.join(root, 'main/core/backup/seal-worker.mjs'), path.join(root, 'dist/electron/seal-worker.mjs'));
  // The tray icon (electron-builder packs dist/, not build/).
  await copyFile(path.join(root, 'build/icon.png'), path.join(root, 'dist/electron/icon.png'));
}
