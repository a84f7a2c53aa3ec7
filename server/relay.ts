// The Refuge relay: socket.io over one HTTP server. Accounts, device keys and prekeys, and a
// mailbox of opaque envelopes per device, delivered live and on connect, deleted on ack,
// expired after the retention window. Every inbound event is validated by its zod schema
// (shared/protocol/events.ts); bad input gets an error reply and never reaches a handler.
//
// Two deployments share this file: the embedded default (one process, SQLite file) and a
// cluster (N processes, PostgreSQL for state, Redis for "wake this device" between nodes).
// Privacy by default: nothing here records when a device connected, from which address, or who
// it talks to; logs carry no usernames, envelope ids or bodies, and no addresses unless logIp.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino, { type Logger } from 'pino';
import { Server, type Socket } from 'socket.io';
import { z } from 'zod';
import { toBase64url } from '../shared/encoding/base64url.js';
import { authMessage, CHALLENGE_BYTES } from '../shared/protocol/auth.js';
import type { DeliveredEnvelope } from '../shared/protocol/envelope.js';
import {
  BATCH_BODY_CHARS,
  type ClientEventName,
  clientEvents,
  DELIVERY_BATCH,
  type ErrorBody,
  type ErrorReply,
  type EnvelopeBatch,
  type EnvelopeSendResult,
  type EventResult,
  isClientEvent,
  type ParsedEventRequest,
  type RelayErrorCode,
  type RelayErrorEvent,
} from '../shared/protocol/events.js';
import { canonicalUsername, isValidUsername } from '../shared/protocol/username.js';
import { type ClusterLink, connectCluster } from './cluster.js';
import {
  addressKey,
  DEFAULT_RETENTION_MS,
  isLoopback,
  MAX_RETENTION_MS,
  type RelayLimits,
  resolveLimits,
  TokenBuckets,
} from './limits.js';
import { RelayMetrics } from './metrics.js';
import { PostgresRelayStorage, type PostgresStorageOptions } from './storage/postgres.js';
import { SqliteRelayStorage, type SqliteStorageOptions } from './storage/sqlite.js';
import { type DeviceAddress, PrekeyLimitError, type RelayStorage, type StoredEnvelope } from './storage/types.js';
import { cryptoReady, randomBytes, verifySignature } from './verify.js';

export { DEFAULT_RETENTION_MS, MAX_RETENTION_MS } from './limits.js';
/** A challenge must be answered within this time. */
export const CHALLENGE_TTL_MS = 2 * 60_000;
/** After an ack failed in storage, the envelopes it named are pushed again after this delay. */
const ACK_RETRY_DELAY_MS = 250;
/** What a sender is told to wait before retrying an envelope refused for a full mailbox. */
export const MAILBOX_FULL_RETRY_MS = 30_000;

export interface RelayOptions {
  /** Folder for relay.sqlite (created if missing): the embedded mode. Ignored when `storage` or `postgres` is given. */
  dataDir?: string;
  /** Keep state in PostgreSQL instead of SQLite (schema created/migrated on start). */
  postgres?: PostgresStorageOptions;
  /** Join a cluster through Redis (socket.io redis-streams adapter): needs shared storage (`postgres` or `storage`). */
  redis?: { url: string; prefix?: string };
  /** 0 picks a free port. Default 0. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** How long an undelivered envelope is kept. Default 72 h, at most 7 days. */
  retentionMs?: number;
  /** Clock (ms since epoch) for envelopes, challenges and rate limits; injectable for tests. */
  now?: () => number;
  /** How often expired envelopes are purged. Default min(60 s, retention / 4). */
  purgeIntervalMs?: number;
  /** How often storage.scrub() runs. Default: every purge with SQLite, 10 min with PostgreSQL. 0 disables. */
  scrubIntervalMs?: number;
  /** Shared storage (PostgreSQL) only: how often idle sockets re-check their mailbox (covers a wake lost between nodes). Default 15 s. */
  sweepIntervalMs?: number;
  /** Envelopes per pushed batch (<= 200). */
  deliveryBatch?: number;
  /** Unacked envelopes allowed in flight per socket before the relay waits for acks. Default 2 batches. */
  maxInflight?: number;
  /** A storage adapter to use instead of the SQLite file or PostgreSQL (not closed by close()). */
  storage?: RelayStorage;
  /** SQLite durability; see SqliteStorageOptions. */
  sqlite?: SqliteStorageOptions;
  /** Size, quota and rate limits; see limits.ts for the defaults. */
  limits?: Partial<RelayLimits>;
  /** The retryAfterMs a sender gets with MAILBOX_FULL (the relay cannot know when the recipient will drain). Default 30 s. */
  mailboxFullRetryMs?: number;
  /** Behind a reverse proxy: take the client address from the last X-Forwarded-For entry. Default false. */
  trustProxy?: boolean;
  /** Put client addresses in log lines (refusals, connections). Default false: no address is ever logged. */
  logIp?: boolean;
  /** Structured logger (pino). Default: warnings and errors as JSON on stderr. */
  logger?: Logger;
  /** Instead of `logger`: receives each warning/error log line (JSON). `() => {}` silences the relay. */
  log?: (line: string) => void;
  /** socket.io transports. Default websocket only in a cluster (no sticky sessions needed), websocket + polling otherwise. */
  transports?: Array<'websocket' | 'polling'>;
}

export interface RelayHandle {
  /** e.g. http://127.0.0.1:43210 */
  url: string;
  port: number;
  mode: 'sqlite' | 'postgres' | 'custom';
  clustered: boolean;
  storage: RelayStorage;
  /** Deletes expired envelopes now (also runs periodically); returns how many. */
  purgeExpired(): Promise<number>;
  /** Runs the storage scrub now (also runs periodically); false if it was skipped. */
  scrub(): Promise<boolean>;
  /** Number of connected sockets (for tests and health). */
  connections(): number;
  close(): Promise<void>;
}

class RelayError extends Error {
  constructor(
    readonly code: RelayErrorCode,
    message: string,
    readonly retryAfterMs?: number,
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
  /** Rate-limit key of the client address; never stored or logged unless logIp. */
  address: string;
  exempt: boolean;
  challenge: Challenge | undefined;
  device: DeviceAddress | undefined;
  deviceKey: string;
  /** Highest seq pushed to this socket (used when the storage commits in seq order). */
  cursor: number;
  /** Ids pushed and not yet acked, with their seq. */
  inflight: Map<string, number>;
  /**
   * Direct push (one relay owns its storage): envelopes stored for this device since it came
   * online, as the store reported them, in seq order. While `caughtUp`, every envelope waiting
   * beyond `cursor` is in here, so the pump sends from memory instead of reading storage.
   */
  live: LiveEnvelope[];
  liveChars: number;
  caughtUp: boolean;
  /** Bumped whenever `live` loses entries it should have kept (overflow): a read that began before cannot prove catch-up. */
  liveGeneration: number;
  /** Acks seen since the last sweep (cluster: decides whether in-flight ids need a re-check). */
  progressed: boolean;
  pumping: boolean;
  pumpAgain: boolean;
  pumpScheduled: boolean;
  drainedSent: boolean;
  /** Rough count of envelopes still to push (for `remaining`). */
  estimate: number;
  closed: boolean;
}

interface LiveEnvelope {
  envelope: StoredEnvelope;
  expiresAt: number;
}

/**
 * Most envelopes (and body characters) kept in memory per socket for direct push: a few pushes
 * ahead of the window. Past that the recipient is behind, and the pump reads storage instead (so
 * a socket that never acks costs at most this much memory).
 */
const LIVE_MAX_ENVELOPES = 4 * DELIVERY_BATCH;
const LIVE_MAX_CHARS = 1024 * 1024;

function errorBody(code: string, message: string, retryAfterMs?: number): ErrorBody {
  const body: ErrorBody = { code, message: message.slice(0, 1000) };
  if (retryAfterMs !== undefined) body.retryAfterMs = Math.max(1, Math.min(MAX_RETENTION_MS, Math.ceil(retryAfterMs)));
  return body;
}

function errorReply(code: string, message: string, retryAfterMs?: number): ErrorReply {
  return { ok: false, error: errorBody(code, message, retryAfterMs) };
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

/** What nodes tell each other: devices whose mailbox grew, or whose sockets must go (account deleted). */
const DeviceListSchema = z
  .array(z.object({ u: z.string().min(1).max(64), d: z.number().int().min(1).max(255), n: z.number().int().nonnegative().optional() }))
  .max(10_000);

function defaultLogger(): Logger {
  return pino({ level: 'warn', base: undefined }, pino.destination({ dest: 2, sync: false }));
}

export async function startRelay(options: RelayOptions): Promise<RelayHandle> {
  const retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
  if (!Number.isFinite(retentionMs) || retentionMs <= 0 || retentionMs > MAX_RETENTION_MS) {
    throw new RangeError(`retentionMs must be > 0 and at most ${MAX_RETENTION_MS} (7 days)`);
  }
  const now = options.now ?? Date.now;
  const limits = resolveLimits(options.limits);
  const batchSize = Math.max(1, Math.min(DELIVERY_BATCH, options.deliveryBatch ?? DELIVERY_BATCH));
  const maxInflight = Math.max(batchSize, options.maxInflight ?? batchSize * 2);
  const sink = options.log;
  const log = options.logger ?? (sink ? pino({ level: 'warn', base: undefined }, { write: (line: string) => sink(line.trimEnd()) }) : defaultLogger());
  const logIp = options.logIp ?? false;
  const purgeIntervalMs = options.purgeIntervalMs ?? Math.max(1000, Math.min(60_000, Math.floor(retentionMs / 4)));
  if (options.redis && !options.storage && !options.postgres) {
    throw new Error('a cluster (redis) needs storage every node shares: give postgres');
  }
  const openStorage = async (): Promise<RelayStorage> => {
    if (options.storage) return options.storage;
    if (options.postgres) return PostgresRelayStorage.open(options.postgres);
    if (options.dataDir) return new SqliteRelayStorage(options.dataDir, options.sqlite);
    throw new Error('startRelay needs dataDir (SQLite), postgres or storage');
  };

  await cryptoReady();
  const mode: RelayHandle['mode'] = options.storage ? 'custom' : options.postgres ? 'postgres' : 'sqlite';
  const ownsStorage = !options.storage;
  const storage = await openStorage();
  let cluster: ClusterLink | undefined;
  try {
    if (options.redis) cluster = await connectCluster(options.redis);
  } catch (e) {
    if (ownsStorage) await storage.close().catch(() => {});
    throw e;
  }
  const scrubIntervalMs = options.scrubIntervalMs ?? (mode === 'sqlite' ? purgeIntervalMs : 10 * 60_000);
  const sweepIntervalMs = options.sweepIntervalMs ?? 15_000;

  const ordered = storage.seqOrderedCommits === true;
  // Push fresh envelopes from the store's report only when no other relay writes to this storage
  // (no cluster): then every new row of a mailbox passes through this process, in seq order.
  const directPush = ordered && storage.reportsStoredEnvelopes === true && !cluster;
  const mailboxFullRetryMs = options.mailboxFullRetryMs ?? MAILBOX_FULL_RETRY_MS;
  const metrics = new RelayMetrics();
  /** Authenticated sockets per device on this node (a device may be connected more than once). */
  const online = new Map<string, Set<Conn>>();
  let closing = false;

  const addressBuckets = new TokenBuckets(limits.addressRate, now);
  const registrationBuckets = new TokenBuckets(limits.registrationRate, now);
  const deviceBuckets = new TokenBuckets(limits.deviceRate, now);
  const bundleBuckets = new TokenBuckets(limits.bundleRate, now);
  // relay.error pushes for events sent without an ack callback: bounded per socket so a flood cannot queue replies without end
  const errorPushBuckets = new TokenBuckets({ burst: 50, windowMs: 5000 }, now);

  /** The client's address: the TCP peer, or behind a trusted proxy the last X-Forwarded-For entry (the one the proxy added). */
  function clientAddress(handshake: Socket['handshake']): string {
    if (options.trustProxy) {
      const forwarded = handshake.headers['x-forwarded-for'];
      const value = Array.isArray(forwarded) ? forwarded.join(',') : forwarded;
      const last = value
        ?.split(',')
        .map((s) => s.trim())
        .filter(Boolean)
        .at(-1);
      if (last) return last;
    }
    return handshake.address;
  }

  // ------------------------------------------------------------ http: health and metrics

  let storageUp = true;
  let queuedCache: { at: number; value: number | undefined } | undefined;

  async function ready(): Promise<boolean> {
    try {
      await withTimeout(storage.ping(), 2000);
      if (cluster) await cluster.ping();
      storageUp = true;
    } catch {
      storageUp = false;
    }
    return storageUp;
  }

  async function queuedGauge(): Promise<number | undefined> {
    const t = Date.now();
    if (queuedCache && t - queuedCache.at < 5000) return queuedCache.value;
    let value: number | undefined;
    try {
      value = await withTimeout(storage.countAllPending(now()), 2000);
    } catch {
      value = undefined;
    }
    queuedCache = { at: t, value };
    return value;
  }

  const http = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    const get = req.method === 'GET' || req.method === 'HEAD';
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (get && path === '/healthz') return send(200, 'application/json', '{"ok":true}');
    if (get && path === '/readyz') {
      void ready().then((ok) => send(ok ? 200 : 503, 'application/json', ok ? '{"ok":true}' : '{"ok":false}'));
      return;
    }
    if (get && path === '/metrics') {
      void Promise.all([queuedGauge(), ready()]).then(([queued]) => {
        let authenticated = 0;
        for (const set of online.values()) authenticated += set.size;
        send(
          200,
          'text/plain; version=0.0.4; charset=utf-8',
          metrics.render({ connections: io.of('/').sockets.size, authenticated, queued, storageUp }),
        );
      });
      return;
    }
    send(404, 'text/plain', 'not found');
  });

  const io = new Server(http, {
    serveClient: false,
    maxHttpBufferSize: limits.maxMessageBytes,
    transports: options.transports ?? (cluster ? ['websocket'] : ['polling', 'websocket']),
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
          let rows: StoredEnvelope[];
          let fromStorage = false;
          let generation = 0;
          if (directPush && conn.caughtUp) {
            rows = liveRows(conn, room + 1);
          } else {
            fromStorage = true;
            generation = conn.liveGeneration;
            // With several writers (PostgreSQL) rows may commit out of seq order, so a read starts at the
            // oldest waiting envelope and skips those already pushed; one writer (SQLite) reads from a cursor.
            rows = ordered
              ? await storage.pendingEnvelopes(device, conn.cursor, now(), room + 1)
              : await storage.pendingEnvelopes(device, 0, now(), room + 1, [...conn.inflight.keys()]);
            if (conn.closed || closing) return;
          }
          const fresh = rows.filter((row) => !conn.inflight.has(row.id));
          if (fresh.length === 0) {
            if (fromStorage && rows.length <= room && generation === conn.liveGeneration) markCaughtUp(conn);
            conn.estimate = 0;
            if (conn.inflight.size === 0 && !conn.drainedSent) {
              conn.drainedSent = true;
              conn.socket.emit('mailbox.drained', {});
            }
            break;
          }
          const envelopes: DeliveredEnvelope[] = [];
          let chars = 0;
          for (const row of fresh) {
            if (envelopes.length >= room) break;
            if (envelopes.length > 0 && chars + row.body.length > BATCH_BODY_CHARS) break;
            chars += row.body.length;
            envelopes.push({ id: row.id, from: row.from, fromDeviceId: row.fromDeviceId, body: row.body, receivedAt: row.receivedAt });
            conn.inflight.set(row.id, row.seq);
            conn.cursor = Math.max(conn.cursor, row.seq);
          }
          const hasMore = fresh.length > envelopes.length;
          // The read found the end of the mailbox and all of it went out: what comes next is stored later, and reported.
          if (fromStorage && !hasMore && rows.length <= room && generation === conn.liveGeneration) markCaughtUp(conn);
          conn.estimate = hasMore ? Math.max(1, conn.estimate - envelopes.length) : 0;
          conn.drainedSent = false;
          const batch: EnvelopeBatch = { envelopes, remaining: conn.estimate };
          conn.socket.emit('envelopes', batch);
          if (!hasMore) break;
        }
      } while (conn.pumpAgain && !conn.closed && !closing);
    } catch (e) {
      if (!closing) {
        log.error({ err: (e as Error).message }, 'delivery failed');
        // the storage may be back in a moment (a PostgreSQL failover, a busy SQLite file): try again
        setTimeout(() => schedulePump(conn), 1000).unref();
      }
    } finally {
      conn.pumping = false;
    }
  }

  /** Up to `limit` envelopes of `live` past the cursor, oldest first; drops those pushed or expired. */
  function liveRows(conn: Conn, limit: number): StoredEnvelope[] {
    const at = now();
    let drop = 0;
    while (drop < conn.live.length) {
      const first = conn.live[drop] as LiveEnvelope;
      if (first.envelope.seq > conn.cursor && first.expiresAt > at) break;
      conn.liveChars -= first.envelope.body.length;
      drop++;
    }
    if (drop > 0) conn.live.splice(0, drop);
    const rows: StoredEnvelope[] = [];
    for (const entry of conn.live) {
      if (rows.length >= limit) break;
      if (entry.expiresAt > at) rows.push(entry.envelope);
    }
    return rows;
  }

  function markCaughtUp(conn: Conn): void {
    if (!directPush || conn.caughtUp) return;
    conn.caughtUp = true;
    liveRows(conn, 0); // forget what the read already covered
  }

  /** Forgets the in-memory queue: the pump reads storage until a read reaches the end of the mailbox again. */
  function dropLive(conn: Conn): void {
    conn.live = [];
    conn.liveChars = 0;
    conn.caughtUp = false;
    conn.liveGeneration++;
  }

  /** Direct push: hands envelopes just committed for `address` to its sockets on this node. */
  function offerLive(address: DeviceAddress, envelopes: readonly StoredEnvelope[], expiresAt: number): void {
    const conns = online.get(deviceKey(address));
    if (!conns) return;
    for (const conn of conns) {
      for (const envelope of envelopes) {
        const last = conn.live.at(-1);
        if (
          (last && last.envelope.seq >= envelope.seq) ||
          conn.live.length >= LIVE_MAX_ENVELOPES ||
          conn.liveChars + envelope.body.length > LIVE_MAX_CHARS
        ) {
          // out of order (cannot happen with one writer) or a recipient far behind: read storage instead
          dropLive(conn);
          break;
        }
        conn.live.push({ envelope, expiresAt });
        conn.liveChars += envelope.body.length;
      }
    }
  }

  /** The seqs `conn` pushed for those of `ids` it still has in flight. */
  function seqsOf(conn: Conn, ids: readonly string[]): Map<string, number> {
    const seqs = new Map<string, number>();
    for (const id of ids) {
      const seq = conn.inflight.get(id);
      if (seq !== undefined) seqs.set(id, seq);
    }
    return seqs;
  }

  /** Acked ids leave the window of every socket of the device; returns what `conn` had in flight of them. */
  function releaseAcked(conn: Conn, ids: readonly string[]): Map<string, number> {
    const released = seqsOf(conn, ids);
    for (const other of online.get(conn.deviceKey) ?? []) {
      for (const id of ids) other.inflight.delete(id);
      other.progressed = true;
      // another socket of this device acked: what it still holds in memory may be gone from storage
      if (other !== conn && other.live.length > 0) dropLive(other);
      schedulePump(other);
    }
    return released;
  }

  /**
   * An ack that failed in storage: those envelopes are still in the mailbox. Take them out of the
   * window and move the cursor back before them, so they are pushed again (the client acks again;
   * it deduplicates by id) instead of sitting in flight until the socket closes.
   */
  function redeliver(conn: Conn, pushed: ReadonlyMap<string, number>): void {
    if (pushed.size === 0 || conn.closed) return;
    let lowest = Number.POSITIVE_INFINITY;
    for (const [id, seq] of pushed) {
      conn.inflight.delete(id);
      lowest = Math.min(lowest, seq);
    }
    conn.cursor = Math.min(conn.cursor, lowest - 1);
    dropLive(conn);
    setTimeout(() => schedulePump(conn), ACK_RETRY_DELAY_MS).unref();
  }

  function notifyDevice(address: DeviceAddress, added: number): void {
    const conns = online.get(deviceKey(address));
    if (!conns) return;
    for (const conn of conns) {
      conn.estimate += added;
      schedulePump(conn);
    }
  }

  // Wakes are coalesced per event-loop turn: one cluster message for many stored batches.
  let pendingWakes = new Map<string, { u: string; d: number; n: number }>();
  let wakeScheduled = false;
  function wake(address: DeviceAddress, added: number): void {
    notifyDevice(address, added);
    if (!cluster) return;
    const key = deviceKey(address);
    const seen = pendingWakes.get(key);
    if (seen) seen.n += added;
    else pendingWakes.set(key, { u: address.username, d: address.deviceId, n: added });
    if (wakeScheduled) return;
    wakeScheduled = true;
    setImmediate(() => {
      wakeScheduled = false;
      const list = [...pendingWakes.values()];
      pendingWakes = new Map();
      if (list.length > 0 && !closing) io.serverSideEmit('refuge:wake', list);
    });
  }

  function kickDevices(devices: DeviceAddress[], reason: string): void {
    for (const device of devices) {
      for (const conn of online.get(deviceKey(device)) ?? []) {
        pushError(conn, errorBody('AUTH_FAILED', reason), 'account.delete', true);
        conn.socket.disconnect(true);
      }
    }
  }

  if (cluster) {
    io.on('refuge:wake', (payload: unknown) => {
      const parsed = DeviceListSchema.safeParse(payload);
      if (!parsed.success) return;
      for (const w of parsed.data) notifyDevice({ username: w.u, deviceId: w.d }, w.n ?? 1);
    });
    io.on('refuge:kick', (payload: unknown) => {
      const parsed = DeviceListSchema.safeParse(payload);
      if (!parsed.success) return;
      kickDevices(
        parsed.data.map((w) => ({ username: w.u, deviceId: w.d })),
        'this account was deleted',
      );
    });
  }

  /** Throws TOO_MANY_SOCKETS if the device has no room for another authenticated socket on this node. */
  function checkSocketRoom(device: DeviceAddress): void {
    const set = online.get(deviceKey(device));
    if (set && set.size >= limits.maxSocketsPerDevice) {
      throw new RelayError(
        'TOO_MANY_SOCKETS',
        `this device already has ${limits.maxSocketsPerDevice} connections; close one and try again`,
        5000,
      );
    }
  }

  function setAuthenticated(conn: Conn, device: DeviceAddress): void {
    checkSocketRoom(device); // again: another socket may have authenticated while this one awaited storage
    const key = deviceKey(device);
    conn.device = device;
    conn.deviceKey = key;
    const set = online.get(key);
    if (set) set.add(conn);
    else online.set(key, new Set([conn]));
  }

  function freshChallenge(challenge: Challenge | undefined): Challenge | undefined {
    if (!challenge) return undefined;
    const age = now() - challenge.issuedAt;
    return age >= 0 && age <= CHALLENGE_TTL_MS ? challenge : undefined;
  }

  function spend(buckets: TokenBuckets, key: string, cost: number, code: RelayErrorCode, what: string): void {
    const taken = buckets.take(key, cost);
    if (!taken.ok) throw new RelayError(code, `${what}; retry in ${Math.ceil(taken.retryAfterMs / 1000)} s`, taken.retryAfterMs);
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
      if (!conn.exempt) spend(registrationBuckets, conn.address, 1, 'REGISTRATION_RATE_LIMITED', 'too many registrations from this address');
      const username = canonicalUsername(req.username);
      if (!isValidUsername(username)) {
        throw new RelayError('INVALID_USERNAME', 'a username is 3-32 characters of a-z, 0-9, _ and .');
      }
      if (req.deviceId !== 1) throw new RelayError('INVALID_DEVICE', 'a new account registers device 1');
      if (!verifySignature(req.signature, authMessage(challenge.bytes, username, req.deviceId), req.keys.identityKey)) {
        throw new RelayError('AUTH_FAILED', 'signature does not verify');
      }
      const device = { username, deviceId: req.deviceId };
      checkSocketRoom(device); // before anything is written
      const result = await storage.createAccount(username, req.deviceId, req.keys, now());
      if (result.status === 'taken') throw new RelayError('USERNAME_TAKEN', `the username ${username} is taken`);
      if (conn.closed) throw new RelayError('AUTH_FAILED', 'socket closed');
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
      checkSocketRoom(device);
      setAuthenticated(conn, device);
      conn.estimate = await storage.countPending(device, now());
      schedulePump(conn);
      return device;
    },

    async 'prekeys.upload'(conn, req) {
      const device = conn.device as DeviceAddress;
      spend(deviceBuckets, conn.deviceKey, 1, 'DEVICE_RATE_LIMITED', 'this device is sending too fast');
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
      spend(deviceBuckets, conn.deviceKey, 1, 'DEVICE_RATE_LIMITED', 'this device is sending too fast');
      return storage.prekeyCounts(conn.device as DeviceAddress);
    },

    async 'bundle.fetch'(conn, req) {
      spend(bundleBuckets, conn.deviceKey, 1, 'BUNDLE_RATE_LIMITED', 'this device fetched too many prekey bundles');
      const username = canonicalUsername(req.username);
      const bundles = isValidUsername(username) ? await storage.takeBundles(username) : undefined;
      if (!bundles || bundles.length === 0) throw new RelayError('USER_NOT_FOUND', 'no such user');
      return { bundles };
    },

    async 'envelopes.send'(conn, req) {
      const from = conn.device as DeviceAddress;
      spend(deviceBuckets, conn.deviceKey, req.envelopes.length, 'DEVICE_RATE_LIMITED', 'this device is sending too fast');
      const receivedAt = now();
      const input = req.envelopes.map((e) => ({ id: e.id, to: canonicalUsername(e.to), toDeviceId: e.toDeviceId, body: e.body }));
      const fits = input.map((e) => e.body.length <= limits.maxEnvelopeBytes);
      const toStore = input.filter((_, i) => fits[i]);
      const { outcomes, recipients, storedEnvelopes: stored } =
        toStore.length > 0
          ? await storage.storeEnvelopes(from, toStore, receivedAt, receivedAt + retentionMs, {
              maxEnvelopes: limits.maxMailboxEnvelopes,
              maxBytes: limits.maxMailboxBytes,
            })
          : { outcomes: [], recipients: [], storedEnvelopes: [] };
      let k = 0;
      const results: EnvelopeSendResult[] = input.map((e, i) => {
        if (!fits[i]) {
          metrics.refused('ENVELOPE_TOO_LARGE');
          return { id: e.id, accepted: false, error: errorBody('ENVELOPE_TOO_LARGE', `an envelope body is at most ${limits.maxEnvelopeBytes} characters`) };
        }
        const outcome = outcomes[k++];
        if (outcome === 'unknown-recipient') {
          metrics.refused('UNKNOWN_RECIPIENT');
          return { id: e.id, accepted: false, error: errorBody('UNKNOWN_RECIPIENT', 'no such user or device') };
        }
        if (outcome === 'mailbox-full') {
          metrics.refused('MAILBOX_FULL');
          return { id: e.id, accepted: false, error: errorBody('MAILBOX_FULL', "the recipient device's mailbox is full", mailboxFullRetryMs) };
        }
        return { id: e.id, accepted: true };
      });
      if (directPush && stored) {
        // before the wakes, which schedule the pumps that send from `live`
        const byDevice = new Map<string, { address: DeviceAddress; envelopes: StoredEnvelope[] }>();
        for (const e of stored) {
          const key = deviceKey({ username: e.to, deviceId: e.toDeviceId });
          if (!online.has(key)) continue;
          const group = byDevice.get(key);
          if (group) group.envelopes.push(e);
          else byDevice.set(key, { address: { username: e.to, deviceId: e.toDeviceId }, envelopes: [e] });
        }
        for (const { address, envelopes } of byDevice.values()) offerLive(address, envelopes, receivedAt + retentionMs);
      }
      for (const recipient of recipients) {
        metrics.envelopesAccepted += recipient.stored;
        wake(recipient, recipient.stored);
      }
      return { results };
    },

    async 'envelopes.ack'(conn, req) {
      const device = conn.device as DeviceAddress;
      // Reading from a cursor, the pump never reads these again, so the window may move on before
      // the delete commits; if the delete fails they are pushed again (redeliver).
      const early = ordered ? releaseAcked(conn, req.ids) : undefined;
      let deleted: number;
      try {
        deleted = await storage.ackEnvelopes(device, req.ids);
      } catch (e) {
        if (early) redeliver(conn, early);
        else redeliver(conn, seqsOf(conn, req.ids));
        throw e;
      }
      metrics.envelopesDelivered += deleted;
      if (!early) releaseAcked(conn, req.ids);
      return { deleted };
    },

    async 'account.delete'(conn, req) {
      const device = conn.device as DeviceAddress;
      spend(deviceBuckets, conn.deviceKey, 1, 'DEVICE_RATE_LIMITED', 'this device is sending too fast');
      if (canonicalUsername(req.username) !== device.username) {
        throw new RelayError('BAD_REQUEST', "username: must be this device's own account name");
      }
      const devices = (await storage.deleteAccount(device.username)) ?? [];
      // after the reply has gone out: every socket of the account, on every node, is closed
      setImmediate(() => {
        kickDevices(devices, 'this account was deleted');
        if (cluster && !closing) io.serverSideEmit('refuge:kick', devices.map((d) => ({ u: d.username, d: d.deviceId })));
      });
      return { deleted: true as const };
    },
  };

  function pushError(conn: Conn, error: ErrorBody, event: string, force = false): void {
    if (!force && !errorPushBuckets.take(conn.socket.id).ok) return;
    const payload: RelayErrorEvent = { ...error, event: event.slice(0, 64) };
    conn.socket.emit('relay.error', payload);
  }

  function bind<E extends ClientEventName>(conn: Conn, name: E): void {
    const spec = clientEvents[name];
    const handler = handlers[name] as Handler<E>;
    const consumesChallenge = name === 'auth' || name === 'register';
    conn.socket.on(name as string, (...args: unknown[]) => {
      const ack = typeof args[args.length - 1] === 'function' ? (args.pop() as (reply: unknown) => void) : undefined;
      const fail = (error: ErrorReply) => {
        metrics.refused(error.error.code);
        if (!ack) return pushError(conn, error.error, name);
        try {
          ack(error);
        } catch {
          // a broken ack must not take the relay down
        }
      };
      const succeed = (value: unknown) => {
        if (!ack) return;
        try {
          ack(value);
        } catch {
          // as above
        }
      };
      try {
        // auth/register consume the socket's challenge on arrival, whatever happens next
        const challenge = consumesChallenge ? freshChallenge(conn.challenge) : undefined;
        if (consumesChallenge) conn.challenge = undefined;
        if (!conn.exempt) {
          const taken = addressBuckets.take(conn.address);
          if (!taken.ok) {
            if (logIp) log.info({ ip: conn.address, event: name }, 'address rate limited');
            return fail(errorReply('ADDRESS_RATE_LIMITED', 'too many requests from this address', taken.retryAfterMs));
          }
        }
        if (spec.auth && !conn.device) return fail(errorReply('NOT_AUTHENTICATED', 'authenticate first'));
        const parsed = spec.request.safeParse(args[0] ?? {});
        if (!parsed.success) return fail(errorReply('BAD_REQUEST', describeZodError(parsed.error)));
        handler(conn, parsed.data as ParsedEventRequest<E>, challenge).then(
          (result) => succeed({ ok: true, ...result }),
          (e: unknown) => {
            if (e instanceof RelayError) {
              if (logIp && e.code.endsWith('_RATE_LIMITED')) log.info({ ip: conn.address, code: e.code }, 'refused');
              return fail(errorReply(e.code, e.message, e.retryAfterMs));
            }
            if (!closing) log.error({ event: name, err: (e as Error)?.message ?? String(e) }, 'request failed');
            fail(errorReply('INTERNAL', 'internal error'));
          },
        );
      } catch (e) {
        log.error({ event: name, err: (e as Error)?.message ?? String(e) }, 'request failed');
        fail(errorReply('INTERNAL', 'internal error'));
      }
    });
  }

  // A connection costs one token of its address's bucket; a refused one gets a typed connect_error.
  io.use((socket, next) => {
    const address = clientAddress(socket.handshake);
    const exempt = limits.exemptLoopback && isLoopback(address);
    const key = addressKey(address);
    socket.data.address = key;
    socket.data.exempt = exempt;
    if (exempt) return next();
    const taken = addressBuckets.take(key);
    if (taken.ok) return next();
    metrics.refused('ADDRESS_RATE_LIMITED');
    if (logIp) log.info({ ip: address }, 'connection refused: address rate limited');
    const error = new Error('too many connections from this address') as Error & { data?: ErrorBody };
    error.data = errorBody('ADDRESS_RATE_LIMITED', 'too many connections from this address', taken.retryAfterMs);
    next(error);
  });

  io.on('connection', (socket) => {
    const conn: Conn = {
      socket,
      address: String(socket.data.address ?? ''),
      exempt: socket.data.exempt === true,
      challenge: undefined,
      device: undefined,
      deviceKey: '',
      cursor: 0,
      inflight: new Map(),
      live: [],
      liveChars: 0,
      caughtUp: false,
      liveGeneration: 0,
      progressed: false,
      pumping: false,
      pumpAgain: false,
      pumpScheduled: false,
      drainedSent: false,
      estimate: 0,
      closed: false,
    };
    if (logIp) log.debug({ ip: conn.address }, 'connection');
    for (const name of Object.keys(clientEvents) as ClientEventName[]) bind(conn, name);
    socket.onAny((event: unknown, ...args: unknown[]) => {
      if (isClientEvent(event)) return;
      const taken = conn.exempt ? { ok: true as const } : addressBuckets.take(conn.address);
      const error = taken.ok
        ? errorReply('UNKNOWN_EVENT', `unknown event ${String(event).slice(0, 64)}`)
        : errorReply('ADDRESS_RATE_LIMITED', 'too many requests from this address', taken.retryAfterMs);
      metrics.refused(error.error.code);
      const ack = args[args.length - 1];
      if (typeof ack === 'function') {
        try {
          ack(error);
        } catch {
          // ignore
        }
      } else {
        pushError(conn, error.error, typeof event === 'string' ? event : 'unknown');
      }
    });
    socket.on('disconnect', () => {
      conn.closed = true;
      conn.challenge = undefined;
      conn.inflight.clear();
      conn.live = [];
      conn.liveChars = 0;
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

  // ------------------------------------------------------------ retention, scrub, sweep

  const purgeExpired = async () => {
    const purged = await storage.purgeExpired(now());
    metrics.envelopesExpired += purged;
    if (purged > 0) log.info({ purged }, 'expired envelopes deleted');
    return purged;
  };
  const scrub = async () => {
    const done = await storage.scrub();
    if (done) log.debug('storage scrubbed');
    else log.info('storage scrub skipped this round (table busy or above the full-rewrite size)');
    return done;
  };
  const timers: Array<ReturnType<typeof setInterval>> = [];
  const every = (ms: number, task: () => Promise<unknown>, what: string) => {
    if (!(ms > 0)) return;
    let running = false;
    const timer = setInterval(() => {
      if (running || closing) return;
      running = true;
      task()
        .catch((e: unknown) => {
          if (!closing) log.error({ err: (e as Error)?.message ?? String(e) }, `${what} failed`);
        })
        .finally(() => (running = false));
    }, ms);
    timer.unref();
    timers.push(timer);
  };
  every(purgeIntervalMs, purgeExpired, 'purge');
  every(scrubIntervalMs, scrub, 'scrub');
  every(
    60_000,
    async () => {
      for (const b of [addressBuckets, registrationBuckets, deviceBuckets, bundleBuckets, errorPushBuckets]) b.sweep();
    },
    'bucket sweep',
  );
  if (cluster || !ordered) {
    // A wake lost between nodes, or an ack that went through another node (whose ids this socket
    // still counts as in flight), would stall a socket: re-check idle and stuck sockets now and then.
    every(
      sweepIntervalMs,
      async () => {
        for (const set of online.values()) {
          for (const conn of set) {
            if (conn.inflight.size > 0 && !conn.progressed && conn.device) {
              const checked = [...conn.inflight.keys()];
              const still = new Set(await storage.existingEnvelopes(conn.device, checked));
              // only ids that were checked: more may have been pushed while the query ran
              for (const id of checked) if (!still.has(id)) conn.inflight.delete(id);
            }
            conn.progressed = false;
            schedulePump(conn);
          }
        }
      },
      'sweep',
    );
  }

  // ------------------------------------------------------------ listen

  try {
    if (cluster) await cluster.attach(io);
    await purgeExpired();
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(options.port ?? 0, host, () => {
        http.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    closing = true;
    for (const timer of timers) clearInterval(timer);
    await io.close().catch(() => {});
    await cluster?.close();
    if (ownsStorage) await storage.close().catch(() => {});
    throw e;
  }
  const host = options.host ?? '127.0.0.1';
  const port = (http.address() as AddressInfo).port;
  const urlHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;

  let closed: Promise<void> | undefined;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    mode,
    clustered: cluster !== undefined,
    storage,
    purgeExpired,
    scrub,
    connections: () => io.of('/').sockets.size,
    close() {
      closed ??= (async () => {
        closing = true;
        for (const timer of timers) clearInterval(timer);
        const done = io.close();
        http.closeAllConnections();
        await done;
        await cluster?.close();
        if (ownsStorage) await storage.close();
      })();
      return closed;
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
