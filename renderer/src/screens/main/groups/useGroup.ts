// The open group's members and our role (groups.info), fetched again whenever the store may have
// changed (sync activity brings membership changes from the other members), and the last message
// of each group in the conversation list (its summary does not say who sent it, nor carry a
// membership event's fields).
import { useCallback, useEffect, useRef, useState } from 'react';
import { errorMessage, useRefuge, type ConversationSummary, type Group, type Message } from '../../../api.js';
import { useMounted } from '../../../useMounted.js';

export function useGroup(groupId: string | undefined, revision: number): {
  group: Group | null;
  error: string | null;
  /** a change we made returned the new state: show it without waiting for a refetch */
  setGroup: (group: Group) => void;
} {
  const api = useRefuge();
  const [group, setGroupState] = useState<Group | null>(null);
  const [error, setError] = useState<string | null>(null);
  const seq = useRef(0);

  useEffect(() => {
    if (!groupId) {
      seq.current++;
      setGroupState(null);
      setError(null);
      return;
    }
    const mine = ++seq.current;
    api.groups
      .info({ groupId })
      .then((g) => {
        if (mine !== seq.current) return;
        setGroupState(g);
        setError(null);
      })
      .catch((e: unknown) => {
        if (mine === seq.current) setError(errorMessage(e));
      });
  }, [api, groupId, revision]);

  // a group of another id (the user switched conversations) is never shown
  const current = group && group.groupId === groupId ? group : null;
  const setGroup = useCallback(
    (g: Group) => {
      seq.current++; // a refetch in flight is older than this
      setGroupState(g);
      setError(null);
    },
    [],
  );
  return { group: current, error, setGroup };
}

/**
 * The newest message of every group conversation that has one, by conversation id. Fetched only
 * for groups whose last message changed since the previous fetch (one messages.list each); an
 * answer for a summary that has changed again meanwhile is dropped.
 */
export function useGroupLastMessages(conversations: readonly ConversationSummary[] | null): ReadonlyMap<string, Message> {
  const api = useRefuge();
  const [last, setLast] = useState<ReadonlyMap<string, Message>>(new Map());
  /** conversation id -> the summary's last message the newest request was made for */
  const fetchedFor = useRef(new Map<string, string>());
  const alive = useMounted();

  useEffect(() => {
    for (const c of conversations ?? []) {
      if (c.kind !== 'group' || !c.lastMessage) continue;
      const s = stamp(c.lastMessage);
      if (fetchedFor.current.get(c.id) === s) continue;
      fetchedFor.current.set(c.id, s);
      api.messages
        .list({ conversationId: c.id, limit: 1 })
        .then((page) => {
          const m = page.messages[page.messages.length - 1];
          if (!alive.current || !m || fetchedFor.current.get(c.id) !== s) return;
          setLast((prev) => new Map(prev).set(c.id, m));
        })
        .catch(() => {
          // asked again with the next list
          if (fetchedFor.current.get(c.id) === s) fetchedFor.current.delete(c.id);
        });
    }
  }, [api, conversations]);

  return last;
}

function stamp(m: NonNullable<ConversationSummary['lastMessage']>): string {
  return `${m.sentAt}:${m.outgoing ? 1 : 0}:${m.status}:${m.text}`;
}
