// `refuge`: the headless client. The same core and the same sync loop as the app.
// Passphrases come from the environment, never from argv (argv is visible to other users).
import path from 'node:path';
import { createApi, type RefugeApi } from '../../shared/ipc/api.js';
import { RefugeError, type Message } from '../../shared/ipc/contract.js';
import { canonicalUsername } from '../../shared/protocol/username.js';
import { addContact, coreFromApi, registerAccount, SyncEngine, flushOutbox } from '../../shared/sync/index.js';
import { Core } from '../core/service/core.js';
import { passphraseProtectorFactory } from '../core/service/protectors.js';
import { parseArgs, requireFlag, UsageError, type ParsedArgs } from './args.js';
import { BACKUP_USAGE, backupCommand } from './backup.js';
import { GROUP_USAGE, groupCommand, printGroupMessage } from './group.js';
import { SEARCH_USAGE, searchCommand } from './search.js';

const USAGE = `usage:
  refuge init --profile DIR --server URL --username NAME
  refuge add --profile DIR NAME
  refuge send --profile DIR --to NAME TEXT
  refuge sync --profile DIR [--json]
  refuge history --profile DIR --with NAME [--json]
  refuge safety-number --profile DIR --with NAME
${GROUP_USAGE}
${SEARCH_USAGE}
${BACKUP_USAGE}
The profile passphrase is read from REFUGE_PASSPHRASE.`;

interface Session {
  core: Core;
  api: RefugeApi;
  serverUrl: string;
}

function passphrase(): string {
  const value = process.env.REFUGE_PASSPHRASE;
  if (!value) throw new UsageError('set REFUGE_PASSPHRASE to the profile passphrase');
  return value;
}

async function openCore(args: ParsedArgs, defaultServerUrl = ''): Promise<Session> {
  const profileDir = path.resolve(requireFlag(args, 'profile'));
  const core = await Core.open({
    profileDir,
    defaultServerUrl,
    passphraseRequired: true,
    protector: passphraseProtectorFactory(),
  });
  const api = createApi((channel, request) => core.handle(channel, request));
  return { core, api, serverUrl: defaultServerUrl };
}

async function unlock(session: Session): Promise<Session> {
  const status = await session.api.vault.unlock({ passphrase: passphrase() });
  if (status.state === 'unregistered') throw new RefugeError('NOT_REGISTERED', 'This profile never finished registering; run `refuge init` again.');
  if (!status.serverUrl) throw new RefugeError('NO_SERVER', 'This profile has no relay configured.');
  return { ...session, serverUrl: status.serverUrl };
}

function printMessage(message: Message, json: boolean): void {
  const from = message.outgoing ? 'me' : message.sender;
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ id: message.id, from, text: message.text, sentAt: message.sentAt, status: message.status })}\n`,
    );
  } else {
    process.stdout.write(`[${new Date(message.sentAt).toISOString()}] ${from}: ${message.text}\n`);
  }
}

async function findConversation(api: RefugeApi, peer: string): Promise<string> {
  const name = canonicalUsername(peer);
  const conversation = (await api.conversations.list({})).find((c) => c.peer === name);
  if (!conversation) throw new RefugeError('UNKNOWN_CONTACT', `${name} is not among your contacts; run \`refuge add\` first.`);
  return conversation.id;
}

const commands: Record<string, (args: ParsedArgs) => Promise<void>> = {
  backup: backupCommand, // export, import, sessions: main/cli/backup.ts
  group: groupCommand, // create, send, add, remove, leave, rename, list, history: main/cli/group.ts
  search: searchCommand, // full-text search of the local history: main/cli/search.ts
  async init(args) {
    const serverUrl = requireFlag(args, 'server');
    const username = requireFlag(args, 'username');
    const session = await openCore(args, serverUrl);
    try {
      const status = await session.api.app.status({});
      if (status.state !== 'no-account') await session.api.vault.unlock({ passphrase: passphrase() });
      const registration = await session.api.account.create({ username, serverUrl, passphrase: passphrase() });
      await registerAccount(session.api, serverUrl, registration);
      process.stdout.write(`Registered ${registration.username} on ${serverUrl}\n`);
    } finally {
      session.core.close();
    }
  },

  async add(args) {
    const name = args.positionals[0];
    if (!name) throw new UsageError('name the user to add: refuge add --profile DIR NAME');
    const session = await unlock(await openCore(args));
    try {
      const { contact } = await addContact(session.api, session.serverUrl, name);
      process.stdout.write(`Added ${contact.username}\n`);
    } finally {
      session.core.close();
    }
  },

  async send(args) {
    const to = requireFlag(args, 'to');
    const text = args.positionals.join(' ');
    if (!text) throw new UsageError('give the message text: refuge send --profile DIR --to NAME TEXT');
    const session = await unlock(await openCore(args));
    try {
      const conversationId = await findConversation(session.api, to);
      const message = await session.api.messages.send({ conversationId, text });
      await flushOutbox(session.api, session.serverUrl);
      process.stdout.write(`Sent to ${canonicalUsername(to)} (${message.id})\n`);
    } finally {
      session.core.close();
    }
  },

  async sync(args) {
    const json = args.flags.get('json') === true;
    const session = await unlock(await openCore(args));
    const engine = new SyncEngine({ serverUrl: session.serverUrl, core: coreFromApi(session.api) });
    // Group messages print with their group id (conversations.list says which conversations are groups).
    const groupIds = new Map<string, string | undefined>();
    const groupOf = async (conversationId: string) => {
      if (!groupIds.has(conversationId)) for (const c of await session.api.conversations.list({})) groupIds.set(c.id, c.groupId);
      return groupIds.get(conversationId);
    };
    let printing = Promise.resolve();
    engine.on('received', (results) => {
      const messages = results.flatMap((r) => (r.message ? [r.message] : []));
      printing = printing.then(async () => {
        for (const message of messages) {
          const group = await groupOf(message.conversationId);
          if (group) printGroupMessage(message, json, group);
          else printMessage(message, json);
        }
      });
    });
    try {
      await engine.drain();
    } finally {
      await printing.catch(() => undefined);
      engine.stop();
      session.core.close();
    }
  },

  async history(args) {
    const json = args.flags.get('json') === true;
    const session = await unlock(await openCore(args));
    try {
      const conversationId = await findConversation(session.api, requireFlag(args, 'with'));
      const pages: Message[][] = [];
      let before: string | undefined;
      for (;;) {
        const page = await session.api.messages.list({ conversationId, before, limit: 500 });
        pages.unshift(page.messages);
        const oldest = page.messages[0];
        if (!page.hasMore || !oldest) break;
        before = oldest.id;
      }
      for (const message of pages.flat()) printMessage(message, json);
    } finally {
      session.core.close();
    }
  },

  async 'safety-number'(args) {
    const session = await unlock(await openCore(args));
    try {
      const { username, digits } = await session.api.contacts.safetyNumber({ username: requireFlag(args, 'with') });
      const groups = digits.match(/\d{5}/g) ?? [];
      process.stdout.write(`Safety number with ${username}:\n${groups.slice(0, 6).join(' ')}\n${groups.slice(6).join(' ')}\n`);
    } finally {
      session.core.close();
    }
  },
};

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return command ? 0 : 2;
  }
  const run = commands[command];
  try {
    if (!run) throw new UsageError(`unknown command "${command}"`);
    await run(parseArgs(rest));
    return 0;
  } catch (error) {
    const message =
      error instanceof UsageError
        ? `${error.message}\n${USAGE}`
        : error instanceof RefugeError
          ? `${error.message} (${error.code})`
          : 'unexpected failure';
    process.stderr.write(`refuge: ${message}\n`);
    return error instanceof UsageError ? 2 : 1;
  }
}
