// The renderer's only use of shared/sync (the relay connection). Everything else in the UI
// goes through this file, so a change to the sync engine's API is absorbed here.
import { SyncEngine, coreFromApi, registerAccount, addContact, reestablishSessions, ensureSessions, type EnsureSessionsResult } from '../../shared/sync/index.js';
import type { RefugeApi } from '../../shared/ipc/api.js';
import type { Contact, EnvelopeResult, Registration } from '../../shared/ipc/contract.js';

export type ConnectionState = 'connecting' | 'online' | 'offline';

export interface SyncHandle {
  /** The connection state right now (events report changes after this). */
  state(): ConnectionState;
  /** Connection state changes. */
  onState(fn: (state: ConnectionState) => void): () => void;
  /** Something changed in the store: envelopes received and stored, or outbox envelopes accepted. */
  onActivity(fn: () => void): () => void;
  /** A batch the core stored (each result's `message` is a new chat message, for notifications). Fires before onActivity. */
  onReceived(fn: (results: EnvelopeResult[]) => void): () => void;
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
  const received = new Set<(r: EnvelopeResult[]) => void>();
  let stopped = false;

  const engine = new SyncEngine({ serverUrl, core: coreFromApi(api) });
  // Contacts left without a session by a restore from backup (issue 7) get a fresh one once the
  // relay is reachable; a no-op (one core call) when there are none.
  let sessionsChecked = false;
  engine.on('state', (s: ConnectionState) => {
    if (!stopped) for (const fn of state) fn(s);
    if (s === 'online' && !sessionsChecked && !stopped) {
      sessionsChecked = true;
      void reestablishSessions(api, serverUrl).then(
        (r) => {
          if (r.failed.length > 0) sessionsChecked = false;
        },
        () => {
          sessionsChecked = false;
        },
      );
    }
  });
  engine.on('received', (results: EnvelopeResult[]) => {
    if (stopped) return;
    for (const fn of received) fn(results);
    for (const fn of activity) fn();
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
    onReceived: subscribe(received),
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
      received.clear();
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

/** After a restore from backup: fresh prekeys on the relay and fresh sessions with every contact (shared/sync reestablishSessions). */
export async function reestablishAfterRestore(api: RefugeApi, serverUrl: string): Promise<{ prekeysRefreshed: boolean; reset: string[]; failed: { username: string; code: string }[] }> {
  return reestablishSessions(api, serverUrl);
}

/**
 * Opens pairwise sessions with the named users or a group's members we have none with yet
 * (shared/sync ensureSessions): run before groups.create, groups.add and sending to a group.
 * Users it could not reach come back in `failed` with the error code.
 */
export async function openGroupSessions(api: RefugeApi, serverUrl: string, target: { usernames?: string[]; groupId?: string }): Promise<EnsureSessionsResult> {
  return ensureSessions(api, serverUrl, target);
}
