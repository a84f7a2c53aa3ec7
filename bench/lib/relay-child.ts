// A child process holding the relay (server/relay.ts, SQLite in DATA_DIR, default settings) and
// a bare socket.io server for the baselines, as separate processes are in real life: the relay's
// fsyncs and CPU do not stall the clients' event loop, nor theirs the relay's.
//   node --import tsx bench/lib/relay-child.ts DATA_DIR    (forked: reports its URLs over IPC)
// The bare server answers `echo` (a round trip) and plays a relay without validation, auth or
// storage: `send` forwards a batch to the named socket and acks, `ack` is answered at once.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import { startRelay } from '../../server/relay.js';

export interface RelayChildReady {
  relayUrl: string;
  bareUrl: string;
}

async function main(): Promise<void> {
  const dataDir = process.argv[2];
  if (!dataDir || !process.send) throw new Error('usage: fork relay-child.ts DATA_DIR');
  const relay = await startRelay({ dataDir, port: 0, log: (line) => process.stderr.write(`[relay] ${line}\n`) });

  const http = createServer();
  const io = new Server(http, { serveClient: false, maxHttpBufferSize: 16_000_000 });
  const byName = new Map<string, Socket>();
  io.on('connection', (socket) => {
    const name = String(socket.handshake.query['name'] ?? '');
    if (name) byName.set(name, socket);
    socket.on('disconnect', () => {
      if (byName.get(name) === socket) byName.delete(name);
    });
    socket.on('echo', (payload: unknown, ack: (reply: unknown) => void) => ack(payload));
    socket.on('send', (batch: { to: string; envelopes: { id: string; body: string }[] }, ack: (reply: unknown) => void) => {
      byName.get(batch.to)?.emit('envelopes', { from: name, envelopes: batch.envelopes });
      ack({ ok: true, results: batch.envelopes.map((e) => ({ id: e.id, accepted: true })) });
    });
    socket.on('ack', (ids: string[], ack: (reply: unknown) => void) => ack({ ok: true, deleted: ids.length }));
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));

  const ready: RelayChildReady = { relayUrl: relay.url, bareUrl: `http://127.0.0.1:${(http.address() as AddressInfo).port}` };
  process.send(ready);
  const stop = async () => {
    await Promise.all([relay.close(), io.close()]);
    process.exit(0);
  };
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
}

main().catch((error: unknown) => {
  process.stderr.write(`relay-child: ${(error as Error)?.stack ?? String(error)}\n`);
  process.exit(1);
});
