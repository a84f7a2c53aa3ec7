// One-shot relay flows for the UI and the CLI, each on its own short-lived connection.
import type { RefugeApi } from '../ipc/api.js';
import { type Registration, RefugeError, type ResponseOf } from '../ipc/contract.js';
import { canonicalUsername } from '../protocol/username.js';
import { RelayClient, type RelayClientOptions } from './client.js';
import { coreFromApi, type SyncCore } from './core.js';
import { toRefugeError as toSyncError } from './errors.js';
import { flushOutboxWith, type OutboxFlushOptions, type OutboxFlushResult } from './outbox.js';

/** Connects, runs `fn`, always closes. */
export async function withRelay<T>(serverUrl: string, fn: (client: RelayClient) => Promise<T>, options: RelayClientOptions = {}): Promise<T> {
  const client = new RelayClient(serverUrl, options);
  try {
    await client.connect();
    return await fn(client);
  } finally {
    client.close();
  }
}

/** hello -> core signs -> auth. */
export async function authenticate(client: RelayClient, core: Pick<SyncCore, 'signChallenge'>): Promise<{ username: string; deviceId: number }> {
  const { challenge } = await client.hello();
  return client.auth(await core.signChallenge(challenge));
}

/**
 * Registers the keys returned by `account.create` with the relay (USERNAME_TAKEN if the name is
 * someone else's), then records it with `account.markRegistered`. Retrying after a crash is safe:
 * the relay accepts a second registration by the same identity key.
 */
export async function registerAccount(
  api: RefugeApi,
  serverUrl: string,
  registration: Registration,
  options?: RelayClientOptions,
): Promise<void> {
  await withRelay(
    serverUrl,
    async (client) => {
      const { challenge } = await client.hello();
      const signed = await api.relay.signChallenge({ challenge });
      const username = canonicalUsername(registration.username);
      if (canonicalUsername(signed.username) !== username || signed.deviceId !== registration.deviceId) {
        throw new RefugeError('AUTH_FAILED', 'the core signed the challenge for a different account');
      }
      await client.register({ username, deviceId: registration.deviceId, keys: registration.keys, signature: signed.signature });
    },
    options,
  );
  await api.account.markRegistered({});
}

/** Fetches `username`'s prekey bundles (USER_NOT_FOUND) and hands them to `contacts.add`. */
export async function addContact(
  api: RefugeApi,
  serverUrl: string,
  username: string,
  options?: RelayClientOptions,
): Promise<ResponseOf<'contacts.add'>> {
  const bundles = await withRelay(
    serverUrl,
    async (client) => {
      await authenticate(client, coreFromApi(api));
      return client.fetchBundles(username);
    },
    options,
  );
  return api.contacts.add({ bundles });
}

/** Sends the whole outbox on a short-lived authenticated connection (e.g. `refuge send`). */
export async function flushOutbox(
  api: RefugeApi,
  serverUrl: string,
  options: RelayClientOptions & Omit<OutboxFlushOptions, 'skip'> = {},
): Promise<OutboxFlushResult> {
  const core = coreFromApi(api);
  return withRelay(
    serverUrl,
    async (client) => {
      await authenticate(client, core);
      return flushOutboxWith(client, core, options);
    },
    options,
  );
}

export interface SessionResetResult {
  /** the relay's one-time prekeys were replaced by fresh ones (the first time after a restore) */
  prekeysRefreshed: boolean;
  /** contacts with a fresh session and a queued session-reset message (sent before this returns) */
  reset: string[];
  /** contacts that could not be reached now (e.g. USER_NOT_FOUND, IDENTITY_CHANGED); retried by the next call */
  failed: { username: string; code: string }[];
}

/**
 * Finishes a restore from backup; a no-op (one core call) otherwise. Safe to repeat: it resumes
 * where an interrupted run stopped.
 * 1. The relay may still hold one-time prekeys the restored device cannot use (the old device
 *    handed out or added some after the backup): new ones replace them all, by re-registering
 *    the same identity (backup.freshPrekeys, register, backup.prekeysUploaded).
 * 2. Sessions are never backed up: for each contact without one (backup.pendingSessions), fetch
 *    their bundles and start a fresh PQXDH session that announces itself with an encrypted
 *    session-reset message (backup.resetSession), so their device replaces its old session; a
 *    contact whose identity key changed since the backup goes to contacts.add instead, which holds
 *    the new key for the user to verify. Then send the outbox.
 */
export async function reestablishSessions(api: RefugeApi, serverUrl: string, options?: RelayClientOptions): Promise<SessionResetResult> {
  const result: SessionResetResult = { prekeysRefreshed: false, reset: [], failed: [] };
  const { usernames, prekeysStale } = await api.backup.pendingSessions({});
  if (usernames.length === 0 && !prekeysStale) return result;
  const core = coreFromApi(api);
  await withRelay(
    serverUrl,
    async (client) => {
      if (prekeysStale) {
        const registration = await api.backup.freshPrekeys({});
        const { challenge } = await client.hello();
        const signed = await api.relay.signChallenge({ challenge });
        // The same identity registering again: the relay replaces every one-time prekey it held.
        await client.register({ username: registration.username, deviceId: registration.deviceId, keys: registration.keys, signature: signed.signature });
        await api.backup.prekeysUploaded({});
        result.prekeysRefreshed = true;
      } else {
        await authenticate(client, core);
      }
      for (const username of usernames) {
        try {
          const bundles = await client.fetchBundles(username);
          try {
            await api.backup.resetSession({ bundles });
          } catch (error) {
            if (toSyncError(error).code === 'IDENTITY_CHANGED') await api.contacts.add({ bundles });
            throw error;
          }
          result.reset.push(username);
        } catch (error) {
          result.failed.push({ username, code: toSyncError(error).code });
        }
      }
      await flushOutboxWith(client, core);
    },
    options,
  );
  return result;
}

export interface EnsureSessionsResult {
  /** users we had no session with and now have one */
  opened: string[];
  /** users the relay does not know (USER_NOT_FOUND) or whose keys could not be used, with the code */
  failed: { username: string; code: string }[];
}

/**
 * Opens pairwise sessions with every user in `target` we have none with yet: the named users,
 * or a group's members (groups.missingSessions). Fetches their prekey bundles on one
 * authenticated connection and hands them to `groups.openSessions` (no direct conversation is
 * opened). Run it before groups.create / groups.add / groups.send. The relay learns only that
 * this device fetched these users' keys, never why.
 */
export async function ensureSessions(
  api: RefugeApi,
  serverUrl: string,
  target: { usernames?: string[]; groupId?: string },
  options?: RelayClientOptions,
): Promise<EnsureSessionsResult> {
  const result: EnsureSessionsResult = { opened: [], failed: [] };
  const { usernames } = await api.groups.missingSessions(target);
  if (usernames.length === 0) return result;
  await withRelay(
    serverUrl,
    async (client) => {
      await authenticate(client, coreFromApi(api));
      for (const username of usernames) {
        try {
          await api.groups.openSessions({ bundles: await client.fetchBundles(username) });
          result.opened.push(username);
        } catch (error) {
          result.failed.push({ username, code: toSyncError(error).code });
        }
      }
    },
    options,
  );
  return result;
}
