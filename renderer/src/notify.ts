// What a desktop notification says and when one is raised, and the unread count of the badge.
// Pure (no DOM), unit-tested; MainScreen raises the Notification itself.
import type { ConversationSummary, Message, Settings } from './api.js';
import { previewText } from './format.js';
import { t } from './i18n/index.js';

export type NotificationPrivacy = Settings['notifications'];

/** name-and-text: who and what; name-only: who; none: only that something arrived. */
export function notificationContent(privacy: NotificationPrivacy, sender: string, text: string): { title: string; body: string } {
  switch (privacy) {
    case 'name-and-text':
      return { title: sender, body: previewText(text, 180) };
    case 'name-only':
      return { title: sender, body: t('notify.newMessage') };
    case 'none':
      return { title: t('app.name'), body: t('notify.newMessage') };
  }
}

export type NotifyContext = {
  /** the conversation of the message, if the list knows it yet */
  conversation: Pick<ConversationSummary, 'id' | 'muted'> | undefined;
  /** the conversation open in the chat pane, if any */
  openConversationId: string | null;
  /** the window is visible and has the focus */
  attentive: boolean;
};

/**
 * A new message is worth a notification when someone else sent it (not our other device, not a
 * group's membership line), its conversation is not muted, and the user is not already looking
 * at that conversation.
 */
export function shouldNotify(message: Pick<Message, 'outgoing' | 'system' | 'conversationId'>, ctx: NotifyContext): boolean {
  if (message.outgoing || message.system) return false;
  if (ctx.conversation?.muted) return false;
  if (ctx.attentive && ctx.openConversationId === message.conversationId) return false;
  return true;
}

/** Unread messages in conversations that are not muted: the number on the badge and in the title. */
export function unreadTotal(conversations: readonly Pick<ConversationSummary, 'unreadCount' | 'muted'>[]): number {
  return conversations.reduce((sum, c) => (c.muted ? sum : sum + c.unreadCount), 0);
}

export function documentTitle(unread: number): string {
  const name = t('app.name');
  return unread > 0 ? `(${unread}) ${name}` : name;
}
