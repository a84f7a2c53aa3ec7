// The encrypted local database (SQLCipher): schema, migrations, repositories.
export { openStore, Store, DB_FILE, MAX_PAGE, type OpenStoreOptions } from './store.js';
export { StoreError, type StoreErrorCode } from './errors.js';
export { MIGRATIONS, SCHEMA_VERSION, type Migration } from './migrations.js';
export {
  MESSAGE_STATUSES,
  PREKEY_KINDS,
  type AccountRow,
  type ContactRow,
  type ConversationRow,
  type ConversationSummaryRow,
  type MessagePage,
  type MessageRow,
  type MessageStatus,
  type OutboxInput,
  type OutboxRow,
  type OutgoingStatus,
  type PrekeyInput,
  type PrekeyKind,
  type PrekeyRow,
} from './types.js';
export { searchMessages, messagesAround, RANK_WINDOW, MAX_RESULTS, type SearchHit, type SearchOptions, type AroundPage } from './search.js';
export { readSettingValues, writeSettingValues } from './settings.js';
