// The Refuge relay: socket.io over one HTTP server. Accounts, device keys and prekeys, and a
// mailbox of opaque envelopes per device, delivered live and on connect, deleted on ack,
// expired after the retention window. Every inbound event is validated by its zod schema
// (shared/protocol/events.ts); bad input gets an error reply and never reaches a handler.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import { toBase64url } from '../shared/encoding/base64url.js';
import { authMessage, CHALLENGE_BYTES } from '../shared/protocol/auth.js';
import type { DeliveredEnvelope } from '../shared/protocol/envelope.js';
import {
  BATCH_BODY_CHARS,
  type ClientEventName,
  clientEvents,
  DELIVERY_BATCH,
  type ErrorReply,
  type EnvelopeBatch,
  type EnvelopeSendResult,
  type EventResult,
  isClientEvent,
  MAX_SOCKET_MESSAGE_BYTES,
  type ParsedEventRequest,
  type RelayErrorCode,
} from '../shared/protocol/events.js';
import { canonicalUsername, isValidUsername } from '../shared/protocol/username.js';
import { SqliteRelayStorage, type SqliteStorageOptions } from './storage/sqlite.js';
import { type DeviceAddress, PrekeyLimitError, type RelayStorage } from './storage/types.js';
import { cryptoReady, randomBytes, verifySignature } from './verify.js';

const HOUR = 3_600_000;
export const DEFAULT_RETENTION_MS = 72 * HOUR;
export const MAX_RETENTION_MS = 7 * 24 * HOUR;
/** A challenge must be answered within this time. */
export const CHALLENGE_TTL_MS = 2 * 60_000;

export interface RelayOptions {
  /** Folder for relay.sqlite (created if missing). Ignored when `storage` is given. */
  dataDir: string;
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** How long an undelivered envelope is kept. Default 72 h, at most 7 days. */
  retentionMs?: number;
  /** Clock (ms since epoch); injectable for tests. */
  now?: () => number;
  /** How often expired envelopes are purged. Default min(60 s, retention / 4). */
  purgeIntervalMs?: number;
  /** Envelopes per pushed batch (<= 200). */
  deliveryBatch?: number;
  /** Unacked envelopes allowed in flight per socket before the relay waits for acks. Default 2 batches. */
  maxInflight?: number;
  /** A storage adapter to use instead of the SQLite file (not closed by close()). */
  storage?: RelayStorage;
  /** SQLite durability; see SqliteStorageOptions. */
  sqlite?: SqliteStorageOptions;
  /** Where internal errors are reported (never payloads). Default console.error. */
  log?: (message: string) => void;
}

export interface RelayHandle {
  /** e.g. http://127.0.0.1:43210 */
  url: string;
  port: number;
  storage: RelayStorage;
  /** Deletes expired envelopes now (also runs periodically); returns how many. */
  purgeExpired(): Promise<number>;
  /** Number of connected sockets (for tests and health). */
  connections(): number;
  close(): Promise<void>;
}

class RelayError extends Error {
  constructor(
    readonly code: RelayErrorCode,
    message: string,
  ) {
    super(message);
  }
}

interface Challenge {
  bytes: Uint8Array;
  issuedAt: number;
}

/** Per-socket state. */
interface Conn {
  socket: Socket;
  challenge: Challenge | undefined;
  device: DeviceAddress | undefined;
  deviceKey: string;
  /** Highest seq pushed to this socket. */
  cursor: number;
  /** Ids pushed and not yet acked. */
  inflight: Set<string>;
  pumping: boolean;
  pumpAgain: boolean;
  pumpScheduled: boolean;
  drainedSent: boolean;
  /** Rough count of envelopes still to push (for `remaining`). */
  estimate: number;
  closed: boolean;
}

function errorReply(code: string, message: string): ErrorReply {
  return { ok: false, error: { code, message: message.slice(0, 1000) } };
}

function describeZodError(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'invalid payload';
  const path = issue.path.length ? issue.path.join('.') : 'payload';
  return `${path}: ${issue.message}`.slice(0, 300);
}

function deviceKey(address: DeviceAddress): string {
  return `${address.username}\u0000${address.deviceId}`;
}

export async function startRelay(options: RelayOptions): Promise<RelayHandle> {
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  if (!Number.isFinite(retentionMs) || retentionMs <= 0 || retentionMs > MAX_RETENTION_MS) {
    throw new RangeError(`retentionMs must be > 0 and at most ${MAX_RETENTION_MS} (7 days)`);
  }
  const now = options.now ?? Date.now;
  const batchSize = Math.max(1, Math.min(DELIVERY_BATCH, options.deliveryBatch ?? DELIVERY_BATCH));
  const maxInflight = Math.max(batchSize, options.maxInflight ?? batchSize * 2);
  const log = options.log ?? ((m: string) => console.error(`[relay] ${m}`));
  const purgeIntervalMs = options.purgeIntervalMs ?? Math.max(1000, Math.min(60_000, Math.floor(retentionMs / 4)));

  await cryptoReady();
  const ownsStorage = !options.storage;
  const storage: RelayStorage = options.storage ?? new SqliteRelayStorage(options.dataDir, options.sqlite);

  /** Authenticated sockets per device (a device may be connected more than once). */
  const online = new Map<string, Set<Conn>>();
  let closing = false;

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && (req.method === 'GET' || req.method === 'HEAD')) {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : '{"ok":true}');
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });

  const io = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: MAX_SOCKET_MESSAGE_BYTES,
    // Auth is a signature, not a cookie: any origin may connect (the Electron renderer, the web host, the CLI).
    cors: { origin: '*' },
  });

  // ------------------------------------------------------------ delivery

  function schedulePump(conn: Conn): void {
    if (conn.pumpScheduled || conn.closed) return;
    conn.pumpScheduled = true;
    setImmediate(() => {
      conn.pumpScheduled = false;
      void pump(conn);
    });
  }

  /** Pushes pending envelopes to one socket while its in-flight window has room; signals drained. */
  async function pump(conn: Conn): Promise<void> {
    if (conn.pumping) {
      conn.pumpAgain = true;
      return;
    }
    const device = conn.device;
    if (!device) return;
    conn.pumping = true;
    try {
      do {
        conn.pumpAgain = false;
        while (!conn.closed && !closing && conn.inflight.size < maxInflight) {
          const room = Math.min(batchSize, maxInflight - conn.inflight.size);
          const rows = await storage.pendingEnvelopes(device, conn.cursor, now(), room + 1);
          if (conn.closed || closing) return;
          if (rows.length === 0) {
            conn.estimate = 0;
            if (conn.inflight.size === 0 && !conn.drainedSent) {
              conn.drainedSent = true;
              conn.socket.emit('mailbox.drained', {});
            }
            break;
          }
          const envelopes: DeliveredEnvelope[] = [];
          let chars = 0;
          for (const row of rows) {
            if (envelopes.length >= room) break;
            if (envelopes.length > 0 && chars + row.body.length > BATCH_BODY_CHARS) break;
            chars += row.body.length;
            envelopes.push({ id: row.id, from: row.from, fromDeviceId: row.fromDeviceId, body: row.body, receivedAt: row.receivedAt });
            conn.cursor = row.seq;
            conn.inflight.add(row.id);
          }
          const hasMore = rows.length > envelopes.length;
          conn.estimate = hasMore ? Math.max(1, conn.estimate - envelopes.length) : 0;
          conn.drainedSent = false;
          const batch: EnvelopeBatch = { envelopes, remaining: conn.estimate };
          conn.socket.emit('envelopes', batch);
          if (!hasMore) break;
        }
      } while (conn.pumpAgain && !conn.closed && !closing);
    } catch (e) {
      if (!closing) log(`delivery failed: ${(e as Error).message}`);
    } finally {
      conn.pumping = false;
    }
  }

  function notifyDevice(address: DeviceAddress, added: number): void {
    const conns = online.get(deviceKey(address));
    if (!conns) return;
    for (const conn of conns) {
      conn.estimate += added;
      schedulePump(conn);
    }
  }

  function setAuthenticated(conn: Conn, device: DeviceAddress): void {
    conn.device = device;
    conn.deviceKey = deviceKey(device);
    let set = online.get(conn.deviceKey);
    if (!set) online.set(conn.deviceKey, (set = new Set()));
    set.add(conn);
  }

  function freshChallenge(challenge: Challenge | undefined): Challenge | undefined {
    if (!challenge) return undefined;
    const age = now() - challenge.issuedAt;
    return age >= 0 && age <= CHALLENGE_TTL_MS ? challenge : undefined;
  }

  // ------------------------------------------------------------ handlers

  type Handler<E extends ClientEventName> = (
    conn: Conn,
    request: ParsedEventRequest<E>,
    challenge: Challenge | undefined,
  ) => Promise<EventResult<E>>;

  const handlers: { [E in ClientEventName]: Handler<E> } = {
    async hello(conn) {
      const bytes = randomBytes(CHALLENGE_BYTES);
      conn.challenge = { bytes, issuedAt: now() };
      return { challenge: toBase64url(bytes) };
    },

    async register(conn, req, challenge) {
      if (conn.device) throw new RelayError('ALREADY_AUTHENTICATED', 'this socket is already authenticated');
      if (!challenge) throw new RelayError('AUTH_FAILED', 'no valid challenge: send hello first');
      const username = canonicalUsername(req.username);
      if (!isValidUsername(username)) {
        throw new RelayError('INVALID_USERNAME', 'a username is 3-32 characters of a-z, 0-9, _ and .');
      }
      if (req.deviceId !== 1) throw new RelayError('INVALID_DEVICE', 'a new account registers device 1');
      if (!verifySignature(req.signature, authMessage(challenge.bytes, username, req.deviceId), req.keys.identityKey)) {
        throw new RelayError('AUTH_FAILED', 'signature does not verify');
      }
      const result = await storage.createAccount(username, req.deviceId, req.keys, now());
      if (result.status === 'taken') throw new RelayError('USERNAME_TAKEN', `the username ${username} is taken`);
      const device = { username, deviceId: req.deviceId };
      setAuthenticated(conn, device);
      conn.estimate = await storage.countPending(device, now());
      schedulePump(conn);
      return device;
    },

    async auth(conn, req, challenge) {
      if (conn.device) throw new RelayError('ALREADY_AUTHENTICATED', 'this socket is already authenticated');
      if (!challenge) throw new RelayError('AUTH_FAILED', 'no valid challenge: send hello first');
      const username = canonicalUsername(req.username);
      const record = isValidUsername(username) ? await storage.getDevice({ username, deviceId: req.deviceId }) : undefined;
      if (!record) throw new RelayError('AUTH_FAILED', 'unknown user or device');
      if (!verifySignature(req.signature, authMessage(challenge.bytes, username, req.deviceId), record.identityKey)) {
        throw new RelayError('AUTH_FAILED', 'signature does not verify');
      }
      if (conn.closed) throw new RelayError('AUTH_FAILED', 'socket closed');
      const device = { username, deviceId: req.deviceId };
      setAuthenticated(conn, device);
      conn.estimate = await storage.countPending(device, now());
      schedulePump(conn);
      return device;
    },

    async 'prekeys.upload'(conn, req) {
      const device = conn.device as DeviceAddress;
      const record = await storage.getDevice(device);
      if (!record || record.identityKey !== req.keys.identityKey) {
        throw new RelayError('IDENTITY_MISMATCH', "keys.identityKey is not this device's identity key");
      }
      try {
        return await storage.uploadPrekeys(device, req.keys);
      } catch (e) {
        if (e instanceof PrekeyLimitError) throw new RelayError('PREKEY_LIMIT', e.message);
        throw e;
      }
    },

    async 'prekeys.count'(conn) {
      return storage.prekeyCounts(conn.device as DeviceAddress);
    },

    async 'bundle.fetch'(_conn, req) {
      const username = canonicalUsername(req.username);
      const bundles = isValidUsername(username) ? await storage.takeBundles(username) : undefined;
      if (!bundles || bundles.length === 0) throw new RelayError('USER_NOT_FOUND', 'no such user');
      return { bundles };
    },

    async 'envelopes.send'(conn, req) {
      const from = conn.device as DeviceAddress;
      const receivedAt = now();
      const input = req.envelopes.map((e) => ({ id: e.id, to: canonicalUsername(e.to), toDeviceId: e.toDeviceId, body: e.body }));
      const { outcomes, recipients } = await storage.storeEnvelopes(from, input, receivedAt, receivedAt + retentionMs);
      const results: EnvelopeSendResult[] = input.map((e, i) =>
        outcomes[i] === 'unknown-recipient'
          ? { id: e.id, accepted: false, error: { code: 'UNKNOWN_RECIPIENT', message: 'no such user or device' } }
          : { id: e.id, accepted: true },
      );
      for (const recipient of recipients) notifyDevice(recipient, recipient.stored);
      return { results };
    },

    async 'envelopes.ack'(conn, req) {
      const device = conn.device as DeviceAddress;
      const deleted = await storage.ackEnvelopes(device, req.ids);
      for (const other of online.get(conn.deviceKey) ?? []) {
        for (const id of req.ids) other.inflight.delete(id);
        schedulePump(other);
      }
      return { deleted };
    },
  };

  function bind<E extends ClientEventName>(conn: Conn, name: E): void {
    const spec = clientEvents[name];
    const handler = handlers[name] as Handler<E>;
    const consumesChallenge = name === 'auth' || name === 'register';
    conn.socket.on(name as string, (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (reply: unknown) => void) : undefined;
      const reply = (value: unknown) => {
        if (!ack) return;
        try {
          ack(value);
        } catch {
          // a broken ack must not take the relay down
        }
      };
      try {
        // auth/register consume the socket's challenge on arrival, whatever happens next
        const challenge = consumesChallenge ? freshChallenge(conn.challenge) : undefined;
        if (consumesChallenge) conn.challenge = undefined;
        if (spec.auth && !conn.device) return reply(errorReply('NOT_AUTHENTICATED', 'authenticate first'));
        const parsed = spec.request.safeParse(args[0] ?? {});
        if (!parsed.success) return reply(errorReply('BAD_REQUEST', describeZodError(parsed.error)));
        handler(conn, parsed.data as ParsedEventRequest<E>, challenge).then(
          (result) => reply({ ok: true, ...result }),
          (e: unknown) => {
            if (e instanceof RelayError) return reply(errorReply(e.code, e.message));
            if (!closing) log(`${name} failed: ${(e as Error)?.message ?? String(e)}`);
            reply(errorReply('INTERNAL', 'internal error'));
          },
        );
      } catch (e) {
        log(`${name} failed: ${(e as Error)?.message ?? String(e)}`);
        reply(errorReply('INTERNAL', 'internal error'));
      }
    });
  }

  io.on('connection', (socket) => {
    const conn: Conn = {
      socket,
      challenge: undefined,
      device: undefined,
      deviceKey: '',
      cursor: 0,
      inflight: new Set(),
      pumping: false,
      pumpAgain: false,
      pumpScheduled: false,
      drainedSent: false,
      estimate: 0,
      closed: false,
    };
    for (const name of Object.keys(clientEvents) as ClientEventName[]) bind(conn, name);
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (isClientEvent(event)) return;
      const ack = args[args.length - 1];
      if (typeof ack === 'function') {
        try {
          ack(errorReply('UNKNOWN_EVENT', `unknown event ${String(event).slice(0, 64)}`));
        } catch {
          // ignore
        }
      }
    });
    socket.on('disconnect', () => {
      conn.closed = true;
      conn.challenge = undefined;
      if (conn.device) {
        const set = online.get(conn.deviceKey);
        set?.delete(conn);
        if (set && set.size === 0) online.delete(conn.deviceKey);
      }
    });
    socket.on('error', () => {
      // socket.io reports oversized or malformed packets here; the socket is closed, the relay keeps serving
    });
  });

  // ------------------------------------------------------------ retention

  const purgeExpired = () => storage.purgeExpired(now());
  const purgeTimer = setInterval(() => {
    purgeExpired().catch((e: unknown) => {
      if (!closing) log(`purge failed: ${(e as Error).message}`);
    });
  }, purgeIntervalMs);
  purgeTimer.unref();
  await purgeExpired();

  // ------------------------------------------------------------ listen

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port ?? 0, host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const port = (http.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    storage,
    purgeExpired,
    connections: () => io.of('/').sockets.size,
    close() {
      closed ??= (async () => {
        closing = true;
        clearInterval(purgeTimer);
        const done = io.close();
        http.closeAllConnections();
        await done;
        if (ownsStorage) await storage.close();
      })();
      return closed;
    },
  };
}
