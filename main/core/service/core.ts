// The core: implements every channel of shared/ipc on top of crypto, store and vault.
// One instance per profile folder. Runs in plain Node (Electron main, web host, CLI).
import { randomUUID } from 'node:crypto';
import {
  contract,
  RefugeError,
  type AppStatus,
  type Channel,
  type CoreChannel,
  type ConversationSummary,
  type EnvelopeResult,
  type Message,
  type ParsedRequestOf,
  type Registration,
  type ResponseOf,
} from '../../../shared/ipc/contract.js';
import { Base64Error, fromBase64url, toBase64url } from '../../../shared/encoding/base64url.js';
import { authMessage } from '../../../shared/protocol/auth.js';
import type { DeliveredEnvelope, OutgoingEnvelope } from '../../../shared/protocol/envelope.js';
import { canonicalUsername, isValidUsername } from '../../../shared/protocol/username.js';
import {
  acceptPrekeyMessage,
  buildKeysUpload,
  CryptoError,
  decryptMessage,
  deserializeIdentity,
  deserializeKyberPrekey,
  deserializeOneTimePrekey,
  deserializeSession,
  deserializeSignedPrekey,
  encryptMessage,
  generateIdentityKeyPair,
  generateKyberPrekeys,
  generateOneTimePrekeys,
  generateSignedPrekey,
  initCrypto,
  initiateSession,
  messageKind,
  prekeyMessageInfo,
  safetyNumber,
  serializeIdentity,
  serializeKyberPrekey,
  serializeOneTimePrekey,
  serializeSession,
  serializeSignedPrekey,
  sessionInfo,
  signWithIdentity,
  verifyBundle,
  type IdentityKeyPair,
  type ResponderKeys,
  type SessionState,
} from '../crypto/index.js';
import { openStore, type MessageRow, type Store } from '../store/index.js';
import { createVault, unlockVault, vaultExists, type KeyProtector } from '../vault/index.js';
import { decodePayload, encodePayload, PayloadError, type Payload } from './payload.js';
import { toRefugeError } from './errors.js';
import type { AreaHandlers, CoreContext, Handler } from './context.js';
import { searchHandlers } from './search.js';
import { lockHandlers, needsPassphrase, PassphraseAttempts } from './lock.js';
import { settingsHandlers } from './settings.js';
import { backupHandlers } from './backup.js';
import { markConversationRead, onIncomingText, presenceHandlers, PresenceState, receiveControl, replyTarget, withReadBy, withReplies } from './presence.js';
import { assertSendable, contactView, recordIdentityFromBundles, toContactView, verifyHandlers } from './verify.js';
import { changedIdentities, getPendingSession, mutedConversations, pendingIdentityKey, recordPendingIdentity, setReplyTo } from '../store/social.js';
import { appShellHandlers } from './app-shell.js';
import { forgetKeysSentTo } from '../store/groups.js';
import { conversationKind, groupsHandlers, isGroupPayload, receiveGroupPayload, sendGroupText, withGroupEvents, type GroupEnv } from './groups.js';
import { toMessage } from './views.js';

export const ONE_TIME_PREKEY_BATCH = 100;
/** The relay keeps an undelivered envelope at most 7 days (its hard cap), so it cannot redeliver one later than that. */
const PROCESSED_ENVELOPE_TTL_MS = 8 * 24 * 60 * 60 * 1000;
export const KYBER_ONE_TIME_BATCH = 20;
/** the relay is topped up when it holds fewer unused one-time prekeys than this */
export const PREKEY_REFILL_BELOW = 20;
export const KYBER_REFILL_BELOW = 5;
const DEVICE_ID = 1;

export interface CoreOptions {
  profileDir: string;
  /** the relay a new profile suggests (the embedded local relay, or the configured one) */
  defaultServerUrl: string;
  /** how the database key is protected; `passphrase` is what the user typed, if anything */
  protector: (passphrase: string | undefined) => KeyProtector;
  /** true where no OS keychain protects the key, so unlocking needs the user's passphrase */
  passphraseRequired: boolean;
  now?: () => number;
  /** the unread count for the dock/taskbar badge and tray (app.setBadgeCount); Electron sets it */
  onBadgeCount?: (count: number) => void;
}

type Handlers = { [C in Channel]: Handler<C> };

interface Unlocked {
  store: Store;
  key: Uint8Array;
}

export class Core {
  private unlocked: Unlocked | null = null;
  private identityCache: IdentityKeyPair | null = null;
  /** typing indicators (in memory only) */
  private readonly presence = new PresenceState();
  private readonly now: () => number;
  private readonly handlers: Handlers;
  /** wrong-passphrase throttle shared by vault.unlock and the lock.* channels */
  private readonly attempts = new PassphraseAttempts(() => this.now());

  private constructor(private readonly options: CoreOptions) {
    this.now = options.now ?? Date.now;
    const context: CoreContext = {
      options,
      now: () => this.now(),
      status: () => this.status(),
      requireOpen: () => this.requireOpen(),
      requireReady: () => this.requireReady(),
      requireAccount: (store) => this.requireAccount(store),
      identity: (store) => this.identity(store),
      lock: () => this.lock(),
    };
    this.handlers = {
      ...this.buildHandlers(),
      ...searchHandlers(context),
      ...lockHandlers(context, this.attempts),
      ...settingsHandlers(context),
      ...backupHandlers(context),
      ...presenceHandlers(context, this.presence),
      ...verifyHandlers(context),
      ...groupsHandlers(context, (conversationId) => this.presence.sentMessage(conversationId)),
      ...appShellHandlers(context),
    };
  }

  static async open(options: CoreOptions): Promise<Core> {
    await initCrypto();
    return new Core(options);
  }

  /** Validates `request` with the channel's schema, runs it, and returns the response. Throws RefugeError. */
  async handle<C extends Channel>(channel: C, request: unknown): Promise<ResponseOf<C>> {
    const spec = contract[channel];
    if (!spec) throw new RefugeError('UNKNOWN_CHANNEL', 'Unknown request.');
    const parsed = spec.request.safeParse(request ?? {});
    if (!parsed.success) {
      const where = parsed.error.issues.map((i) => i.path.join('.') || '(request)').join(', ');
      throw new RefugeError('BAD_REQUEST', `Invalid ${channel} request: check ${where}.`);
    }
    try {
      const handler = this.handlers[channel] as Handler<C>;
      return await handler(parsed.data as ParsedRequestOf<C>);
    } catch (error) {
      throw toRefugeError(error);
    }
  }

  /** Closes the store and forgets the key. */
  close(): void {
    this.lock();
  }

  private buildHandlers(): AreaHandlers<CoreChannel> {
    return {
      'app.status': () => this.status(),
      'account.create': (req) => this.createAccount(req.username, req.serverUrl, req.passphrase),
      'account.markRegistered': () => {
        const { store } = this.requireOpen();
        const account = this.requireAccount(store);
        store.saveAccount({ ...account, registered: true });
        return this.status();
      },
      'vault.unlock': (req) => this.unlock(req.passphrase),
      'vault.lock': () => {
        this.lock();
        return this.status();
      },
      'relay.signChallenge': (req) => {
        const { store } = this.requireOpen();
        const account = this.requireAccount(store);
        const message = authMessage(fromBase64url(req.challenge), account.username, account.deviceId);
        return {
          username: account.username,
          deviceId: account.deviceId,
          signature: toBase64url(signWithIdentity(this.identity(store), message)),
        };
      },
      'contacts.list': () => {
        const store = this.requireReady();
        const changed = changedIdentities(store);
        return store.listContacts().map((row) => toContactView(row, changed.has(row.username)));
      },
      'contacts.add': (req) => this.addContact(req.bundles),
      'contacts.safetyNumber': (req) => {
        const store = this.requireReady();
        const account = this.requireAccount(store);
        const username = canonicalUsername(req.username);
        const contact = store.getContact(username);
        if (!contact) throw new RefugeError('UNKNOWN_CONTACT', `${username} is not among your contacts.`);
        const digits = safetyNumber(
          { id: account.username, identityKey: this.identity(store).publicKey },
          { id: contact.username, identityKey: toBytes(contact.identityKey) },
        );
        return { username, digits };
      },
      'conversations.list': () => this.listConversations(),
      'conversations.markRead': (req) => {
        // Also queues a read receipt for the newly read messages (if the receipts setting is on).
        markConversationRead(this.requireReady(), req.conversationId, this.now());
        return { ok: true as const };
      },
      'messages.list': (req) => {
        const store = this.requireReady();
        if (!store.getConversation(req.conversationId)) throw new RefugeError('UNKNOWN_CONVERSATION', 'That conversation does not exist.');
        const page = store.listMessages(req.conversationId, { before: req.before, after: req.after, limit: req.limit });
        const messages = withReadBy(store, withReplies(store, page.messages.map(toMessage)));
        return { messages: withGroupEvents(store, this.requireAccount(store).username, messages), hasMore: page.hasMore };
      },
      'messages.send': (req) => this.sendText(req.conversationId, req.text, req.replyTo),
      'envelopes.receive': (req) => ({ results: this.receive(req.envelopes) }),
      'outbox.pending': (req) => ({
        envelopes: this.requireReady()
          .listOutbox(req.limit)
          .map((row): OutgoingEnvelope => ({ id: row.envelopeId, to: row.to, toDeviceId: row.toDeviceId, body: row.body })),
      }),
      'outbox.markFailed': (req) => {
        const store = this.requireReady();
        store.transaction(() => {
          const messageIds = store.failOutbox(req.failures.map((f) => f.id));
          if (messageIds.length > 0) store.updateMessageStatus(messageIds, 'failed');
        });
        return { ok: true as const };
      },
      'relay.prekeyRefill': (req) => ({ keys: this.prekeyRefill(req.oneTimePrekeys, req.kyberOneTimePrekeys) }),
      'outbox.markSent': (req) => {
        const store = this.requireReady();
        store.transaction(() => {
          const messageIds = store.removeOutbox(req.ids);
          if (messageIds.length > 0) store.updateMessageStatus(messageIds, 'sent');
        });
        return { ok: true as const };
      },
    };
  }

  // ---- profile lifecycle ----------------------------------------------------

  private status(): AppStatus {
    const base = { passphraseRequired: needsPassphrase(this.options) };
    if (!this.unlocked) {
      if (!vaultExists(this.options.profileDir)) {
        return { ...base, state: 'no-account', serverUrl: this.options.defaultServerUrl };
      }
      return { ...base, state: 'locked' };
    }
    const account = this.unlocked.store.getAccount();
    if (!account) return { ...base, state: 'no-account', serverUrl: this.options.defaultServerUrl };
    return {
      ...base,
      state: account.registered ? 'ready' : 'unregistered',
      username: account.username,
      deviceId: account.deviceId,
      serverUrl: account.serverUrl,
    };
  }

  private async createAccount(rawUsername: string, serverUrl: string, passphrase: string | undefined): Promise<Registration> {
    const username = canonicalUsername(rawUsername);
    if (!isValidUsername(username)) {
      throw new RefugeError('INVALID_USERNAME', 'A username is 3–32 characters: letters a–z, digits, _ and .');
    }
    if (this.options.passphraseRequired && !passphrase) {
      throw new RefugeError('PASSPHRASE_REQUIRED', 'Choose a passphrase to protect this profile.');
    }
    if (!this.unlocked) {
      if (vaultExists(this.options.profileDir)) {
        throw new RefugeError('PROFILE_EXISTS', 'This profile already has an account; unlock it instead.');
      }
      const key = await createVault(this.options.profileDir, this.options.protector(passphrase));
      this.unlocked = { store: openStore(this.options.profileDir, key), key };
    }
    const { store } = this.unlocked;
    const existing = store.getAccount();
    if (existing?.registered) throw new RefugeError('PROFILE_EXISTS', 'This profile already has a registered account.');

    const now = this.now();
    return store.transaction(() => {
      // Re-choosing a username after the relay refused one keeps the keys already made.
      if (existing) {
        store.saveAccount({ ...existing, username, serverUrl });
        return this.registration(store);
      }
      const identity = generateIdentityKeyPair();
      const signed = generateSignedPrekey(identity, 1, now);
      const oneTime = generateOneTimePrekeys(1, ONE_TIME_PREKEY_BATCH);
      const [lastResort] = generateKyberPrekeys(identity, 1, 1, true);
      if (!lastResort) throw new RefugeError('INTERNAL', 'Could not generate the last-resort prekey.');
      const kyberOneTime = generateKyberPrekeys(identity, 2, KYBER_ONE_TIME_BATCH, false);
      store.saveAccount({
        username,
        deviceId: DEVICE_ID,
        serverUrl,
        identity: serializeIdentity(identity),
        registered: false,
        createdAt: now,
        nextPrekeyId: ONE_TIME_PREKEY_BATCH + KYBER_ONE_TIME_BATCH + 2,
      });
      store.putPrekeys('signed', [{ id: signed.id, record: serializeSignedPrekey(signed) }]);
      store.putPrekeys('onetime', oneTime.map((k) => ({ id: k.id, record: serializeOneTimePrekey(k) })));
      store.putPrekeys('kyber', [
        { id: lastResort.id, record: serializeKyberPrekey(lastResort), lastResort: true },
        ...kyberOneTime.map((k) => ({ id: k.id, record: serializeKyberPrekey(k), lastResort: false })),
      ]);
      this.identityCache = identity;
      return {
        username,
        deviceId: DEVICE_ID,
        keys: buildKeysUpload(identity, signed, lastResort, oneTime, kyberOneTime),
      };
    });
  }

  /** The public keys of an existing unregistered profile, from what the store holds. */
  private registration(store: Store): Registration {
    const account = this.requireAccount(store);
    const identity = this.identity(store);
    const signedRow = store.getPrekey('signed', 1);
    const lastResortRow = store.getPrekey('kyber', 1);
    if (!signedRow || !lastResortRow) throw new RefugeError('INTERNAL', 'The profile is missing its prekeys.');
    const oneTime = [];
    for (let id = 1; id <= ONE_TIME_PREKEY_BATCH; id++) {
      const row = store.getPrekey('onetime', id);
      if (row) oneTime.push(deserializeOneTimePrekey(row));
    }
    const kyberOneTime = [];
    for (let id = 2; id < 2 + KYBER_ONE_TIME_BATCH; id++) {
      const row = store.getPrekey('kyber', id);
      if (row) kyberOneTime.push(deserializeKyberPrekey(row));
    }
    return {
      username: account.username,
      deviceId: account.deviceId,
      keys: buildKeysUpload(identity, deserializeSignedPrekey(signedRow), deserializeKyberPrekey(lastResortRow), oneTime, kyberOneTime),
    };
  }

  /** New one-time prekeys when the relay runs low; the private halves are stored first. */
  private prekeyRefill(oneTimeLeft: number, kyberLeft: number): Registration['keys'] | null {
    const store = this.requireReady();
    const needOneTime = oneTimeLeft < PREKEY_REFILL_BELOW;
    const needKyber = kyberLeft < KYBER_REFILL_BELOW;
    if (!needOneTime && !needKyber) return null;
    return store.transaction(() => {
      const account = this.requireAccount(store);
      const identity = this.identity(store);
      let nextId = account.nextPrekeyId;
      const oneTime = needOneTime ? generateOneTimePrekeys(nextId, ONE_TIME_PREKEY_BATCH) : [];
      nextId += oneTime.length;
      const kyberOneTime = needKyber ? generateKyberPrekeys(identity, nextId, KYBER_ONE_TIME_BATCH, false) : [];
      nextId += kyberOneTime.length;
      store.putPrekeys('onetime', oneTime.map((k) => ({ id: k.id, record: serializeOneTimePrekey(k) })));
      store.putPrekeys('kyber', kyberOneTime.map((k) => ({ id: k.id, record: serializeKyberPrekey(k), lastResort: false })));
      store.saveAccount({ ...account, nextPrekeyId: nextId });
      const signedRow = store.getPrekey('signed', 1);
      const lastResortRow = store.getPrekey('kyber', 1);
      if (!signedRow || !lastResortRow) throw new RefugeError('INTERNAL', 'The profile is missing its prekeys.');
      return buildKeysUpload(identity, deserializeSignedPrekey(signedRow), deserializeKyberPrekey(lastResortRow), oneTime, kyberOneTime);
    });
  }

  private async unlock(passphrase: string | undefined): Promise<AppStatus> {
    if (this.unlocked) return this.status();
    if (!vaultExists(this.options.profileDir)) throw new RefugeError('NO_PROFILE', 'There is no profile here yet.');
    if (needsPassphrase(this.options) && !passphrase) throw new RefugeError('PASSPHRASE_REQUIRED', 'Enter your passphrase.');
    // Wrong passphrases in a row make the next attempts wait (TOO_MANY_ATTEMPTS); see lock.ts.
    const key = await this.attempts.run(() => unlockVault(this.options.profileDir, this.options.protector(passphrase)));
    if (this.unlocked) {
      key.fill(0); // a concurrent unlock got there first
      return this.status();
    }
    try {
      this.unlocked = { store: openStore(this.options.profileDir, key), key };
    } catch (error) {
      key.fill(0); // e.g. NEWER_SCHEMA: nothing was opened
      throw error;
    }
    try {
      // Processed-envelope ids only have to outlive a possible redelivery; without this the table
      // (one random-key row per envelope ever received) grows, and every receive writes into it.
      this.unlocked.store.pruneProcessedEnvelopes(this.now() - PROCESSED_ENVELOPE_TTL_MS);
    } catch {
      // housekeeping: the next unlock tries again
    }
    return this.status();
  }

  private lock(): void {
    if (!this.unlocked) return;
    this.presence.clear();
    this.unlocked.store.close();
    this.unlocked.key.fill(0);
    this.identityCache?.privateKey.fill(0);
    this.identityCache = null;
    this.unlocked = null;
  }

  private requireOpen(): Unlocked {
    if (this.unlocked) return this.unlocked;
    if (!vaultExists(this.options.profileDir)) throw new RefugeError('NO_PROFILE', 'Create an account first.');
    throw new RefugeError('LOCKED', 'Refuge is locked. Unlock it first.');
  }

  private requireReady(): Store {
    const { store } = this.requireOpen();
    const account = this.requireAccount(store);
    if (!account.registered) throw new RefugeError('NOT_REGISTERED', 'Finish registering with the relay first.');
    return store;
  }

  private requireAccount(store: Store) {
    const account = store.getAccount();
    if (!account) throw new RefugeError('NO_PROFILE', 'Create an account first.');
    return account;
  }

  /** What groups.ts needs to send and receive. */
  private groupEnv(store: Store, now: number): GroupEnv {
    const account = this.requireAccount(store);
    return { store, me: account.username, deviceId: account.deviceId, identity: this.identity(store), now };
  }

  private identity(store: Store): IdentityKeyPair {
    if (!this.identityCache) this.identityCache = deserializeIdentity(this.requireAccount(store).identity);
    return this.identityCache;
  }

  // ---- contacts and sessions -----------------------------------------------

  private addContact(bundles: ParsedRequestOf<'contacts.add'>['bundles']): ResponseOf<'contacts.add'> {
    const store = this.requireReady();
    const account = this.requireAccount(store);
    const first = bundles[0];
    if (!first) throw new RefugeError('BAD_REQUEST', 'No prekey bundle was given.');
    const username = canonicalUsername(first.username);
    if (username === account.username) throw new RefugeError('SELF_CONTACT', 'You cannot add yourself as a contact.');
    for (const bundle of bundles) {
      if (canonicalUsername(bundle.username) !== username || bundle.identityKey !== first.identityKey) {
        throw new RefugeError('BAD_BUNDLE', 'The relay returned inconsistent keys for this user.');
      }
      verifyBundle(bundle);
    }
    const identityKey = fromBase64url(first.identityKey);
    const known = store.getContact(username);
    const now = this.now();
    const identity = this.identity(store);
    return store.transaction(() => {
      if (known && !equalBytes(toBytes(known.identityKey), identityKey)) {
        // A new identity for a known contact: held as pending until the user accepts it (verify.ts).
        recordIdentityFromBundles(store, identity, username, identityKey, bundles, now);
        const conversation = store.getOrCreateDirectConversation(username, now);
        return { contact: contactView(store, store.getContact(username) ?? known), conversationId: conversation.id };
      }
      const contact = known ?? { username, identityKey, verified: false, addedAt: now };
      if (!known) store.upsertContact(contact);
      const existingDevices = new Set(store.listSessionDevices(username));
      for (const bundle of bundles) {
        if (existingDevices.has(bundle.deviceId)) continue;
        store.putSession(username, bundle.deviceId, serializeSession(initiateSession(identity, bundle, now)));
      }
      const conversation = store.getOrCreateDirectConversation(username, now);
      return { contact: contactView(store, contact), conversationId: conversation.id };
    });
  }

  // ---- messages ---------------------------------------------------------------

  private sendText(conversationId: string, text: string, replyTo?: string): Message {
    const store = this.requireReady();
    const conversation = store.getConversation(conversationId);
    if (!conversation) throw new RefugeError('UNKNOWN_CONVERSATION', 'That conversation does not exist.');
    if (conversation.kind === 'group') {
      const sent = sendGroupText(this.groupEnv(store, this.now()), conversationId, text);
      this.presence.sentMessage(conversationId);
      return sent;
    }
    const peer = conversation.peer;
    assertSendable(store, peer); // IDENTITY_CHANGED until the user accepts the new key
    const reply = replyTo === undefined ? null : replyTarget(store, conversationId, replyTo);
    const devices = store.listSessionDevices(peer);
    if (devices.length === 0) throw new RefugeError('NO_SESSION', `There is no secure session with ${peer} yet.`);
    const now = this.now();
    const row: MessageRow = {
      id: randomUUID(),
      conversationId,
      sender: 'me',
      outgoing: true,
      text,
      sentAt: now,
      receivedAt: null,
      status: 'sending',
    };
    const plaintext = encodePayload({ v: 1, type: 'text', id: row.id, text, sentAt: now, ...(reply ? { replyTo: reply.id } : {}) });
    store.transaction(() => {
      store.insertMessage(row);
      if (reply) setReplyTo(store, row.id, reply.id);
      store.enqueueOutbox(this.encryptForDevices(store, peer, devices, plaintext, row.id, now));
    });
    this.presence.sentMessage(conversationId);
    return { ...toMessage(row), replyTo: reply };
  }

  /** Encrypts one plaintext per device and advances each session; call inside a transaction. */
  private encryptForDevices(store: Store, peer: string, devices: number[], plaintext: Uint8Array, messageId: string | null, now: number) {
    return devices.map((deviceId) => {
      const record = store.getSession(peer, deviceId);
      if (!record) throw new RefugeError('NO_SESSION', `There is no secure session with ${peer} yet.`);
      const { session, ciphertext } = encryptMessage(deserializeSession(record), plaintext, now);
      store.putSession(peer, deviceId, serializeSession(session));
      return { envelopeId: randomUUID(), messageId, to: peer, toDeviceId: deviceId, body: toBase64url(ciphertext), createdAt: now };
    });
  }

  /**
   * Decrypts and stores a batch in one transaction. Decryption is pure, so an envelope that
   * fails to decrypt changes nothing; if a write fails the whole batch rolls back and the
   * caller acks nothing, so the relay redelivers.
   */
  private receive(envelopes: DeliveredEnvelope[]): EnvelopeResult[] {
    const store = this.requireReady();
    const identity = this.identity(store);
    const now = this.now();
    /** delivery receipts to send, per sender device and group (groupId undefined: 1:1 messages) */
    const receipts = new Map<string, { peer: string; deviceId: number; groupId: string | undefined; ids: string[] }>();
    // One transaction, so one commit (one fsync) per batch, receipts included (bench: store, startup).
    return store.transaction(() => {
      // Dedupe: one lookup for the batch; ids processed in it join the set (a batch may repeat one).
      const processed = store.processedEnvelopeIds(envelopes.map((envelope) => envelope.id));
      const lookups = new ReceiveBatchLookups(store);
      const results = envelopes.map((envelope): EnvelopeResult => {
        if (processed.has(envelope.id)) return { id: envelope.id, outcome: 'duplicate' };
        const result = this.receiveOne(store, lookups, identity, envelope, now);
        store.markEnvelopeProcessed(envelope.id, now);
        processed.add(envelope.id);
        if (result.receiptFor) {
          const { id, groupId } = result.receiptFor;
          const key = `${envelope.from}\u0000${envelope.fromDeviceId}\u0000${groupId ?? ''}`;
          const entry = receipts.get(key) ?? { peer: envelope.from, deviceId: envelope.fromDeviceId, groupId, ids: [] };
          entry.ids.push(id);
          receipts.set(key, entry);
        }
        return result.result;
      });
      if (receipts.size > 0) {
        // Receipts are best-effort: losing one only leaves a message shown as "sent". In their own
        // savepoint, and a failure is dropped, so it can neither undo nor block the messages (a
        // batch that failed on every redelivery would never be acked).
        try {
          store.transaction(() => {
            for (const { peer, deviceId, groupId, ids } of receipts.values()) {
              const plaintext = encodePayload({ v: 1, type: 'receipt', kind: 'delivered', ids, ...(groupId !== undefined ? { g: groupId } : {}) });
              store.enqueueOutbox(this.encryptForDevices(store, peer, [deviceId], plaintext, null, now));
            }
          });
        } catch {
          // dropped, see above; if SQLite itself gave up the transaction, the commit below throws
        }
      }
      return results;
    });
  }

  private receiveOne(
    store: Store,
    lookups: ReceiveBatchLookups,
    identity: IdentityKeyPair,
    envelope: DeliveredEnvelope,
    now: number,
  ): { result: EnvelopeResult; receiptFor?: { id: string; groupId?: string } } {
    const from = canonicalUsername(envelope.from);
    const reject = (reason: string) => ({ result: { id: envelope.id, outcome: 'rejected' as const, reason } });
    let decrypted: { session: SessionState; plaintext: Uint8Array; consumed?: { oneTimePrekeyId: number | null; kyberPrekeyId: number | null } };
    /** set when a known contact's prekey message carries a different identity key */
    let changedKey: Uint8Array | null = null;
    try {
      const ciphertext = fromBase64url(envelope.body);
      const existingRecord = store.getSession(from, envelope.fromDeviceId);
      const existing = existingRecord ? deserializeSession(existingRecord) : null;
      if (messageKind(ciphertext) === 'prekey') {
        const info = prekeyMessageInfo(ciphertext);
        const contact = store.getContact(from);
        if (contact && !equalBytes(toBytes(contact.identityKey), info.senderIdentityKey)) {
          // A changed identity: let the message in on a pending session and hold sending (verify.ts).
          changedKey = info.senderIdentityKey;
          const pendingRecord = getPendingSession(store, from, envelope.fromDeviceId);
          const pending = pendingRecord ? deserializeSession(pendingRecord) : null;
          decrypted = this.tryExisting(pending, ciphertext, now) ?? acceptPrekeyMessage(this.responderKeys(store, identity), ciphertext, now);
        } else {
          decrypted = this.tryExisting(existing, ciphertext, now) ?? acceptPrekeyMessage(this.responderKeys(store, identity), ciphertext, now);
        }
      } else {
        if (!existing) return reject('NO_SESSION');
        decrypted = decryptMessage(existing, ciphertext, now);
      }
    } catch (error) {
      if (error instanceof CryptoError) return reject(error.code);
      // A body that is not base64url (the relay only checks its alphabet) is undecryptable, not a
      // failure of the batch: thrown, it would fail the whole batch on every redelivery.
      if (error instanceof Base64Error) return reject('MALFORMED');
      throw error;
    }

    let payload: Payload;
    try {
      payload = decodePayload(decrypted.plaintext);
    } catch (error) {
      if (error instanceof PayloadError) return reject('BAD_PAYLOAD');
      throw error;
    }

    // The message authenticated: commit the session and any consumed one-time prekeys.
    const remoteIdentity = sessionInfo(decrypted.session).remoteIdentityKey;
    if (!lookups.isContact(from)) {
      store.upsertContact({ username: from, identityKey: remoteIdentity, verified: false, addedAt: now });
      lookups.contactAdded(from);
    }
    if (changedKey) {
      recordPendingIdentity(store, from, changedKey, { deviceId: envelope.fromDeviceId, record: serializeSession(decrypted.session) });
      lookups.identityHeld(from);
    } else {
      store.putSession(from, envelope.fromDeviceId, serializeSession(decrypted.session));
    }
    if (decrypted.consumed?.oneTimePrekeyId != null) store.deletePrekey('onetime', decrypted.consumed.oneTimePrekeyId);
    if (decrypted.consumed?.kyberPrekeyId != null) store.deletePrekey('kyber', decrypted.consumed.kyberPrekeyId);
    // A new session from them (first contact, reinstall, restore): our group sender keys go with our next group message.
    if (decrypted.consumed) forgetKeysSentTo(store, from);

    // A contact restored from a backup started a fresh session (backup.ts): committing it was the point.
    if (payload.type === 'session') return { result: { id: envelope.id, outcome: 'stored' } };
    // Group control and group messages: groups.ts.
    if (isGroupPayload(payload)) {
      const result = receiveGroupPayload(this.groupEnv(store, now), envelope, payload);
      if (payload.type !== 'group-msg' || result.outcome !== 'stored' || !result.message) return { result };
      // A member's message: their indicator goes, and the delivery receipt goes to them only (pairwise).
      this.presence.clearIncoming(result.message.conversationId, from);
      const held = lookups.isHeld(from);
      return { result, ...(held ? {} : { receiptFor: { id: result.message.id, groupId: payload.g } }) };
    }
    if (payload.type !== 'text') {
      // receipts (delivered, read) and typing: presence.ts
      receiveControl(store, this.presence, from, payload, now);
      return { result: { id: envelope.id, outcome: 'stored' } };
    }

    const row: MessageRow = {
      id: payload.id,
      conversationId: lookups.directConversationId(from, now),
      sender: from,
      outgoing: false,
      text: payload.text,
      sentAt: payload.sentAt,
      receivedAt: now,
      status: 'received',
    };
    if (!store.insertMessage(row)) return { result: { id: envelope.id, outcome: 'duplicate' } };
    onIncomingText(store, this.presence, row, payload.replyTo);
    // A message that quotes nothing needs no reply lookup (a query per received message otherwise).
    const [message] = payload.replyTo === undefined ? [{ ...toMessage(row), replyTo: null }] : withReplies(store, [toMessage(row)]);
    // Nothing goes out to an identity the user has not accepted, not even a delivery receipt.
    const held = lookups.isHeld(from);
    return { result: { id: envelope.id, outcome: 'stored', message: message ?? toMessage(row) }, ...(held ? {} : { receiptFor: { id: payload.id } }) };
  }

  /** A prekey message may belong to a session we already accepted (the sender has not seen our reply yet). */
  private tryExisting(existing: SessionState | null, ciphertext: Uint8Array, now: number) {
    if (!existing) return null;
    try {
      return decryptMessage(existing, ciphertext, now);
    } catch (error) {
      if (error instanceof CryptoError && error.code === 'WRONG_SESSION') return null;
      throw error;
    }
  }

  private responderKeys(store: Store, identity: IdentityKeyPair): ResponderKeys {
    return {
      identity,
      signedPrekey: (id) => mapRow(store.getPrekey('signed', id), deserializeSignedPrekey),
      oneTimePrekey: (id) => mapRow(store.getPrekey('onetime', id), deserializeOneTimePrekey),
      kyberPrekey: (id) => mapRow(store.getPrekey('kyber', id), deserializeKyberPrekey),
    };
  }

  private listConversations(): ConversationSummary[] {
    const store = this.requireReady();
    const muted = mutedConversations(store);
    const changed = changedIdentities(store);
    return store
      .listConversationSummaries()
      .map(({ conversation, lastMessage }) => ({
        id: conversation.id,
        peer: conversation.peer,
        unreadCount: conversation.unreadCount,
        updatedAt: conversation.updatedAt,
        muted: muted.has(conversation.id),
        identityChanged: changed.has(conversation.peer),
        ...conversationKind(store, conversation),
        lastMessage: lastMessage
          ? { text: lastMessage.text, outgoing: lastMessage.outgoing, sentAt: lastMessage.sentAt, status: lastMessage.status }
          : null,
      }));
  }
}

/**
 * What receiveOne looks up for every envelope, looked up once per sender and batch (bench: store):
 * whether they are a contact, whether their new identity is held, their direct conversation. Inside
 * the batch's transaction only the batch itself changes these, and it tells this memo when it does
 * (contacts and direct conversations are never deleted by a receive).
 */
class ReceiveBatchLookups {
  readonly #contacts = new Set<string>();
  readonly #held = new Map<string, boolean>();
  readonly #directConversations = new Map<string, string>();

  constructor(private readonly store: Store) {}

  isContact(username: string): boolean {
    if (this.#contacts.has(username)) return true;
    const known = this.store.getContact(username) !== undefined;
    if (known) this.#contacts.add(username);
    return known;
  }

  contactAdded(username: string): void {
    this.#contacts.add(username);
  }

  /** Whether a new identity of `username` waits for the user (nothing goes out to it). */
  isHeld(username: string): boolean {
    let held = this.#held.get(username);
    if (held === undefined) {
      held = pendingIdentityKey(this.store, username) !== null;
      this.#held.set(username, held);
    }
    return held;
  }

  identityHeld(username: string): void {
    this.#held.set(username, true);
  }

  directConversationId(peer: string, now: number): string {
    let id = this.#directConversations.get(peer);
    if (id === undefined) {
      id = this.store.getOrCreateDirectConversation(peer, now).id;
      this.#directConversations.set(peer, id);
    }
    return id;
  }
}

function mapRow<T>(row: Uint8Array | undefined, parse: (row: Uint8Array) => T): T | undefined {
  return row ? parse(row) : undefined;
}

function toBytes(value: Uint8Array): Uint8Array {
  return value instanceof Uint8Array ? value : new Uint8Array(value);
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

