import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RefugeError } from '../shared/ipc/contract.js';
import { PrekeyBundleSchema } from '../shared/protocol/keys.js';
import { authDevice, makeDevice, registerDevice, startTestRelay, type TestRelay } from './testkit.js';

let relay: TestRelay;
beforeAll(async () => {
  relay = await startTestRelay();
});
afterAll(async () => {
  await relay.dispose();
});

describe('prekey bundles', () => {
  it('hands each one-time prekey out once, even to concurrent fetches, then the last-resort key', async () => {
    const bob = await makeDevice('bob', { oneTime: 2, kyberOneTime: 2 });
    (await registerDevice(relay.url, bob)).close();
    const alice = await makeDevice('alice');
    const a1 = await registerDevice(relay.url, alice);
    const a2 = (await authDevice(relay.url, alice)).client;

    const [r1, r2] = await Promise.all([a1.fetchBundles('bob'), a2.fetchBundles('BOB')]);
    const bundles = [...r1, ...r2];
    expect(bundles).toHaveLength(2);
    for (const b of bundles) {
      expect(PrekeyBundleSchema.parse(b)).toEqual(b);
      expect(b).toMatchObject({ username: 'bob', deviceId: 1, identityKey: bob.keys.identityKey, signedPrekey: bob.keys.signedPrekey });
      expect(b.kyberPrekey.lastResort).toBe(false);
    }
    const otpIds = bundles.map((b) => b.oneTimePrekey?.id);
    const kyberIds = bundles.map((b) => b.kyberPrekey.id);
    expect(new Set(otpIds).size).toBe(2);
    expect(new Set(kyberIds).size).toBe(2);
    expect(otpIds.sort()).toEqual(bob.keys.oneTimePrekeys.map((k) => k.id).sort());
    expect(kyberIds.sort()).toEqual(bob.keys.kyberOneTimePrekeys.map((k) => k.id).sort());

    // exhausted: no one-time X25519 key, the last-resort ML-KEM key
    const [third] = await a1.fetchBundles('bob');
    expect(third?.oneTimePrekey).toBeUndefined();
    expect(third?.kyberPrekey).toEqual({ ...bob.keys.kyberLastResort, lastResort: true });
    const [fourth] = await a2.fetchBundles('bob');
    expect(fourth?.kyberPrekey.lastResort).toBe(true);
    a1.close();
    a2.close();
  });

  it('many concurrent fetches never share a one-time prekey', async () => {
    const carol = await makeDevice('carol', { oneTime: 30, kyberOneTime: 30 });
    (await registerDevice(relay.url, carol)).close();
    const fetchers = await Promise.all(
      Array.from({ length: 5 }, async (_, i) => registerDevice(relay.url, await makeDevice(`fetcher${i}`))),
    );
    const results = await Promise.all(fetchers.flatMap((c) => Array.from({ length: 8 }, () => c.fetchBundles('carol'))));
    const otp = results.map((r) => r[0]?.oneTimePrekey?.id).filter((id) => id !== undefined);
    const kyber = results.map((r) => r[0]?.kyberPrekey).filter((k) => k && !k.lastResort).map((k) => k?.id);
    expect(otp).toHaveLength(30);
    expect(new Set(otp).size).toBe(30);
    expect(new Set(kyber).size).toBe(30);
    expect(results.filter((r) => r[0]?.kyberPrekey.lastResort)).toHaveLength(10);
    for (const c of fetchers) c.close();
  });

  it('unknown user -> USER_NOT_FOUND; needs auth', async () => {
    const dave = await makeDevice('dave');
    const client = await registerDevice(relay.url, dave);
    for (const name of ['nobody', 'x', '']) {
      const error = await client.fetchBundles(name).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RefugeError);
      expect((error as RefugeError).code, name).toBe(name === '' ? 'BAD_REQUEST' : 'USER_NOT_FOUND');
    }
    client.close();
  });

  it('upload replenishes one-time prekeys and rotates the signed and last-resort keys', async () => {
    const erin = await makeDevice('erin', { oneTime: 1, kyberOneTime: 0 });
    const client = await registerDevice(relay.url, erin);
    expect(await client.prekeyCount()).toEqual({ oneTimePrekeys: 1, kyberOneTimePrekeys: 0 });
    const more = erin.moreKeys(3, 2);
    expect(await client.uploadPrekeys(more)).toEqual({ oneTimePrekeys: 4, kyberOneTimePrekeys: 2 });
    expect(await client.prekeyCount()).toEqual({ oneTimePrekeys: 4, kyberOneTimePrekeys: 2 });

    const [bundle] = await client.fetchBundles('erin');
    expect(bundle?.signedPrekey).toEqual(more.signedPrekey);
    expect(await client.prekeyCount()).toEqual({ oneTimePrekeys: 3, kyberOneTimePrekeys: 1 });

    // another identity key is refused
    const mallory = await makeDevice('erin');
    const error = (await client.uploadPrekeys(mallory.keys).catch((e: unknown) => e)) as RefugeError;
    expect(error.code).toBe('IDENTITY_MISMATCH');

    // the cap on stored one-time prekeys
    let last: unknown;
    for (let i = 0; i < 6 && !last; i++) last = await client.uploadPrekeys(erin.moreKeys(200, 0)).then(() => undefined, (e: unknown) => e);
    expect((last as RefugeError).code).toBe('PREKEY_LIMIT');
    expect((await client.prekeyCount()).oneTimePrekeys).toBeLessThanOrEqual(1000);
    client.close();
  });
});
