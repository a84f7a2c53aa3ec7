// `refuge group ...`: end-to-end encrypted groups from the command line, through the same core
// channels as the app (groups.*) and the same relay flows (ensureSessions, flushOutbox).
// Like `refuge send`, these commands do not receive first: run `refuge sync` to learn of
// membership changes before sending.
import path from 'node:path';
import { createApi, type RefugeApi } from '../../shared/ipc/api.js';
import { RefugeError, type Message } from '../../shared/ipc/contract.js';
import type { Group } from '../../shared/ipc/channels/groups.js';
import { ensureSessions, flushOutbox } from '../../shared/sync/index.js';
import { Core } from '../core/service/core.js';
import { passphraseProtectorFactory } from '../core/service/protectors.js';
import { requireFlag, UsageError, type ParsedArgs } from './args.js';

export const GROUP_USAGE = `  refuge group create --profile DIR --name NAME MEMBER...   (prints the group id)
  refuge group send --profile DIR --group ID TEXT
  refuge group add|remove --profile DIR --group ID MEMBER
  refuge group leave --profile DIR --group ID
  refuge group rename --profile DIR --group ID NAME
  refuge group list --profile DIR [--json]
  refuge group history --profile DIR --group ID [--json]`;

interface Session {
  core: Core;
  api: RefugeApi;
  serverUrl: string;
}

async function unlocked(args: ParsedArgs): Promise<Session> {
  const passphrase = process.env.REFUGE_PASSPHRASE;
  if (!passphrase) throw new UsageError('set REFUGE_PASSPHRASE to the profile passphrase');
  const profileDir = path.resolve(requireFlag(args, 'profile'));
  const core = await Core.open({ profileDir, defaultServerUrl: '', passphraseRequired: true, protector: passphraseProtectorFactory() });
  const api = createApi((channel, request) => core.handle(channel, request));
  try {
    const status = await api.vault.unlock({ passphrase });
    if (status.state === 'unregistered') throw new RefugeError('NOT_REGISTERED', 'This profile never finished registering; run `refuge init` again.');
    if (!status.serverUrl) throw new RefugeError('NO_SERVER', 'This profile has no relay configured.');
    return { core, api, serverUrl: status.serverUrl };
  } catch (error) {
    core.close();
    throw error;
  }
}

/** Opens sessions with whoever lacks one; refuses (naming them) if any cannot be reached. */
async function sessionsFor(session: Session, target: { usernames?: string[]; groupId?: string }, strict: boolean): Promise<void> {
  const { failed } = await ensureSessions(session.api, session.serverUrl, target);
  if (failed.length > 0 && strict) {
    throw new RefugeError(failed[0]?.code ?? 'NO_SESSION', `cannot reach ${failed.map((f) => `${f.username} (${f.code})`).join(', ')}`);
  }
  for (const f of failed) process.stderr.write(`refuge: skipping ${f.username} (${f.code})\n`);
}

function groupLine(g: Group): string {
  const members = g.members.map((m) => `${m.username}${m.admin ? '*' : ''}`).join(', ');
  return `${g.groupId}  ${g.name}  (${g.members.length} members: ${members})${g.member ? '' : '  [not a member]'}`;
}

/** A message line; the same JSON shape as `refuge sync` (with `group`). */
export function printGroupMessage(message: Message, json: boolean, groupId: string): void {
  const from = message.outgoing ? 'me' : message.sender;
  if (json) {
    const line = { id: message.id, from, text: message.text, sentAt: message.sentAt, status: message.status, group: groupId, ...(message.system ? { system: message.system } : {}) };
    process.stdout.write(`${JSON.stringify(line)}\n`);
  } else {
    process.stdout.write(`[${new Date(message.sentAt).toISOString()}] #${groupId} ${message.system ? `* ${message.text}` : `${from}: ${message.text}`}\n`);
  }
}

const subcommands: Record<string, (args: ParsedArgs, session: Session) => Promise<void>> = {
  async create(args, session) {
    const name = requireFlag(args, 'name');
    const members = args.positionals.slice(1);
    if (members.length === 0) throw new UsageError('name at least one member: refuge group create --profile DIR --name NAME MEMBER...');
    await sessionsFor(session, { usernames: members }, true);
    const { groupId } = await session.api.groups.create({ name, members });
    await flushOutbox(session.api, session.serverUrl);
    process.stdout.write(`${groupId}\n`);
  },

  async send(args, session) {
    const groupId = requireFlag(args, 'group');
    const text = args.positionals.slice(1).join(' ');
    if (!text) throw new UsageError('give the message text: refuge group send --profile DIR --group ID TEXT');
    await sessionsFor(session, { groupId }, false);
    const message = await session.api.groups.send({ groupId, text });
    await flushOutbox(session.api, session.serverUrl);
    process.stdout.write(`Sent to group ${groupId} (${message.id})\n`);
  },

  async add(args, session) {
    const groupId = requireFlag(args, 'group');
    const member = args.positionals[1];
    if (!member) throw new UsageError('name the member: refuge group add --profile DIR --group ID MEMBER');
    await sessionsFor(session, { usernames: [member] }, true);
    const group = await session.api.groups.add({ groupId, username: member });
    await flushOutbox(session.api, session.serverUrl);
    process.stdout.write(`${groupLine(group)}\n`);
  },

  async remove(args, session) {
    const groupId = requireFlag(args, 'group');
    const member = args.positionals[1];
    if (!member) throw new UsageError('name the member: refuge group remove --profile DIR --group ID MEMBER');
    const group = await session.api.groups.remove({ groupId, username: member });
    await flushOutbox(session.api, session.serverUrl);
    process.stdout.write(`${groupLine(group)}\n`);
  },

  async leave(args, session) {
    const group = await session.api.groups.leave({ groupId: requireFlag(args, 'group') });
    await flushOutbox(session.api, session.serverUrl);
    process.stdout.write(`${groupLine(group)}\n`);
  },

  async rename(args, session) {
    const name = args.positionals.slice(1).join(' ');
    if (!name) throw new UsageError('give the new name: refuge group rename --profile DIR --group ID NAME');
    const group = await session.api.groups.rename({ groupId: requireFlag(args, 'group'), name });
    await flushOutbox(session.api, session.serverUrl);
    process.stdout.write(`${groupLine(group)}\n`);
  },

  async list(args, session) {
    const groups = await session.api.groups.list({});
    if (args.flags.get('json') === true) process.stdout.write(`${JSON.stringify(groups)}\n`);
    else for (const g of groups) process.stdout.write(`${groupLine(g)}\n`);
  },

  async history(args, session) {
    const json = args.flags.get('json') === true;
    const group = await session.api.groups.info({ groupId: requireFlag(args, 'group') });
    const pages: Message[][] = [];
    let before: string | undefined;
    for (;;) {
      const page = await session.api.messages.list({ conversationId: group.conversationId, before, limit: 500 });
      pages.unshift(page.messages);
      const oldest = page.messages[0];
      if (!page.hasMore || !oldest) break;
      before = oldest.id;
    }
    for (const message of pages.flat()) printGroupMessage(message, json, group.groupId);
  },
};

/** `refuge group SUBCOMMAND ...` (registered in index.ts). */
export async function groupCommand(args: ParsedArgs): Promise<void> {
  const name = args.positionals[0];
  const run = name === undefined ? undefined : subcommands[name];
  if (!run) throw new UsageError(`refuge group: ${name === undefined ? 'missing' : `unknown`} subcommand\n${GROUP_USAGE}`);
  const session = await unlocked(args);
  try {
    await run(args, session);
  } finally {
    session.core.close();
  }
}
