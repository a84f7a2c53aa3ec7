// Store rows as the contract shows them. One place, so every channel shows a message the same way.
import type { Message } from '../../../shared/ipc/contract.js';
import type { MessageRow } from '../store/index.js';

export function toMessage(row: MessageRow): Message {
  return {
    id: row.id,
    conversationId: row.conversationId,
    sender: row.sender,
    outgoing: row.outgoing,
    text: row.text,
    sentAt: row.sentAt,
    receivedAt: row.receivedAt,
    status: row.status,
  };
}
