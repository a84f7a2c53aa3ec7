// The renderer's only use of shared/sync (the relay connection). Everything else in the UI
// goes through this file, so a change to the sync engine's API is absorbed here.
import { SyncEngine, coreFromApi, registerAccount, addContact } from '../../shared/sync/index.js';
import type { RefugeApi } from '../../shared/ipc/api.js';
import type { Contact, Registration } from '../../shared/ipc/contract.js';

export type ConnectionState = 'connecting' | 'online' | 'offline';

export interface SyncHandle {
  /** The connection state right now (events report changes after this). */
  state(): ConnectionState;
  /** Connection state changes. */
  onState(fn: (state: ConnectionState) => void): () => void;
  /** Something changed in the store: envelopes received and stored, or outbox envelopes accepted. */
  onActivity(fn: () => void): () => void;
  /** A problem worth telling the user about (the engine keeps retrying on its own). */
  onError(fn: (message: string) => void): () => void;
  /** Ask the engine to drain the outbox now (after sending a message). */
  kick(): void;
  stop(): void;
}

function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e && typeof (e as { message: unknown }).message === 'string') {
    return (e as { message: string }).message;
  }
  return String(e);
}

export function startSync(api: RefugeApi, serverUrl: string): SyncHandle {
  const state = new Set<(s: ConnectionState) => void>();
  const activity = new Set<() => void>();
  const errors = new Set<(m: string) => void>();
  let stopped = false;

  const engine = new SyncEngine({ serverUrl, core: coreFromApi(api) });
  engine.on('state', (s: ConnectionState) => {
    if (!stopped) for (const fn of state) fn(s);
  });
  engine.on('received', () => {
    if (!stopped) for (const fn of activity) fn();
  });
  engine.on('sent', () => {
    if (!stopped) for (const fn of activity) fn();
  });
  engine.on('error', (e: unknown) => {
    if (!stopped) for (const fn of errors) fn(describe(e));
  });
  engine.start();

  const subscribe =
    <F>(set: Set<F>) =>
    (fn: F) => {
      set.add(fn);
      return () => void set.delete(fn);
    };

  return {
    state: () => engine.state as ConnectionState,
    onState: subscribe(state),
    onActivity: subscribe(activity),
    onError: subscribe(errors),
    kick: () => {
      if (!stopped) engine.kick();
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      state.clear();
      activity.clear();
      errors.clear();
      void Promise.resolve(engine.stop()).catch(() => undefined);
    },
  };
}

/** Uploads the new device's public keys to the relay (after `account.create`) and records it with the core. */
export async function registerWithRelay(api: RefugeApi, serverUrl: string, registration: Registration): Promise<void> {
  await registerAccount(api, serverUrl, registration);
}

/** Fetches a user's prekey bundles from the relay and hands them to the core (`contacts.add`). */
export async function addContactByUsername(
  api: RefugeApi,
  serverUrl: string,
  username: string,
): Promise<{ contact: Contact; conversationId: string }> {
  const { contact, conversationId } = await addContact(api, serverUrl, username);
  return { contact, conversationId };
}
