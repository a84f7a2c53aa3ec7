// Test helpers for the relay and the sync client: a relay on a free port in a temp folder, and
// devices whose keys are made with libsodium directly (no dependency on main/core/crypto).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sodium from 'libsodium-wrappers-sumo';
import { io, type Socket } from 'socket.io-client';
import { fromBase64url, toBase64url } from '../shared/encoding/base64url.js';
import { authMessage } from '../shared/protocol/auth.js';
import type { OutgoingEnvelope } from '../shared/protocol/envelope.js';
import type { EnvelopeBatch } from '../shared/protocol/events.js';
import { KEY_SIZES, type DeviceKeysUpload } from '../shared/protocol/keys.js';
import { canonicalUsername } from '../shared/protocol/username.js';
import { RelayClient } from '../shared/sync/client.js';
import { type RelayHandle, type RelayOptions, startRelay } from './relay.js';

export interface TestRelay extends RelayHandle {
  dataDir: string;
  /** Closes the relay and deletes its folder. */
  dispose(): Promise<void>;
}

export async function startTestRelay(options: Partial<RelayOptions> = {}): Promise<TestRelay> {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'refuge-relay-'));
  const relay = await startRelay({ log: () => {}, ...options, dataDir });
  return {
    ...relay,
    dataDir,
    async dispose() {
      await relay.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let keyCounter = 1;
const random = (n: number) => toBase64url(sodium.randombytes_buf(n));

export interface TestDevice {
  username: string;
  deviceId: number;
  keys: DeviceKeysUpload;
  secretKey: Uint8Array;
  /** Signs a base64url challenge the way a device does. */
  sign(challenge: string, username?: string, deviceId?: number): string;
  /** Fresh one-time prekeys (and the same identity) for prekeys.upload. */
  moreKeys(oneTime: number, kyberOneTime: number): DeviceKeysUpload;
}

function oneTime(n: number) {
  return Array.from({ length: n }, () => ({ id: keyCounter++, publicKey: random(KEY_SIZES.x25519Public) }));
}
function kyberOneTime(n: number) {
  return Array.from({ length: n }, () => ({
    id: keyCounter++,
    publicKey: random(KEY_SIZES.mlkem768Public),
    signature: random(KEY_SIZES.signature),
  }));
}

export async function makeDevice(username: string, prekeys = { oneTime: 5, kyberOneTime: 5 }): Promise<TestDevice> {
  await sodium.ready;
  const pair = sodium.crypto_sign_keypair();
  const identityKey = toBase64url(pair.publicKey);
  const base = () => ({
    identityKey,
    signedPrekey: { id: keyCounter++, publicKey: random(KEY_SIZES.x25519Public), signature: random(KEY_SIZES.signature) },
    kyberLastResort: { id: keyCounter++, publicKey: random(KEY_SIZES.mlkem768Public), signature: random(KEY_SIZES.signature) },
  });
  const device: TestDevice = {
    username,
    deviceId: 1,
    keys: { ...base(), oneTimePrekeys: oneTime(prekeys.oneTime), kyberOneTimePrekeys: kyberOneTime(prekeys.kyberOneTime) },
    secretKey: pair.privateKey,
    sign(challenge, name = username, deviceId = 1) {
      const message = authMessage(fromBase64url(challenge), canonicalUsername(name), deviceId);
      return toBase64url(sodium.crypto_sign_detached(message, pair.privateKey));
    },
    moreKeys(n, k) {
      return { ...base(), oneTimePrekeys: oneTime(n), kyberOneTimePrekeys: kyberOneTime(k) };
    },
  };
  return device;
}

export async function connectClient(url: string): Promise<RelayClient> {
  const client = new RelayClient(url, { timeoutMs: 5000, connectTimeoutMs: 5000 });
  await client.connect();
  return client;
}

/** A connected client that registered `device` (and is therefore authenticated). */
export async function registerDevice(url: string, device: TestDevice): Promise<RelayClient> {
  const client = await connectClient(url);
  const { challenge } = await client.hello();
  await client.register({ username: device.username, deviceId: device.deviceId, keys: device.keys, signature: device.sign(challenge) });
  return client;
}

/** A connected client authenticated as `device`; listen() is attached before auth so no push is missed. */
export async function authDevice(url: string, device: TestDevice): Promise<{ client: RelayClient; inbox: Inbox }> {
  const client = await connectClient(url);
  const inbox = listen(client);
  const { challenge } = await client.hello();
  await client.auth({ username: device.username, deviceId: device.deviceId, signature: device.sign(challenge) });
  return { client, inbox };
}

/** Collects pushed batches and drained signals, and lets a test await them. */
export interface Inbox {
  batches: EnvelopeBatch[];
  /** every envelope id received so far, in order */
  ids(): string[];
  nextBatch(): Promise<EnvelopeBatch>;
  /** resolves at the next mailbox.drained (or immediately if one arrived and was not awaited yet) */
  drained(): Promise<void>;
}

export function listen(client: RelayClient): Inbox {
  const batches: EnvelopeBatch[] = [];
  const batchWaiters: Array<(b: EnvelopeBatch) => void> = [];
  const unclaimed: EnvelopeBatch[] = [];
  let drainedCount = 0;
  const drainWaiters: Array<() => void> = [];
  client.onEnvelopes((batch) => {
    batches.push(batch);
    const waiter = batchWaiters.shift();
    if (waiter) waiter(batch);
    else unclaimed.push(batch);
  });
  client.onDrained(() => {
    const waiter = drainWaiters.shift();
    if (waiter) waiter();
    else drainedCount++;
  });
  return {
    batches,
    ids: () => batches.flatMap((b) => b.envelopes.map((e) => e.id)),
    nextBatch() {
      const ready = unclaimed.shift();
      if (ready) return Promise.resolve(ready);
      return new Promise((resolve) => batchWaiters.push(resolve));
    },
    drained() {
      if (drainedCount > 0) {
        drainedCount--;
        return Promise.resolve();
      }
      return new Promise((resolve) => drainWaiters.push(resolve));
    },
  };
}

export function envelope(to: string, body = 'Y2lwaGVydGV4dA', toDeviceId = 1): OutgoingEnvelope {
  return { id: crypto.randomUUID(), to, toDeviceId, body };
}

/** A bare socket.io client for sending malformed input. */
export async function rawSocket(url: string): Promise<Socket> {
  const socket = io(url, { transports: ['websocket'], reconnection: false, forceNew: true });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/** A relay reply as a raw socket sees it: tests probe its fields (ok, error, challenge, ...). */
export interface RawReply {
  ok?: boolean;
  error?: { code: string; message: string };
  // any: success replies differ per event; tests read the field their event defines.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  [field: string]: any;
}

/** emit with an ack, resolving with the reply. */
export function emitAck(socket: Socket, event: string, ...args: unknown[]): Promise<RawReply> {
  return socket.timeout(5000).emitWithAck(event, ...args) as Promise<RawReply>;
}
