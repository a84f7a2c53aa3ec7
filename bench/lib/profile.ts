// Profiles and peers for the scenarios. Profiles are real: Core.open on a folder, the vault,
// the encrypted store on disk; only the Argon2id cost is the test minimum, because the KDF is
// not what any scenario measures. Peers that only need to *send* are SimPeers: the same crypto
// library as the core, without a store, so setting up thousands of envelopes takes seconds.
import { createApi, type RefugeApi } from '../../shared/ipc/api.js';
import type { Registration } from '../../shared/ipc/contract.js';
import { fromBase64url, toBase64url } from '../../shared/encoding/base64url.js';
import { authMessage } from '../../shared/protocol/auth.js';
import type { DeliveredEnvelope, OutgoingEnvelope } from '../../shared/protocol/envelope.js';
import type { PrekeyBundle } from '../../shared/protocol/keys.js';
import { RelayClient } from '../../shared/sync/client.js';
import { registerAccount } from '../../shared/sync/flows.js';
import {
  buildKeysUpload,
  decryptMessage,
  encryptMessage,
  generateIdentityKeyPair,
  generateKyberPrekeys,
  generateOneTimePrekeys,
  generateSignedPrekey,
  initCrypto,
  initiateSession,
  signWithIdentity,
  type IdentityKeyPair,
  type SessionState,
} from '../../main/core/crypto/index.js';
import { Core } from '../../main/core/service/core.js';
import { decodePayload, encodePayload, type Payload } from '../../main/core/service/payload.js';
import { ARGON2ID_PRESETS, PassphraseKeyProtector, unlockVault } from '../../main/core/vault/index.js';
import { openStore, type Store } from '../../main/core/store/index.js';

export const PASSPHRASE = 'bench passphrase';
/** Where a profile points when no relay runs (store-only scenarios). */
export const NO_RELAY = 'http://127.0.0.1:9';

function protector(passphrase: string | undefined) {
  return new PassphraseKeyProtector(passphrase ?? PASSPHRASE, { params: ARGON2ID_PRESETS.min });
}

export interface Profile {
  dir: string;
  core: Core;
  api: RefugeApi;
}

/** Core.open on `dir` (nothing unlocked yet). */
export async function openCore(dir: string, serverUrl = NO_RELAY): Promise<Profile> {
  const core = await Core.open({ profileDir: dir, defaultServerUrl: serverUrl, passphraseRequired: true, protector });
  const api = createApi((channel, request) => core.handle(channel, request));
  return { dir, core, api };
}

/** Core.open + vault.unlock: what launching the app does before sync starts. */
export async function unlockProfile(dir: string): Promise<Profile> {
  const profile = await openCore(dir);
  await profile.api.vault.unlock({ passphrase: PASSPHRASE });
  return profile;
}

/**
 * A new registered profile. With `relayUrl` it registers with that relay (the real flow);
 * without, it only marks itself registered (for scenarios that never talk to a relay).
 */
export async function createProfile(dir: string, username: string, relayUrl?: string): Promise<Profile & { registration: Registration }> {
  const profile = await openCore(dir, relayUrl ?? NO_RELAY);
  const registration = await profile.api.account.create({ username, serverUrl: relayUrl ?? NO_RELAY, passphrase: PASSPHRASE });
  if (relayUrl) await registerAccount(profile.api, relayUrl, registration);
  else await profile.api.account.markRegistered({});
  return { ...profile, registration };
}

/** The database key of a profile (for baselines that read its file directly); wipe it after use. */
export function profileKey(dir: string): Promise<Uint8Array> {
  return unlockVault(dir, protector(PASSPHRASE));
}

/** The store of a closed profile, opened directly (for writing big fixtures fast). */
export async function openProfileStore(dir: string): Promise<Store> {
  const key = await profileKey(dir);
  try {
    return openStore(dir, key);
  } finally {
    key.fill(0);
  }
}

/**
 * The prekey bundle a relay would hand out for a registration, using one-time prekeys number
 * `index` (each sender must use a different index, as the relay would give each its own).
 */
export function bundleFromRegistration(registration: Registration, index: number): PrekeyBundle {
  const { keys } = registration;
  const oneTime = keys.oneTimePrekeys[index];
  const kyber = keys.kyberOneTimePrekeys[index];
  return {
    username: registration.username,
    deviceId: registration.deviceId,
    identityKey: keys.identityKey,
    signedPrekey: keys.signedPrekey,
    kyberPrekey: kyber ? { ...kyber, lastResort: false } : { ...keys.kyberLastResort, lastResort: true },
    ...(oneTime ? { oneTimePrekey: oneTime } : {}),
  };
}

let textSeed = 1;
const WORDS = 'the a message relay tonight meet coffee tomorrow sure okay thanks photo later call back home train late good idea yes no maybe 여기 안녕하세요 메시지를 봤어요'.split(' ');
/** Deterministic chat-like text of about `length` characters. */
export function chatText(length = 60): string {
  let out = '';
  while (out.length < length) {
    textSeed = (textSeed * 1103515245 + 12345) & 0x7fffffff;
    out += (out ? ' ' : '') + WORDS[textSeed % WORDS.length];
  }
  return out.slice(0, length);
}

/**
 * A device that sends with the real crypto library but keeps its state in memory. It can
 * register with a relay (for scenarios where the relay must know the sender).
 */
export class SimPeer {
  readonly identity: IdentityKeyPair;
  readonly #sessions = new Map<string, SessionState>();
  #clock = Date.now();

  private constructor(readonly username: string) {
    this.identity = generateIdentityKeyPair();
  }

  static async create(username: string): Promise<SimPeer> {
    await initCrypto();
    return new SimPeer(username);
  }

  /** Registers with the relay; returns the authenticated client (close it when done). */
  async register(relayUrl: string): Promise<RelayClient> {
    const now = Date.now();
    const signed = generateSignedPrekey(this.identity, 1, now);
    const [lastResort] = generateKyberPrekeys(this.identity, 2, 1, true);
    if (!lastResort) throw new Error('no last-resort key');
    const keys = buildKeysUpload(this.identity, signed, lastResort, generateOneTimePrekeys(3, 2), generateKyberPrekeys(this.identity, 5, 2, false));
    const client = new RelayClient(relayUrl, { transports: ['websocket'] });
    await client.connect();
    const { challenge } = await client.hello();
    await client.register({ username: this.username, deviceId: 1, keys, signature: this.sign(challenge) });
    return client;
  }

  /** A connected client authenticated as this peer. */
  async connect(relayUrl: string): Promise<RelayClient> {
    const client = new RelayClient(relayUrl, { transports: ['websocket'] });
    await client.connect();
    const { challenge } = await client.hello();
    await client.auth({ username: this.username, deviceId: 1, signature: this.sign(challenge) });
    return client;
  }

  sign(challenge: string): string {
    return toBase64url(signWithIdentity(this.identity, authMessage(fromBase64url(challenge), this.username, 1)));
  }

  startSession(bundle: PrekeyBundle): void {
    this.#sessions.set(bundle.username, initiateSession(this.identity, bundle, Date.now()));
  }

  /** Encrypts a text message to `to` (device 1), as the core's messages.send would. */
  envelope(to: string, text: string): OutgoingEnvelope {
    const session = this.#sessions.get(to);
    if (!session) throw new Error(`${this.username} has no session with ${to}`);
    const sentAt = ++this.#clock;
    const id = crypto.randomUUID();
    const { session: next, ciphertext } = encryptMessage(session, encodePayload({ v: 1, type: 'text', id, text, sentAt }), sentAt);
    this.#sessions.set(to, next);
    return { id: crypto.randomUUID(), to, toDeviceId: 1, body: toBase64url(ciphertext) };
  }

  /** The same, as the relay would deliver it. */
  delivered(to: string, text: string): DeliveredEnvelope {
    const e = this.envelope(to, text);
    return { id: e.id, from: this.username, fromDeviceId: 1, body: e.body, receivedAt: Date.now() };
  }

  /** Decrypts an envelope from `from` (a receipt, usually), advancing the session. */
  open(from: string, body: string): Payload {
    const session = this.#sessions.get(from);
    if (!session) throw new Error(`${this.username} has no session with ${from}`);
    const { session: next, plaintext } = decryptMessage(session, fromBase64url(body), Date.now());
    this.#sessions.set(from, next);
    return decodePayload(plaintext);
  }
}

/**
 * Connects as each peer, reads everything waiting in its mailbox (the receipts the profile sent
 * back, which moves each peer's session off prekey messages), acks it, and disconnects.
 */
export async function collectReplies(relayUrl: string, peers: SimPeer[], from: string): Promise<number> {
  let total = 0;
  for (const peer of peers) {
    const client = new RelayClient(relayUrl, { transports: ['websocket'] });
    try {
      await client.connect();
      const drained = new Promise<void>((resolve) => client.onDrained(resolve));
      const acks: Promise<number>[] = [];
      client.onEnvelopes((batch) => {
        for (const e of batch.envelopes) if (e.from === from) peer.open(from, e.body);
        total += batch.envelopes.length;
        acks.push(client.ack(batch.envelopes.map((e) => e.id)));
      });
      const { challenge } = await client.hello();
      await client.auth({ username: peer.username, deviceId: 1, signature: peer.sign(challenge) });
      await drained;
      await Promise.all(acks);
    } finally {
      client.close();
    }
  }
  return total;
}

/** Sessions from `peers` to the profile, past their prekey phase (each got a receipt back). */
export async function establishPeers(profile: Profile, registration: Registration, count: number, prefix = 'peer'): Promise<SimPeer[]> {
  const peers: SimPeer[] = [];
  for (let i = 0; i < count; i++) {
    const peer = await SimPeer.create(`${prefix}${i}`);
    peer.startSession(bundleFromRegistration(registration, i));
    peers.push(peer);
  }
  const hello = peers.map((p) => p.delivered(registration.username, 'hello'));
  await profile.api.envelopes.receive({ envelopes: hello });
  // The core answered each with a delivery receipt: reading it moves the peer off prekey messages.
  const pending = await profile.api.outbox.pending({ limit: 1000 });
  for (const e of pending.envelopes) peers.find((p) => p.username === e.to)?.open(registration.username, e.body);
  await profile.api.outbox.markSent({ ids: pending.envelopes.map((e) => e.id) });
  return peers;
}

/** `total` envelopes, round-robin over the peers (as a mailbox holding several chats delivers them). */
export function envelopesFrom(peers: SimPeer[], to: string, total: number): DeliveredEnvelope[] {
  const out: DeliveredEnvelope[] = [];
  for (let i = 0; i < total; i++) {
    const peer = peers[i % peers.length] as SimPeer;
    out.push(peer.delivered(to, chatText(20 + ((i * 37) % 180))));
  }
  return out;
}
