// What a group's membership event says, in the reader's language, from its structured fields
// (GroupEvent), never from the core's English fallback text. 'me' in `actor`/`members` is us.
import type { GroupEvent } from '../../../api.js';
import { t, uiLocale, type StringKey } from '../../../i18n/index.js';

/** A member as the reader knows them: "you" for us, else the username (with the language's honorific). */
export function memberName(username: string): string {
  return username === 'me' ? t('group.you') : t('group.person', { name: username });
}

/** "bob, carol and you": names joined the way the language joins a list. */
export function joinNames(names: readonly string[]): string {
  if (typeof Intl !== 'undefined' && 'ListFormat' in Intl) {
    return new Intl.ListFormat(uiLocale(), { style: 'long', type: 'conjunction' }).format(names);
  }
  return names.join(', ');
}

function eventKey(event: GroupEvent): StringKey {
  const mine = event.actor === 'me';
  switch (event.kind) {
    case 'create':
      return mine ? 'group.event.create.me' : 'group.event.create';
    case 'add':
      return mine ? 'group.event.add.me' : 'group.event.add';
    case 'remove':
      return mine ? 'group.event.remove.me' : 'group.event.remove';
    case 'leave':
      return mine ? 'group.event.leave.me' : 'group.event.leave';
    case 'rename':
      return mine ? 'group.event.rename.me' : 'group.event.rename';
    case 'admin':
      if (event.admin === false) return mine ? 'group.event.adminRevoke.me' : 'group.event.adminRevoke';
      return mine ? 'group.event.adminGrant.me' : 'group.event.adminGrant';
  }
}

/** "alice added bob", "You removed carol", "alice renamed the group to X". */
export function describeGroupEvent(event: GroupEvent): string {
  const members = event.members ?? [];
  return t(eventKey(event), {
    actor: memberName(event.actor),
    members: joinNames(members.map(memberName)),
    member: memberName(members[0] ?? ''),
    name: event.name ?? '',
  });
}

/** The conversation list's line for a group's last message: whose it is, or the event it records. */
export function groupPreview(message: { sender: string; outgoing: boolean; text: string; system?: GroupEvent | undefined }): string {
  if (message.system) return describeGroupEvent(message.system);
  if (message.outgoing || message.sender === 'me') return `${t('sidebar.you')}${message.text}`;
  return t('group.preview', { name: message.sender, text: message.text });
}

/** "alice is typing…", "alice and bob are typing…"; the generic line when the core names nobody. */
export function typingText(names: readonly string[]): string {
  const known = [...new Set(names.filter((n) => n.trim() !== ''))];
  if (known.length === 0) return t('sidebar.typing');
  if (known.length === 1) return t('group.typing.one', { name: known[0] ?? '' });
  return t('group.typing.many', { names: joinNames(known) });
}

/**
 * "Read by alice, bob" for one of our group messages, or null (nobody yet, or not a group
 * message). `readBy` is Message.readBy; anything but a list of names is ignored.
 */
export function readByText(readBy: unknown): string | null {
  if (!Array.isArray(readBy)) return null;
  const names = readBy.filter((n): n is string => typeof n === 'string' && n.trim() !== '');
  return names.length > 0 ? t('group.readBy', { names: joinNames(names) }) : null;
}
