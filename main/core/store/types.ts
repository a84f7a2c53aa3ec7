// Row types the store reads and writes. Binary columns are Uint8Array; booleans are booleans.

export interface AccountRow {
  username: string;
  deviceId: number;
  serverUrl: string;
  /** serialized identity key pair (private): opaque to the store */
  identity: Uint8Array;
  registered: boolean;
  createdAt: number;
  nextPrekeyId: number;
}

export type PrekeyKind = 'signed' | 'onetime' | 'kyber';
export const PREKEY_KINDS: readonly PrekeyKind[] = ['signed', 'onetime', 'kyber'];

export interface PrekeyInput {
  id: number;
  record: Uint8Array;
  /** a last-resort (kyber) prekey: never consumed, so deletePrekey skips it unless asked */
  lastResort?: boolean;
}

export interface PrekeyRow {
  id: number;
  record: Uint8Array;
  lastResort: boolean;
}

export interface ContactRow {
  username: string;
  identityKey: Uint8Array;
  verified: boolean;
  addedAt: number;
}

export interface ConversationRow {
  /** random (uuid v4) */
  id: string;
  kind: 'direct' | 'group';
  /** the other party's username ('' for a group conversation: see store/groups.ts) */
  peer: string;
  createdAt: number;
  /** time of the latest activity, for ordering the conversation list */
  updatedAt: number;
  unreadCount: number;
}

/** 'read': the peer read our message (a read receipt; set by social.ts markOutgoingRead) */
export type MessageStatus = 'sending' | 'sent' | 'delivered' | 'failed' | 'received' | 'read';
export const MESSAGE_STATUSES: readonly MessageStatus[] = ['sending', 'sent', 'delivered', 'failed', 'received', 'read'];
/** the statuses updateMessageStatus can set (on outgoing messages) */
export type OutgoingStatus = Exclude<MessageStatus, 'received' | 'read'>;

export interface MessageRow {
  id: string;
  conversationId: string;
  /** 'me' for our own messages, otherwise the sender's username */
  sender: string;
  outgoing: boolean;
  text: string;
  sentAt: number;
  receivedAt: number | null;
  status: MessageStatus;
}

export interface MessagePage {
  /** oldest first */
  messages: MessageRow[];
  /** true when there are older messages before the first one of this page */
  hasMore: boolean;
}

export interface ConversationSummaryRow {
  conversation: ConversationRow;
  lastMessage: MessageRow | null;
}

export interface OutboxInput {
  envelopeId: string;
  /** the chat message this envelope carries, or null (receipts, session control) */
  messageId: string | null;
  to: string;
  toDeviceId: number;
  /** base64url ciphertext */
  body: string;
  createdAt: number;
}

export type OutboxRow = OutboxInput;
