// The relay on loopback (server/relay.ts, real storage in a temp folder) and bare socket.io
// servers and clients for the baselines.
import { fork } from 'node:child_process';
import { io, type Socket } from 'socket.io-client';
import { startRelay, type RelayHandle } from '../../server/relay.js';
import { fileURLToPath } from 'node:url';
import type { RelayChildReady } from './relay-child.js';
import type { ScenarioContext } from './scenario.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * Forks a TypeScript file of bench/ as a child process (with the tsx loader and an IPC channel),
 * resolves with its first IPC message, and kills it after the scenario.
 */
export function forkChild<T>(ctx: ScenarioContext, file: string, args: string[], onMessage?: (message: unknown) => void): Promise<{ first: T; child: import('node:child_process').ChildProcess }> {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), args, {
    cwd: ROOT,
    // BENCH_PROFILE_CHILDREN=DIR writes a CPU profile of each child there (node --cpu-prof).
    execArgv: ['--import', 'tsx', ...(process.env.BENCH_PROFILE_CHILDREN ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_CHILDREN}`] : [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  ctx.defer(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.disconnect();
      }),
  );
  return new Promise((resolve, reject) => {
    let first = true;
    child.on('message', (message) => {
      if (first) {
        first = false;
        resolve({ first: message as T, child });
      } else onMessage?.(message);
    });
    child.once('exit', (code) => {
      if (first) reject(new Error(`${file} exited (${code}) before it was ready`));
    });
    child.once('error', reject);
  });
}

/**
 * The relay on loopback in its own process (bench/lib/relay-child.ts), with a bare socket.io
 * server beside it for the baselines.
 */
export async function startRelayProcess(ctx: ScenarioContext): Promise<RelayChildReady> {
  return (await forkChild<RelayChildReady>(ctx, './relay-child.ts', [ctx.tmp('relay')])).first;
}

/**
 * A relay in this process (default settings, SQLite in a temp folder), for a scenario that needs
 * its handle (relay.storage); the shipped scenarios use startRelayProcess.
 */
export async function startBenchRelay(ctx: ScenarioContext): Promise<RelayHandle> {
  const relay = await startRelay({ dataDir: ctx.tmp('relay'), port: 0, log: (m) => ctx.log(`relay: ${m}`) });
  ctx.defer(() => relay.close());
  return relay;
}

/** A connected socket.io client (websocket, like RelayClient), closed after the scenario. */
export async function bareClient(ctx: ScenarioContext, url: string, query: Record<string, string> = {}): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true, query });
  ctx.defer(() => socket.disconnect());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Base64url text of `length` characters (an opaque envelope body). */
export function opaqueBody(length: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[(Math.random() * 64) | 0];
  return out;
}
