// The core's search area: handlers for the channels in shared/ipc/channels/search.ts.
import { RefugeError } from '../../../shared/ipc/contract.js';
import type { searchChannels } from '../../../shared/ipc/channels/search.js';
import { messagesAround, searchMessages, type Store } from '../store/index.js';
import type { AreaHandlers, CoreContext } from './context.js';
import { withReplies } from './presence.js';
import { toMessage } from './views.js';

export function searchHandlers(ctx: CoreContext): AreaHandlers<keyof typeof searchChannels> {
  return {
    'search.query': (req) => {
      const store = ctx.requireReady();
      const hits = searchMessages(store, req.query, { conversationId: req.conversationId, limit: req.limit });
      return {
        results: hits.map((hit) => ({
          messageId: hit.messageId,
          conversationId: hit.conversationId,
          peer: hit.peer,
          sender: hit.sender,
          outgoing: hit.outgoing,
          sentAt: hit.sentAt,
          snippet: hit.snippet,
        })),
      };
    },
    'search.around': (req) => {
      const store = ctx.requireReady();
      requireConversation(store, req.conversationId);
      const page = messagesAround(store, req.conversationId, req.messageId, req.limit);
      return {
        messages: withReplies(store, page.messages.map(toMessage)),
        hasMoreBefore: page.hasMoreBefore,
        hasMoreAfter: page.hasMoreAfter,
      };
    },
  };
}

function requireConversation(store: Store, conversationId: string): void {
  if (!store.getConversation(conversationId)) throw new RefugeError('UNKNOWN_CONVERSATION', 'That conversation does not exist.');
}

