// RelayClient error handling against hostile or broken servers (a bare socket.io server).
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { afterEach, describe, expect, it } from 'vitest';
import { RefugeError } from '../ipc/contract.js';
import { RelayClient } from './client.js';

let http: HttpServer | undefined;
let ioServer: Server | undefined;

afterEach(async () => {
  await ioServer?.close();
  ioServer = undefined;
  http = undefined;
});

async function fakeRelay(setup: (io: Server) => void): Promise<string> {
  http = createServer();
  ioServer = new Server(http);
  setup(ioServer);
  await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(RefugeError);
    return (e as RefugeError).code;
  }
  throw new Error('expected a rejection');
}

describe('RelayClient', () => {
  it('RELAY_UNREACHABLE when nothing listens, and for requests when not connected', async () => {
    const client = new RelayClient('http://127.0.0.1:1', { connectTimeoutMs: 2000 });
    expect(await codeOf(client.connect())).toBe('RELAY_UNREACHABLE');
    expect(await codeOf(client.hello())).toBe('RELAY_UNREACHABLE');
    await client.closed;
  });

  it('validates replies: a malformed reply is PROTOCOL_ERROR, an error reply keeps its code', async () => {
    const url = await fakeRelay((io) =>
      io.on('connection', (socket) => {
        socket.on('hello', (_p, ack) => ack({ ok: true, challenge: 'too-short' }));
        socket.on('auth', (_p, ack) => ack({ ok: false, error: { code: 'AUTH_FAILED', message: 'nope' } }));
        socket.on('bundle.fetch', (_p, ack) => ack({ ok: true, bundles: [{ username: 'x' }] }));
        socket.on('envelopes.ack', (_p, ack) => ack('garbage'));
      }),
    );
    const client = new RelayClient(url);
    await client.connect();
    expect(await codeOf(client.hello())).toBe('PROTOCOL_ERROR');
    const auth = client.auth({ username: 'alice', deviceId: 1, signature: 'A'.repeat(86) });
    await expect(auth).rejects.toMatchObject({ code: 'AUTH_FAILED', message: 'nope' });
    expect(await codeOf(client.fetchBundles('x1x'))).toBe('PROTOCOL_ERROR');
    expect(await codeOf(client.ack([crypto.randomUUID()]))).toBe('PROTOCOL_ERROR');
    client.close();
  });

  it('BAD_REQUEST locally for an invalid request (nothing sent)', async () => {
    let received = 0;
    const url = await fakeRelay((io) => io.on('connection', (socket) => socket.onAny(() => received++)));
    const client = new RelayClient(url);
    await client.connect();
    expect(await codeOf(client.auth({ username: 'alice', deviceId: 0, signature: 'x' }))).toBe('BAD_REQUEST');
    expect(await codeOf(client.sendEnvelopes([]))).toBe('BAD_REQUEST');
    expect(received).toBe(0);
    client.close();
  });

  it('RELAY_TIMEOUT when the relay never answers; RELAY_UNREACHABLE at once when the connection drops', async () => {
    const url = await fakeRelay((io) =>
      io.on('connection', (socket) => {
        socket.on('hello', () => {});
        socket.on('prekeys.count', () => socket.disconnect(true));
      }),
    );
    const client = new RelayClient(url, { timeoutMs: 100 });
    await client.connect();
    expect(await codeOf(client.hello())).toBe('RELAY_TIMEOUT');
    const started = Date.now();
    expect(await codeOf(client.prekeyCount())).toBe('RELAY_UNREACHABLE');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await client.closed).toMatch(/disconnect/);
    expect(client.connected).toBe(false);
  });

  it('reports an invalid pushed batch instead of delivering it', async () => {
    const url = await fakeRelay((io) =>
      io.on('connection', (socket) => {
        socket.on('hello', (_p, ack) => {
          socket.emit('envelopes', { envelopes: [{ id: 'nope' }], remaining: 0 });
          ack({ ok: true, challenge: 'A'.repeat(43) });
        });
      }),
    );
    const client = new RelayClient(url);
    const delivered: unknown[] = [];
    const errors: RefugeError[] = [];
    client.onEnvelopes((b) => delivered.push(b), (e) => errors.push(e));
    await client.connect();
    await client.hello();
    expect(delivered).toEqual([]);
    expect(errors.map((e) => e.code)).toEqual(['PROTOCOL_ERROR']);
    client.close();
  });
});
