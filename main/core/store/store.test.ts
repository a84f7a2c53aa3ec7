import { join } from 'node:path';
import Database from '@signalapp/sqlcipher';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DB_FILE, openStore, Store, StoreError, type MessageRow } from './index.js';
import { randomKey, tempProfile } from './test-helpers.js';

let profile: ReturnType<typeof tempProfile>;
let key: Uint8Array;
let store: Store;

beforeEach(() => {
  profile = tempProfile();
  key = randomKey();
  store = openStore(profile.dir, key);
});
afterEach(() => {
  store.close();
  profile.cleanup();
});

function reopen(): void {
  store.close();
  store = openStore(profile.dir, key);
}

const bytes = (...values: number[]) => new Uint8Array(values);

function message(conversationId: string, id: string, sentAt: number, extra: Partial<MessageRow> = {}): MessageRow {
  return { id, conversationId, sender: 'me', outgoing: true, text: `text ${id}`, sentAt, receivedAt: null, status: 'sending', ...extra };
}

function expectStoreError(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(StoreError);
  expect((caught as StoreError).code).toBe(code);
}

describe('account', () => {
  it('round-trips and updates the single row', () => {
    expect(store.getAccount()).toBeUndefined();
    const account = {
      username: 'alice',
      deviceId: 1,
      serverUrl: 'http://127.0.0.1:8787',
      identity: bytes(1, 2, 3, 255),
      registered: false,
      createdAt: 1_700_000_000_000,
      nextPrekeyId: 101,
    };
    store.saveAccount(account);
    reopen();
    expect(store.getAccount()).toEqual(account);
    store.saveAccount({ ...account, registered: true, nextPrekeyId: 201 });
    expect(store.getAccount()).toEqual({ ...account, registered: true, nextPrekeyId: 201 });
  });

  it('returns plain Uint8Array views for blobs and accepts subarrays', () => {
    const backing = bytes(9, 9, 1, 2, 3, 9);
    store.saveAccount({ username: 'a', deviceId: 1, serverUrl: 's', identity: backing.subarray(2, 5), registered: true, createdAt: 1, nextPrekeyId: 1 });
    const identity = store.getAccount()?.identity;
    expect(identity?.constructor).toBe(Uint8Array);
    expect(identity).toEqual(bytes(1, 2, 3));
  });
});

describe('prekeys', () => {
  it('put, get, count, delete per kind', () => {
    store.putPrekeys('onetime', [
      { id: 1, record: bytes(1) },
      { id: 2, record: bytes(2) },
    ]);
    store.putPrekeys('signed', [{ id: 1, record: bytes(10) }]);
    store.putPrekeys('kyber', [
      { id: 1, record: bytes(20), lastResort: true },
      { id: 2, record: bytes(21) },
    ]);
    expect(store.getPrekey('onetime', 2)).toEqual(bytes(2));
    expect(store.getPrekey('signed', 1)).toEqual(bytes(10));
    expect(store.getPrekey('signed', 2)).toBeUndefined();
    expect(store.countPrekeys('onetime')).toBe(2);
    expect(store.countPrekeys('kyber')).toBe(2);
    expect(store.getPrekeyRow('kyber', 1)).toEqual({ id: 1, record: bytes(20), lastResort: true });
    expect(store.listPrekeyIds('onetime')).toEqual([1, 2]);

    store.deletePrekey('onetime', 1);
    expect(store.getPrekey('onetime', 1)).toBeUndefined();
    expect(store.countPrekeys('onetime')).toBe(1);

    // a last-resort prekey survives consumption, and goes only when asked (rotation)
    store.deletePrekey('kyber', 1);
    expect(store.getPrekey('kyber', 1)).toEqual(bytes(20));
    store.deletePrekey('kyber', 2);
    expect(store.getPrekey('kyber', 2)).toBeUndefined();
    store.deletePrekey('kyber', 1, { includeLastResort: true });
    expect(store.countPrekeys('kyber')).toBe(0);

    // replace an existing id
    store.putPrekeys('signed', [{ id: 1, record: bytes(11) }]);
    expect(store.getPrekey('signed', 1)).toEqual(bytes(11));
  });

  it('refuses an unknown kind', () => {
    // @ts-expect-error: testing a bad value from outside the type system
    expectStoreError(() => store.countPrekeys('bogus'), 'INVALID_ARGUMENT');
  });
});

describe('contacts', () => {
  it('upsert keeps addedAt, updates key and verification; list is by username', () => {
    store.upsertContact({ username: 'bob', identityKey: bytes(1), verified: false, addedAt: 100 });
    store.upsertContact({ username: 'anna', identityKey: bytes(2), verified: true, addedAt: 200 });
    expect(store.getContact('bob')).toEqual({ username: 'bob', identityKey: bytes(1), verified: false, addedAt: 100 });
    store.upsertContact({ username: 'bob', identityKey: bytes(3), verified: true, addedAt: 999 });
    expect(store.getContact('bob')).toEqual({ username: 'bob', identityKey: bytes(3), verified: true, addedAt: 100 });
    expect(store.getContact('nobody')).toBeUndefined();
    expect(store.listContacts().map((c) => c.username)).toEqual(['anna', 'bob']);
  });
});

describe('sessions', () => {
  it('keyed by (username, deviceId)', () => {
    expect(store.getSession('bob', 1)).toBeUndefined();
    store.putSession('bob', 2, bytes(2));
    store.putSession('bob', 1, bytes(1));
    store.putSession('carol', 1, bytes(7));
    store.putSession('bob', 1, bytes(1, 1));
    expect(store.getSession('bob', 1)).toEqual(bytes(1, 1));
    expect(store.listSessionDevices('bob')).toEqual([1, 2]);
    expect(store.listSessionDevices('dave')).toEqual([]);
    store.deleteSession('bob', 2);
    expect(store.listSessionDevices('bob')).toEqual([1]);
  });

  it('stores large records', () => {
    const big = new Uint8Array(200_000).map((_, i) => i & 0xff);
    store.putSession('bob', 1, big);
    expect(Buffer.from(store.getSession('bob', 1) ?? []).equals(big)).toBe(true);
  });
});

describe('conversations and messages', () => {
  it('getOrCreateDirectConversation is idempotent per peer with a random id', () => {
    const a = store.getOrCreateDirectConversation('bob', 1000);
    expect(a).toEqual({ id: a.id, kind: 'direct', peer: 'bob', createdAt: 1000, updatedAt: 1000, unreadCount: 0 });
    expect(a.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(store.getOrCreateDirectConversation('bob', 5000)).toEqual(a);
    const c = store.getOrCreateDirectConversation('carol', 2000);
    expect(c.id).not.toBe(a.id);
    expect(store.getConversation(a.id)).toEqual(a);
    expect(store.getConversation('nope')).toBeUndefined();
  });

  it('insertMessage dedupes by id, bumps updatedAt and unread for incoming', () => {
    const conv = store.getOrCreateDirectConversation('bob', 1000);
    const incoming = message(conv.id, 'm1', 2000, { sender: 'bob', outgoing: false, receivedAt: 2500, status: 'received', text: '안녕 👋' });
    expect(store.insertMessage(incoming)).toBe(true);
    expect(store.insertMessage({ ...incoming, text: 'changed' })).toBe(false);
    expect(store.getMessage('m1')).toEqual(incoming);
    expect(store.getConversation(conv.id)).toMatchObject({ updatedAt: 2500, unreadCount: 1 });

    expect(store.insertMessage(message(conv.id, 'm2', 3000))).toBe(true);
    expect(store.getConversation(conv.id)).toMatchObject({ updatedAt: 3000, unreadCount: 1 });
    // an older message (late delivery) does not move updatedAt backwards
    expect(store.insertMessage(message(conv.id, 'm0', 10, { sender: 'bob', outgoing: false, receivedAt: 20, status: 'received' }))).toBe(true);
    expect(store.getConversation(conv.id)).toMatchObject({ updatedAt: 3000, unreadCount: 2 });

    store.markConversationRead(conv.id);
    expect(store.getConversation(conv.id)?.unreadCount).toBe(0);
    expect(store.getMessage('missing')).toBeUndefined();
  });

  it('insertMessage into an unknown conversation: NOT_FOUND, nothing written', () => {
    expectStoreError(() => store.insertMessage(message('no-such-conversation', 'x', 1)), 'NOT_FOUND');
    expect(store.getMessage('x')).toBeUndefined();
  });

  it('listConversationSummaries: most recent activity first, with the newest message', () => {
    const bob = store.getOrCreateDirectConversation('bob', 1000);
    const carol = store.getOrCreateDirectConversation('carol', 2000);
    const dave = store.getOrCreateDirectConversation('dave', 500);
    store.insertMessage(message(bob.id, 'b1', 3000));
    store.insertMessage(message(bob.id, 'b2', 4000, { text: 'latest to bob' }));
    store.insertMessage(message(carol.id, 'c1', 3500, { sender: 'carol', outgoing: false, receivedAt: 3600, status: 'received' }));
    const summaries = store.listConversationSummaries();
    expect(summaries.map((s) => s.conversation.peer)).toEqual(['bob', 'carol', 'dave']);
    expect(summaries[0]?.lastMessage).toMatchObject({ id: 'b2', text: 'latest to bob' });
    expect(summaries[1]?.lastMessage?.id).toBe('c1');
    expect(summaries[1]?.conversation.unreadCount).toBe(1);
    expect(summaries[2]?.lastMessage).toBeNull();
    expect(summaries[2]?.conversation.id).toBe(dave.id);
  });

  it('updateMessageStatus moves forward only, and only outgoing messages', () => {
    const conv = store.getOrCreateDirectConversation('bob', 1);
    store.insertMessage(message(conv.id, 'a', 1));
    store.insertMessage(message(conv.id, 'b', 2));
    store.insertMessage(message(conv.id, 'in', 3, { sender: 'bob', outgoing: false, receivedAt: 3, status: 'received' }));
    const status = (id: string) => store.getMessage(id)?.status;

    store.updateMessageStatus(['a', 'b', 'in', 'unknown'], 'sent');
    expect([status('a'), status('b'), status('in')]).toEqual(['sent', 'sent', 'received']);
    store.updateMessageStatus(['a'], 'delivered');
    store.updateMessageStatus(['a', 'b'], 'sent'); // a late "sent" never downgrades delivered
    expect([status('a'), status('b')]).toEqual(['delivered', 'sent']);
    store.updateMessageStatus(['a', 'b'], 'failed'); // only from sending
    expect([status('a'), status('b')]).toEqual(['delivered', 'sent']);
    store.updateMessageStatus(['a', 'b', 'in'], 'sending');
    expect([status('a'), status('b'), status('in')]).toEqual(['delivered', 'sent', 'received']);

    store.insertMessage(message(conv.id, 'c', 4));
    store.updateMessageStatus(['c'], 'failed');
    expect(status('c')).toBe('failed');
    store.updateMessageStatus(['c'], 'sending'); // retry
    expect(status('c')).toBe('sending');
    store.updateMessageStatus([], 'sent');
    // @ts-expect-error: 'received' is not settable
    expectStoreError(() => store.updateMessageStatus(['c'], 'received'), 'INVALID_ARGUMENT');
  });

  it('paging: newest page first (oldest first within it), older pages with before', () => {
    const conv = store.getOrCreateDirectConversation('bob', 0);
    const other = store.getOrCreateDirectConversation('carol', 0);
    // 25 messages; m14, m15 and m16 share a timestamp across the first page boundary (m15),
    // so the tie-break (insertion order) matters.
    const ids: string[] = [];
    store.transaction(() => {
      for (let i = 0; i < 25; i++) {
        const id = `m${String(i).padStart(2, '0')}`;
        ids.push(id);
        store.insertMessage(message(conv.id, id, i === 15 || i === 16 ? 1000 * 14 : 1000 * i));
        store.insertMessage(message(other.id, `o${i}`, 1000 * i + 1));
      }
    });
    const first = store.listMessages(conv.id, { limit: 10 });
    expect(first.messages.map((m) => m.id)).toEqual(ids.slice(15, 25));
    expect(first.hasMore).toBe(true);
    const second = store.listMessages(conv.id, { before: first.messages[0]?.id, limit: 10 });
    expect(second.messages.map((m) => m.id)).toEqual(ids.slice(5, 15));
    expect(second.hasMore).toBe(true);
    const third = store.listMessages(conv.id, { before: second.messages[0]?.id, limit: 10 });
    expect(third.messages.map((m) => m.id)).toEqual(ids.slice(0, 5));
    expect(third.hasMore).toBe(false);

    const exact = store.listMessages(conv.id, { limit: 25 });
    expect(exact.messages).toHaveLength(25);
    expect(exact.hasMore).toBe(false);
    expect(store.listMessages('empty', { limit: 5 })).toEqual({ messages: [], hasMore: false });

    // the anchor must belong to the conversation
    expectStoreError(() => store.listMessages(conv.id, { before: 'o3', limit: 5 }), 'NOT_FOUND');
    expectStoreError(() => store.listMessages(conv.id, { limit: 0 }), 'INVALID_ARGUMENT');
  });

  it('paging uses the (conversation_id, sent_at) index, without a temp b-tree sort', () => {
    const plans = planOf(profile.dir, key, [
      `SELECT id FROM messages WHERE conversation_id = 'x' ORDER BY sent_at DESC, seq DESC LIMIT 51`,
      `SELECT id FROM messages WHERE conversation_id = 'x' AND (sent_at, seq) < (5, 5) ORDER BY sent_at DESC, seq DESC LIMIT 51`,
    ]);
    for (const plan of plans) {
      if (process.env['SHOW_PLANS']) console.log(plan);
      expect(plan).toContain('messages_by_conversation');
      expect(plan).not.toContain('TEMP B-TREE');
    }
  });
});

describe('outbox', () => {
  it('enqueue, list oldest first, remove returns fully-sent message ids', () => {
    const conv = store.getOrCreateDirectConversation('bob', 0);
    store.insertMessage(message(conv.id, 'msg1', 1));
    store.insertMessage(message(conv.id, 'msg2', 2));
    store.enqueueOutbox([
      { envelopeId: 'e1', messageId: 'msg1', to: 'bob', toDeviceId: 1, body: 'AAAA', createdAt: 10 },
      { envelopeId: 'e2', messageId: 'msg1', to: 'bob', toDeviceId: 2, body: 'BBBB', createdAt: 10 },
    ]);
    store.enqueueOutbox([
      { envelopeId: 'e3', messageId: 'msg2', to: 'bob', toDeviceId: 1, body: 'CCCC', createdAt: 5 },
      { envelopeId: 'e4', messageId: null, to: 'bob', toDeviceId: 1, body: 'DDDD', createdAt: 11 },
    ]);
    const all = store.listOutbox(10);
    expect(all.map((r) => r.envelopeId)).toEqual(['e1', 'e2', 'e3', 'e4']); // enqueue order
    expect(all[0]).toEqual({ envelopeId: 'e1', messageId: 'msg1', to: 'bob', toDeviceId: 1, body: 'AAAA', createdAt: 10 });
    expect(all[3]?.messageId).toBeNull();
    expect(store.listOutbox(2).map((r) => r.envelopeId)).toEqual(['e1', 'e2']);

    // msg1 still has e2 queued: not reported yet
    expect(store.removeOutbox(['e1', 'e3', 'e4', 'unknown'])).toEqual(['msg2']);
    expect(store.removeOutbox(['e2'])).toEqual(['msg1']);
    expect(store.removeOutbox(['e2'])).toEqual([]);
    expect(store.removeOutbox([])).toEqual([]);
    expect(store.listOutbox(10)).toEqual([]);
  });
});

describe('processed envelopes', () => {
  it('remembers ids, idempotently, and prunes old ones', () => {
    expect(store.hasProcessedEnvelope('env-1')).toBe(false);
    store.markEnvelopeProcessed('env-1', 100);
    store.markEnvelopeProcessed('env-1', 100);
    store.markEnvelopeProcessed('env-2', 300);
    expect(store.hasProcessedEnvelope('env-1')).toBe(true);
    expect(store.pruneProcessedEnvelopes(200)).toBe(1);
    expect(store.hasProcessedEnvelope('env-1')).toBe(false);
    expect(store.hasProcessedEnvelope('env-2')).toBe(true);
  });

  it('tells which of a batch of ids were processed, in one call', () => {
    store.markEnvelopeProcessed('env-1', 100);
    store.markEnvelopeProcessed('env-3', 100);
    expect(store.processedEnvelopeIds(['env-1', 'env-2', 'env-3', 'env-1'])).toEqual(new Set(['env-1', 'env-3']));
    expect(store.processedEnvelopeIds(['env-9'])).toEqual(new Set());
    expect(store.processedEnvelopeIds([])).toEqual(new Set());
    // one index probe per id, never a scan of the (up to 8 days of envelopes) table
    const [plan] = planOf(profile.dir, key, [`SELECT p.id FROM json_each('["a"]') AS j JOIN processed_envelopes p ON p.id = j.value`]);
    expect(plan).toContain('SEARCH p USING PRIMARY KEY');
    expect(plan).not.toContain('SCAN p');
  });
});

describe('transactions', () => {
  it('a throwing transaction leaves nothing half-written', () => {
    const conv = store.getOrCreateDirectConversation('bob', 0);
    expect(() =>
      store.transaction(() => {
        store.insertMessage(message(conv.id, 'half', 1));
        store.enqueueOutbox([{ envelopeId: 'env-half', messageId: 'half', to: 'bob', toDeviceId: 1, body: 'AA', createdAt: 1 }]);
        store.putSession('bob', 1, bytes(1));
        throw new Error('encrypt failed');
      }),
    ).toThrow('encrypt failed');
    reopen();
    expect(store.getMessage('half')).toBeUndefined();
    expect(store.listOutbox(10)).toEqual([]);
    expect(store.getSession('bob', 1)).toBeUndefined();
    expect(store.getConversation(conv.id)?.updatedAt).toBe(0);
  });

  it('a failing statement mid-batch rolls back the whole batch', () => {
    expect(() =>
      store.enqueueOutbox([
        { envelopeId: 'dup', messageId: null, to: 'bob', toDeviceId: 1, body: 'AA', createdAt: 1 },
        { envelopeId: 'dup', messageId: null, to: 'bob', toDeviceId: 1, body: 'AA', createdAt: 1 },
      ]),
    ).toThrow();
    expect(store.listOutbox(10)).toEqual([]);
  });

  it('nested calls join the outer transaction; the outer rollback undoes them', () => {
    expect(() =>
      store.transaction(() => {
        store.transaction(() => store.putSession('bob', 1, bytes(1)));
        store.putPrekeys('onetime', [{ id: 1, record: bytes(1) }]); // itself a nested transaction
        throw new Error('later failure');
      }),
    ).toThrow('later failure');
    expect(store.getSession('bob', 1)).toBeUndefined();
    expect(store.countPrekeys('onetime')).toBe(0);
  });

  it('an inner failure caught by the outer function undoes only the inner writes', () => {
    const result = store.transaction(() => {
      store.putSession('bob', 1, bytes(1));
      try {
        store.transaction(() => {
          store.putSession('bob', 2, bytes(2));
          throw new Error('inner');
        });
      } catch {
        // handled
      }
      return 'done';
    });
    expect(result).toBe('done');
    expect(store.listSessionDevices('bob')).toEqual([1]);
  });

  it('a write that joined without a savepoint and failed half-way cannot commit, even if its error was caught', () => {
    const conv = store.getOrCreateDirectConversation('bob', 0);
    expectStoreError(
      () =>
        store.transaction(() => {
          store.insertMessage(message(conv.id, 'kept-back', 1));
          try {
            // the first row is written, the second collides: a half-done enqueue
            store.enqueueOutbox([
              { envelopeId: 'dup', messageId: null, to: 'bob', toDeviceId: 1, body: 'AA', createdAt: 1 },
              { envelopeId: 'dup', messageId: null, to: 'bob', toDeviceId: 1, body: 'AA', createdAt: 1 },
            ]);
          } catch {
            // swallowed on purpose: the transaction must still refuse to commit
          }
        }),
      'WRITE_FAILED',
    );
    reopen();
    expect(store.listOutbox(10)).toEqual([]);
    expect(store.getMessage('kept-back')).toBeUndefined();
    // the store is usable again
    expect(store.insertMessage(message(conv.id, 'after', 2))).toBe(true);
    expect(store.getMessage('after')?.text).toBe('text after');
  });

  it('a half-done joined write inside a savepoint rolls back only that savepoint', () => {
    const conv = store.getOrCreateDirectConversation('bob', 0);
    store.transaction(() => {
      store.insertMessage(message(conv.id, 'outer', 1));
      try {
        store.transaction(() => {
          store.putSession('bob', 2, bytes(2));
          try {
            store.enqueueOutbox([
              { envelopeId: 'dup', messageId: null, to: 'bob', toDeviceId: 1, body: 'AA', createdAt: 1 },
              { envelopeId: 'dup', messageId: null, to: 'bob', toDeviceId: 1, body: 'AA', createdAt: 1 },
            ]);
          } catch {
            // swallowed: the savepoint still refuses to release
          }
        });
      } catch (error) {
        expect((error as StoreError).code).toBe('WRITE_FAILED');
      }
      // a later savepoint is unaffected
      store.transaction(() => store.putSession('bob', 3, bytes(3)));
    });
    reopen();
    expect(store.getMessage('outer')?.text).toBe('text outer');
    expect(store.listOutbox(10)).toEqual([]);
    expect(store.listSessionDevices('bob')).toEqual([3]);
  });

  it('refuses async callbacks and rolls them back', () => {
    expectStoreError(
      () =>
        store.transaction(async () => {
          store.putSession('bob', 9, bytes(9));
        }),
      'INVALID_ARGUMENT',
    );
    expect(store.getSession('bob', 9)).toBeUndefined();
    // the store is still usable
    store.transaction(() => store.putSession('bob', 1, bytes(1)));
    expect(store.getSession('bob', 1)).toEqual(bytes(1));
  });

  it('after close, calls fail with CLOSED; close is idempotent', () => {
    store.close();
    store.close();
    expectStoreError(() => store.getAccount(), 'CLOSED');
  });
});

/** EXPLAIN QUERY PLAN on a second, raw connection to the same database. */
function planOf(dir: string, dbKey: Uint8Array, queries: string[]): string[] {
  const db = new Database(join(dir, DB_FILE));
  try {
    db.exec(`PRAGMA key = "x'${Buffer.from(dbKey).toString('hex')}'"`);
    return queries.map((q) =>
      db
        .prepare(`EXPLAIN QUERY PLAN ${q}`)
        .all()
        .map((row) => String(row['detail']))
        .join('\n'),
    );
  } finally {
    db.close();
  }
}
