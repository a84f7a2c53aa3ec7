// Running the relay for real: health and metrics endpoints, account deletion, refusals pushed as
// `relay.error`, retention at start-up, what the logs say (and do not say), and the server command.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RelayErrorEvent } from '../shared/protocol/events.js';
import type { RelayClient } from '../shared/sync/client.js';
import type { RelayRefusal } from '../shared/sync/errors.js';
import { startRelay } from './relay.js';
import { metric, ROOT, spawnRelay } from './services-testkit.js';
import type { RelayStorage } from './storage/types.js';
import { authDevice, emitAck, envelope, makeDevice, rawSocket, registerDevice, startTestRelay, type TestRelay } from './testkit.js';

const HOUR = 3_600_000;
let relay: TestRelay;
const open: Array<{ close(): unknown }> = [];
const track = <T extends { close(): unknown }>(c: T): T => {
  open.push(c);
  return c;
};

beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  for (const c of open) c.close();
  await relay.dispose();
});

describe('health and metrics', () => {
  it('/readyz checks the storage; /metrics counts connections, envelopes and refusals by reason', async () => {
    expect(await (await fetch(`${relay.url}/readyz`)).json()).toEqual({ ok: true });
    const alice = await makeDevice('m_alice');
    const bob = await makeDevice('m_bob');
    const a = track(await registerDevice(relay.url, alice));
    const b = track((await authDevice(relay.url, await registerThenClose(bob))).client);
    await a.sendEnvelopes([envelope('m_bob'), envelope('nobody_at_all')]);
    const raw = track(await rawSocket(relay.url));
    expect(await emitAck(raw, 'hello', 'not an object')).toMatchObject({ ok: false, error: { code: 'BAD_REQUEST' } });

    const res = await fetch(`${relay.url}/metrics`);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    expect(text).toMatch(/^# TYPE refuge_connections gauge$/m);
    expect(Number(/^refuge_connections (\d+)$/m.exec(text)?.[1])).toBeGreaterThanOrEqual(2);
    expect(text).toMatch(/^refuge_envelopes_accepted_total 1$/m);
    expect(text).toMatch(/^refuge_refusals_total\{reason="UNKNOWN_RECIPIENT"\} 1$/m);
    expect(text).toMatch(/^refuge_refusals_total\{reason="BAD_REQUEST"\} 1$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    // nothing about who: no usernames in the metrics
    expect(text).not.toMatch(/m_alice|m_bob/);
    void b;
  });

  it('/readyz answers 503 while the storage cannot answer, /healthz still 200', async () => {
    let down = false;
    const inner = relay.storage;
    const flaky = new Proxy(inner, {
      get(target, key) {
        if (key === 'ping') return async () => (down ? Promise.reject(new Error('disk gone')) : target.ping());
        const value: unknown = Reflect.get(target, key, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    }) as RelayStorage;
    const other = await startRelay({ storage: flaky, log: () => {} });
    try {
      expect((await fetch(`${other.url}/readyz`)).status).toBe(200);
      down = true;
      const res = await fetch(`${other.url}/readyz`);
      expect(res.status).toBe(503);
      expect(await res.json()).toEqual({ ok: false });
      expect((await fetch(`${other.url}/healthz`)).status).toBe(200);
      expect(await metric(other.url, 'refuge_storage_up')).toBe(0);
      down = false;
      expect((await fetch(`${other.url}/readyz`)).status).toBe(200);
    } finally {
      await other.close();
    }
  });
});

async function registerThenClose<T extends { username: string }>(device: T & Parameters<typeof registerDevice>[1]): Promise<T> {
  (await registerDevice(relay.url, device)).close();
  return device;
}

describe('account deletion', () => {
  it("deletes the account, its prekeys and mailbox, closes its sockets, and frees the name", async () => {
    const dora = await makeDevice('dora');
    const first = track(await registerDevice(relay.url, dora));
    const second = await authDevice(relay.url, dora);
    track(second.client);
    const pushed: RelayErrorEvent[] = [];
    second.client.onRelayError((e) => pushed.push(e));
    const sender = track(await registerDevice(relay.url, await makeDevice('dora_friend')));
    await sender.sendEnvelopes([envelope('dora'), envelope('dora')]);

    // the name must be the account's own
    const wrong = await first.request('account.delete', { username: 'dora_friend' }).catch((e: unknown) => e as RelayRefusal);
    expect(wrong).toMatchObject({ code: 'BAD_REQUEST' });

    expect(await first.request('account.delete', { username: 'DORA' })).toEqual({ deleted: true });
    await Promise.all([first.closed, second.client.closed]);
    expect(pushed).toEqual([expect.objectContaining({ code: 'AUTH_FAILED', event: 'account.delete' })]);
    expect(await relay.storage.getDevice({ username: 'dora', deviceId: 1 })).toBeUndefined();
    expect(await relay.storage.countPending({ username: 'dora', deviceId: 1 }, 0)).toBe(0);
    await expect(sender.fetchBundles('dora')).rejects.toMatchObject({ code: 'USER_NOT_FOUND' });
    expect((await sender.sendEnvelopes([envelope('dora')]))[0]).toMatchObject({ accepted: false, error: { code: 'UNKNOWN_RECIPIENT' } });
    // someone else may take the name now
    track(await registerDevice(relay.url, await makeDevice('dora')));
  });
});

describe('refusals without an ack callback', () => {
  it('are pushed as relay.error events naming the refused event', async () => {
    const socket = track(await rawSocket(relay.url));
    const pushed: RelayErrorEvent[] = [];
    socket.on('relay.error', (e: RelayErrorEvent) => pushed.push(e));
    socket.emit('envelopes.send', { envelopes: [] });
    socket.emit('hello', 'not an object');
    socket.emit('no.such.event');
    await expect.poll(() => pushed.length).toBe(3);
    expect(pushed).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'NOT_AUTHENTICATED', event: 'envelopes.send' }),
        expect.objectContaining({ code: 'BAD_REQUEST', event: 'hello' }),
        expect.objectContaining({ code: 'UNKNOWN_EVENT', event: 'no.such.event' }),
      ]),
    );
    // with an ack, the same refusal comes as the reply instead
    expect(await emitAck(socket, 'no.such.event')).toMatchObject({ ok: false, error: { code: 'UNKNOWN_EVENT' } });
  });
});

describe('retention', () => {
  it('purges envelopes that expired while the relay was down, at start-up', async () => {
    let clock = Date.UTC(2030, 0, 1);
    const dataDir = mkdtempSync(join(tmpdir(), 'refuge-retention-'));
    try {
      const first = await startRelay({ dataDir, now: () => clock, retentionMs: 2 * HOUR, log: () => {} });
      const olga = await makeDevice('olga');
      const sender = await registerDevice(first.url, olga);
      (await registerDevice(first.url, await makeDevice('peter'))).close();
      await sender.sendEnvelopes([envelope('peter'), envelope('peter')]);
      sender.close();
      expect(await first.storage.countAllPending(0)).toBe(2);
      await first.close();

      clock += 2 * HOUR;
      const second = await startRelay({ dataDir, now: () => clock, retentionMs: 2 * HOUR, log: () => {} });
      try {
        expect(await second.storage.countAllPending(0)).toBe(0); // deleted, not merely hidden
        expect(await metric(second.url, 'refuge_envelopes_expired_total')).toBe(2);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('refuses a retention window above 7 days', async () => {
    await expect(startRelay({ dataDir: relay.dataDir, retentionMs: 7 * 24 * HOUR + 1 })).rejects.toThrow(/7 days/);
  });
});

describe('logs', () => {
  async function refusedOnce(logIp: boolean): Promise<string[]> {
    const lines: string[] = [];
    const logger = pino({ level: 'debug', base: undefined }, { write: (line: string) => void lines.push(line) });
    const r = await startTestRelay({ logger, logIp, limits: { exemptLoopback: false, addressRate: { burst: 3, windowMs: 60_000 } } });
    try {
      const client = await registerDevice(r.url, await makeDevice('logged_user')).catch(() => undefined);
      const socket = await rawSocket(r.url).catch(() => undefined);
      for (let i = 0; i < 3 && socket; i++) await emitAck(socket, 'hello');
      socket?.close();
      client?.close();
    } finally {
      await r.dispose();
    }
    return lines;
  }

  it('carry no addresses and no usernames by default; --log-ip adds the address to refusals', async () => {
    const quiet = (await refusedOnce(false)).join('\n');
    expect(quiet).not.toMatch(/127\.0\.0\.1|::1|logged_user/);
    const withIp = (await refusedOnce(true)).join('\n');
    expect(withIp).toMatch(/"ip":"(::ffff:)?127\.0\.0\.1".*rate limited/);
    expect(withIp).not.toMatch(/logged_user/);
  });
});

describe('npm run server', () => {
  it('starts the embedded relay with --port 0 --data DIR and prints its URL', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'refuge-main-'));
    const proc = await spawnRelay(['--port', '0', '--data', dataDir, '--retention', '48h']);
    try {
      expect(proc.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect((await fetch(`${proc.url}/healthz`)).status).toBe(200);
      const client: RelayClient = await registerDevice(proc.url, await makeDevice('cli_user'));
      client.close();
      expect(await proc.kill('SIGTERM')).toBe(0);
      expect(proc.stderr()).toMatch(/"msg":"relay started"/);
      expect(proc.stderr()).toMatch(/"retentionHours":48/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses bad options with a usage line', async () => {
    const cases = [['--retention', '8d'], ['--redis', 'redis://127.0.0.1:1'], ['--device-rate', 'fast'], ['--bogus']];
    const results = await Promise.all(
      cases.map(
        (args) =>
          new Promise<{ code: number | null; stderr: string }>((resolve) => {
            const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
            let stderr = '';
            child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
            child.once('exit', (code) => resolve({ code, stderr }));
          }),
      ),
    );
    results.forEach((result, i) => {
      expect(result.code, cases[i]?.join(' ')).toBe(1);
      expect(result.stderr).toMatch(/usage: npm run server/);
    });
  }, 60_000);
});
