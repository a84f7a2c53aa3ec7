// Test support for the presence and verify tests (not imported by production code): real Cores
// on real encrypted profiles, connected by handing one core's outbox envelopes straight to the
// other core's envelopes.receive -- the relay's job, minus the network.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createApi, type RefugeApi } from '../../../shared/ipc/api.js';
import type { EnvelopeResult, Registration } from '../../../shared/ipc/contract.js';
import type { PrekeyBundle } from '../../../shared/protocol/keys.js';
import { ARGON2ID_PRESETS, PassphraseKeyProtector } from '../vault/index.js';
import { Core } from './core.js';

const SERVER = 'http://127.0.0.1:9';
const PASSPHRASE = 'test passphrase';

/** A settable clock shared by every peer of a test. */
export class Clock {
  constructor(public t = Date.UTC(2026, 0, 1, 12)) {}
  readonly now = (): number => this.t;
  advance(ms: number): void {
    this.t += ms;
  }
}

export interface Peer {
  username: string;
  core: Core;
  api: RefugeApi;
  registration: Registration;
  /** the next of our own one-time prekeys to hand out in a bundle */
  nextBundle: number;
  dir: string;
}

const dirs: string[] = [];

export async function newPeer(username: string, clock: Clock): Promise<Peer> {
  const dir = mkdtempSync(join(tmpdir(), `refuge-social-${username}-`));
  dirs.push(dir);
  const core = await Core.open({
    profileDir: dir,
    defaultServerUrl: SERVER,
    passphraseRequired: true,
    protector: (passphrase) => new PassphraseKeyProtector(passphrase ?? PASSPHRASE, { params: ARGON2ID_PRESETS.min }),
    now: clock.now,
  });
  const api = createApi((channel, request) => core.handle(channel, request));
  const registration = await api.account.create({ username, serverUrl: SERVER, passphrase: PASSPHRASE });
  await api.account.markRegistered({});
  return { username, core, api, registration, nextBundle: 0, dir };
}

/** What the relay would hand out for `peer` (a fresh one-time prekey each time). */
export function bundleOf(peer: Peer): PrekeyBundle {
  const { keys, username, deviceId } = peer.registration;
  const i = peer.nextBundle++;
  const oneTime = keys.oneTimePrekeys[i];
  const kyber = keys.kyberOneTimePrekeys[i];
  if (!oneTime || !kyber) throw new Error('test peer ran out of one-time prekeys');
  return {
    username,
    deviceId,
    identityKey: keys.identityKey,
    signedPrekey: keys.signedPrekey,
    kyberPrekey: { ...kyber, lastResort: false },
    oneTimePrekey: oneTime,
  };
}

/** `a` adds `b` (as after a relay lookup); returns a's conversation id with b. */
export async function addContact(a: Peer, b: Peer): Promise<string> {
  return (await a.api.contacts.add({ bundles: [bundleOf(b)] })).conversationId;
}

/**
 * Hands every queued envelope of `from` addressed to `to` to `to`'s core, and marks them sent on
 * `from`. Returns `to`'s results (one per envelope).
 */
export async function deliver(from: Peer, to: Peer, clock: Clock): Promise<EnvelopeResult[]> {
  const { envelopes } = await from.api.outbox.pending({ limit: 1000 });
  const mine = envelopes.filter((e) => e.to === to.username);
  if (mine.length === 0) return [];
  const { results } = await to.api.envelopes.receive({
    envelopes: mine.map((e) => ({ id: e.id, from: from.username, fromDeviceId: from.registration.deviceId, body: e.body, receivedAt: clock.now() })),
  });
  await from.api.outbox.markSent({ ids: mine.map((e) => e.id) });
  return results;
}

/** Drops whatever `peer` has queued (as if the relay lost it), returning how many envelopes. */
export async function discardOutbox(peer: Peer): Promise<number> {
  const { envelopes } = await peer.api.outbox.pending({ limit: 1000 });
  if (envelopes.length > 0) await peer.api.outbox.markSent({ ids: envelopes.map((e) => e.id) });
  return envelopes.length;
}

export async function pendingCount(peer: Peer): Promise<number> {
  return (await peer.api.outbox.pending({ limit: 1000 })).envelopes.length;
}

export function closeAll(peers: Peer[]): void {
  for (const p of peers) p.core.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

