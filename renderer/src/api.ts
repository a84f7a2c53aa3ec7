// Access to window.refuge (the IPC contract) for React components, and error display helpers.
import { createContext, useContext } from 'react';
import type { RefugeApi } from '../../shared/ipc/api.js';

export type { RefugeApi };
export type {
  AppStatus,
  ConversationSummary,
  Message,
  MessageStatus,
  Contact,
  Registration,
  ReplyRef,
  EnvelopeResult,
  GroupEvent,
} from '../../shared/ipc/contract.js';
export type { Group, GroupMember } from '../../shared/ipc/channels/groups.js';
export { MAX_GROUP_MEMBERS } from '../../shared/ipc/channels/groups.js';
export type { TypingState } from '../../shared/ipc/channels/presence.js';
export type { SearchResult } from '../../shared/ipc/channels/search.js';
export type { Settings } from '../../shared/ipc/channels/settings.js';
export { AUTO_LOCK_MINUTES } from '../../shared/ipc/channels/settings.js';

export const RefugeContext = createContext<RefugeApi | null>(null);

export function useRefuge(): RefugeApi {
  const api = useContext(RefugeContext);
  if (!api) throw new Error('RefugeContext is missing');
  return api;
}

/**
 * The preload defines window.refuge before any page script runs; a browser bridge may define it a
 * moment later (it may also dispatch a `refuge:ready` event). Wait a little before giving up.
 */
export function waitForRefuge(timeoutMs = 10_000): Promise<RefugeApi | null> {
  const present = () => (typeof window.refuge === 'object' && window.refuge !== null ? window.refuge : null);
  const now = present();
  if (now) return Promise.resolve(now);
  return new Promise((resolve) => {
    const started = Date.now();
    const check = () => {
      const api = present();
      if (api || Date.now() - started >= timeoutMs) {
        window.clearInterval(timer);
        window.removeEventListener('refuge:ready', check);
        resolve(api);
      }
    };
    const timer = window.setInterval(check, 50);
    window.addEventListener('refuge:ready', check);
  });
}

/** Errors from window.refuge reject with `{ code, message }`; the message is safe to show. */
export function errorCode(e: unknown): string | undefined {
  if (e && typeof e === 'object' && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return undefined;
}

export function errorMessage(e: unknown, fallback = 'Something went wrong.'): string {
  if (typeof e === 'string' && e.trim()) return e;
  if (e && typeof e === 'object' && 'message' in e) {
    const m = (e as { message: unknown }).message;
    if (typeof m === 'string' && m.trim()) return m;
  }
  return fallback;
}

/** Relay connection problems, whatever layer reported them. */
export function isUnreachable(e: unknown): boolean {
  const code = errorCode(e);
  return code === 'RELAY_UNREACHABLE' || code === 'RELAY_TIMEOUT';
}
