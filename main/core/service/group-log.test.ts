// The membership log: every device holding the same set of changes computes the same group,
// whatever order they arrived in, and only admins change membership.
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { computeGroup, memberList, type GroupChange } from './group-log.js';

let clock = 1_700_000_000_000;
type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type Op = DistributiveOmit<GroupChange, 'id' | 'v' | 'by' | 'at'>;
function change(by: string, v: number, op: Op, id = randomUUID()): GroupChange {
  return { ...op, id, v, by, at: clock++ } as GroupChange;
}
const create = (by: string, members: string[]) => change(by, 1, { op: 'create', name: 'Family', members: [by, ...members] });

function view(changes: GroupChange[]) {
  const state = computeGroup(changes);
  return state ? { name: state.name, members: memberList(state), version: state.version } : null;
}

/** Deterministic shuffles (a seeded LCG), so a failure reproduces. */
function shuffles<T>(items: T[], count: number): T[][] {
  let seed = 12345;
  const out: T[][] = [];
  for (let k = 0; k < count; k++) {
    const copy = [...items];
    for (let i = copy.length - 1; i > 0; i--) {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      const j = seed % (i + 1);
      [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
    }
    out.push(copy);
  }
  return out;
}

describe('group membership log', () => {
  it('starts with the creator as the only admin and applies admin changes in order', () => {
    const log = [
      create('alice', ['bob', 'carol']),
      change('alice', 2, { op: 'admin', member: 'bob', admin: true }),
      change('bob', 3, { op: 'add', members: ['dave'] }),
      change('bob', 4, { op: 'rename', name: 'Family 🏡' }),
      change('alice', 5, { op: 'remove', member: 'carol' }),
    ];
    expect(view(log)).toEqual({
      name: 'Family 🏡',
      version: 5,
      members: [
        { username: 'alice', admin: true },
        { username: 'bob', admin: true },
        { username: 'dave', admin: false },
      ],
    });
  });

  it('ignores changes by non-admins, by non-members, a second create, and revoking the last admin', () => {
    const base = create('alice', ['bob', 'carol']);
    const log = [
      base,
      change('bob', 2, { op: 'add', members: ['mallory'] }), // bob is no admin
      change('mallory', 2, { op: 'leave' }), // not a member
      change('carol', 2, { op: 'rename', name: 'Pwned' }),
      { ...create('bob', ['mallory']), v: 1 }, // a forged second create
      change('alice', 3, { op: 'admin', member: 'alice', admin: false }), // the only admin
    ];
    const state = computeGroup(log);
    expect(state?.effective).toEqual(new Set([base.id]));
    expect(view(log)?.members).toEqual([
      { username: 'alice', admin: true },
      { username: 'bob', admin: false },
      { username: 'carol', admin: false },
    ]);
  });

  it('hands admin to the first remaining member (by name) when the last admin leaves', () => {
    const log = [create('alice', ['dave', 'bob']), change('alice', 2, { op: 'leave' })];
    expect(view(log)?.members).toEqual([
      { username: 'bob', admin: true },
      { username: 'dave', admin: false },
    ]);
  });

  it('resolves concurrent conflicting changes identically in every arrival order', () => {
    // Version 2: alice makes bob admin. Then, concurrently at version 3, alice removes bob while
    // bob removes carol and adds erin, carol leaves, and dave (no admin) tries to rename.
    const log = [
      create('alice', ['bob', 'carol', 'dave']),
      change('alice', 2, { op: 'admin', member: 'bob', admin: true }),
      change('alice', 3, { op: 'remove', member: 'bob' }),
      change('bob', 3, { op: 'remove', member: 'carol' }),
      change('bob', 3, { op: 'add', members: ['erin'] }),
      change('carol', 3, { op: 'leave' }),
      change('dave', 3, { op: 'rename', name: 'Dave rules' }),
      change('alice', 4, { op: 'add', members: ['frank'] }),
    ];
    const expected = view(log);
    // (v, author, id): alice's removal of bob sorts before bob's own changes at v 3, so they are
    // void (erin never joins); carol's leave stands; dave's rename never did.
    expect(expected?.members.map((m) => m.username)).toEqual(['alice', 'dave', 'frank']);
    expect(expected?.name).toBe('Family');
    for (const order of shuffles(log, 50)) expect(view(order)).toEqual(expected);
    // Duplicates (a change delivered twice) change nothing.
    expect(view([...log, ...log.slice(2, 5)])).toEqual(expected);
  });

  it('breaks a tie between two admins on the same version by author, then change id', () => {
    const base = [create('alice', ['bob', 'carol']), change('alice', 2, { op: 'admin', member: 'bob', admin: true })];
    // Both admins remove each other at version 3: only the first in (v, author) order takes effect.
    const aliceRemovesBob = change('alice', 3, { op: 'remove', member: 'bob' });
    const bobRemovesAlice = change('bob', 3, { op: 'remove', member: 'alice' });
    for (const order of [
      [...base, aliceRemovesBob, bobRemovesAlice],
      [...base, bobRemovesAlice, aliceRemovesBob],
    ]) {
      expect(view(order)?.members.map((m) => m.username)).toEqual(['alice', 'carol']);
    }
    // Same author, same version: the change id decides, the same everywhere.
    const renameA = change('alice', 4, { op: 'rename', name: 'A' }, '00000000-0000-4000-8000-000000000001');
    const renameB = change('alice', 4, { op: 'rename', name: 'B' }, '00000000-0000-4000-8000-000000000002');
    expect(view([...base, renameB, renameA])?.name).toBe('B');
    expect(view([...base, renameA, renameB])?.name).toBe('B');
  });

  it('caps a group at 1000 members, all or nothing per change', () => {
    const many = Array.from({ length: 998 }, (_, i) => `user${i}`);
    const log = [create('alice', many), change('alice', 2, { op: 'add', members: ['x1', 'x2'] }), change('alice', 3, { op: 'add', members: ['x3'] })];
    const state = computeGroup(log);
    expect(state?.members.size).toBe(1000);
    expect(state?.members.has('x1')).toBe(false);
    expect(state?.members.has('x3')).toBe(true);
  });
});
