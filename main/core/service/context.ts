// What a feature area of the core (search, lock, settings, backup, ...) may use of the Core.
// Each area exports `xxxHandlers(ctx)` returning the handlers of its own channels
// (shared/ipc/channels/xxx.ts); core.ts merges them.
import type { AppStatus, Channel, ParsedRequestOf, ResponseOf } from '../../../shared/ipc/contract.js';
import type { IdentityKeyPair } from '../crypto/index.js';
import type { AccountRow, Store } from '../store/index.js';
import type { CoreOptions } from './core.js';

export type Handler<C extends Channel> = (request: ParsedRequestOf<C>) => Promise<ResponseOf<C>> | ResponseOf<C>;
export type AreaHandlers<K extends Channel> = { [C in K]: Handler<C> };

export interface CoreContext {
  readonly options: CoreOptions;
  now(): number;
  status(): AppStatus;
  /** the open store and its key; throws LOCKED / NO_PROFILE */
  requireOpen(): { store: Store; key: Uint8Array };
  /** the open store of a registered account; throws LOCKED / NO_PROFILE / NOT_REGISTERED */
  requireReady(): Store;
  requireAccount(store: Store): AccountRow;
  identity(store: Store): IdentityKeyPair;
  /** closes the store and wipes the key and cached secrets */
  lock(): void;
}
