// One-shot relay flows for the UI and the CLI, each on its own short-lived connection.
import type { RefugeApi } from '../ipc/api.js';
import { type Registration, RefugeError, type ResponseOf } from '../ipc/contract.js';
import { canonicalUsername } from '../protocol/username.js';
import { RelayClient, type RelayClientOptions } from './client.js';
import { coreFromApi, type SyncCore } from './core.js';
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
