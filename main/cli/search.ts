// `refuge search --profile DIR [--with NAME] [--limit N] [--json] QUERY...`: full-text search of
// the local history through the same core channel as the app (search.query).
import path from 'node:path';
import { createApi, type RefugeApi } from '../../shared/ipc/api.js';
import { RefugeError } from '../../shared/ipc/contract.js';
import type { SearchResult } from '../../shared/ipc/channels/search.js';
import { canonicalUsername } from '../../shared/protocol/username.js';
import { Core } from '../core/service/core.js';
import { passphraseProtectorFactory } from '../core/service/protectors.js';
import { requireFlag, UsageError, type ParsedArgs } from './args.js';

export const SEARCH_USAGE = '  refuge search --profile DIR [--with NAME] [--limit N] [--json] QUERY';

const BOLD = '\u001b[1m';
const PLAIN = '\u001b[22m';

/** One result as a JSON line: messageId, conversationId, peer, from, sentAt, snippet, highlights. */
export function resultLine(result: SearchResult): string {
  return JSON.stringify({
    messageId: result.messageId,
    conversationId: result.conversationId,
    peer: result.peer,
    from: result.outgoing ? 'me' : result.sender,
    sentAt: result.sentAt,
    snippet: result.snippet.text,
    highlights: result.snippet.highlights,
  });
}

/** One result for a person: time, conversation, sender, snippet (matches in bold on a terminal). */
export function humanLine(result: SearchResult, emphasize: boolean): string {
  const { text, highlights } = result.snippet;
  let out = '';
  let at = 0;
  for (const [start, end] of highlights) {
    out += text.slice(at, start) + (emphasize ? `${BOLD}${text.slice(start, end)}${PLAIN}` : text.slice(start, end));
    at = end;
  }
  out += text.slice(at);
  const from = result.outgoing ? 'me' : result.sender;
  // Control characters from a message must not drive the terminal; newlines fold to spaces.
  const safe = out.replace(/[\r\n\t]+/gu, ' ').replace(/[\u0000-\u0008\u000b-\u001a\u001c-\u001f\u007f]/gu, '');
  return `[${new Date(result.sentAt).toISOString()}] ${result.peer} · ${from}: ${safe}`;
}

async function conversationWith(api: RefugeApi, name: string): Promise<string> {
  const peer = canonicalUsername(name);
  const conversation = (await api.conversations.list({})).find((c) => c.peer === peer);
  if (!conversation) throw new RefugeError('UNKNOWN_CONTACT', `${peer} is not among your contacts.`);
  return conversation.id;
}

export async function searchCommand(args: ParsedArgs): Promise<void> {
  const query = args.positionals.join(' ').trim();
  if (!query) throw new UsageError('give the words to search for: refuge search --profile DIR QUERY');
  if (query.length > 200) throw new UsageError('the query is longer than 200 characters');
  const limitFlag = args.flags.get('limit');
  const limit = typeof limitFlag === 'string' ? Number(limitFlag) : 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new UsageError('--limit must be 1..100');
  const passphrase = process.env.REFUGE_PASSPHRASE;
  if (!passphrase) throw new UsageError('set REFUGE_PASSPHRASE to the profile passphrase');
  const json = args.flags.get('json') === true;

  const profileDir = path.resolve(requireFlag(args, 'profile'));
  const core = await Core.open({ profileDir, defaultServerUrl: '', passphraseRequired: true, protector: passphraseProtectorFactory() });
  const api = createApi((channel, request) => core.handle(channel, request));
  try {
    await api.vault.unlock({ passphrase });
    const withName = args.flags.get('with');
    const conversationId = typeof withName === 'string' ? await conversationWith(api, withName) : undefined;
    const { results } = await api.search.query({ query, limit, ...(conversationId ? { conversationId } : {}) });
    const emphasize = !json && process.stdout.isTTY === true;
    for (const result of results) process.stdout.write(`${json ? resultLine(result) : humanLine(result, emphasize)}\n`);
  } finally {
    core.close();
  }
}
