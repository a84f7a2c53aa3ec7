// group_send: the sender-side cost of one group message to 100 members (groups.send: one
// sender-key encryption and signature, then one pairwise-encrypted copy per member device queued
// in the outbox, in one transaction), against a 1:1 messages.send on the same profile.
// Goal (issue 8): group send ≤ 3 × a 1:1 send + the per-device fan-out × 100, all measured in
// this run. The per-device fan-out is the marginal cost of one more member device, from the
// slope between a 10-member and a 100-member group; so the goal says the fixed part of a group
// send (sender key, signature, bookkeeping) costs at most 3 1:1 sends.
import type { PrekeyBundle } from '../../shared/protocol/keys.js';
import { toBase64url } from '../../shared/encoding/base64url.js';
import {
  buildKeysUpload,
  generateIdentityKeyPair,
  generateKyberPrekeys,
  generateSignedPrekey,
  initCrypto,
} from '../../main/core/crypto/index.js';
import { chatText, createProfile, type Profile } from '../lib/profile.js';
import { goals } from '../lib/results.js';
import { defineScenario } from '../lib/scenario.js';
import { median, repeat, timed } from '../lib/stats.js';

/** A member device's public keys as the relay would hand them out (last-resort keys only). */
function memberBundle(username: string): PrekeyBundle {
  const identity = generateIdentityKeyPair();
  const signed = generateSignedPrekey(identity, 1, Date.now());
  const [lastResort] = generateKyberPrekeys(identity, 2, 1, true);
  if (!lastResort) throw new Error('no last-resort key');
  const keys = buildKeysUpload(identity, signed, lastResort, [], []);
  return {
    username,
    deviceId: 1,
    identityKey: toBase64url(identity.publicKey),
    signedPrekey: keys.signedPrekey,
    kyberPrekey: { ...keys.kyberLastResort, lastResort: true },
  };
}

/** Empties the outbox (as if the relay took everything) so its size does not drift between samples. */
async function drainOutbox(p: Profile): Promise<void> {
  for (;;) {
    const { envelopes } = await p.api.outbox.pending({ limit: 1000 });
    if (envelopes.length === 0) return;
    await p.api.outbox.markSent({ ids: envelopes.map((e) => e.id) });
  }
}

export default defineScenario({
  name: 'group_send',
  description: 'groups.send to 100 members vs 3 × a 1:1 messages.send + 100 × the per-device fan-out',
  async run(ctx) {
    await initCrypto();
    const big = ctx.size(100, 6);
    const small = ctx.size(10, 2);
    const samplesPerRep = ctx.size(15, 2);
    const sender = await createProfile(ctx.tmp('group-send'), 'sender');
    ctx.defer(() => sender.core.close());

    const names = Array.from({ length: big }, (_, i) => `member${String(i).padStart(4, '0')}`);
    for (const name of names) await sender.api.groups.openSessions({ bundles: [memberBundle(name)] });
    const { conversationId: direct } = await sender.api.contacts.add({ bundles: [memberBundle('solo')] });
    const large = await sender.api.groups.create({ name: 'Large', members: names });
    const little = await sender.api.groups.create({ name: 'Small', members: names.slice(0, small) });
    // First messages carry the sender key to every device; measure the steady state after them.
    await sender.api.groups.send({ groupId: large.groupId, text: 'hello' });
    await sender.api.groups.send({ groupId: little.groupId, text: 'hello' });
    await sender.api.messages.send({ conversationId: direct, text: 'hello' });
    await drainOutbox(sender);
    ctx.log(`sessions with ${big + 1} devices; groups of ${big} and ${small}`);

    const sample = async (send: () => Promise<unknown>): Promise<number> => {
      const times: number[] = [];
      for (let i = 0; i < samplesPerRep; i++) {
        times.push(await timed(send));
        await drainOutbox(sender);
      }
      return median(times);
    };
    const runs = await repeat(
      ctx.reps,
      async () => ({
        direct: await sample(() => sender.api.messages.send({ conversationId: direct, text: chatText(60) })),
        small: await sample(() => sender.api.groups.send({ groupId: little.groupId, text: chatText(60) })),
        large: await sample(() => sender.api.groups.send({ groupId: large.groupId, text: chatText(60) })),
      }),
      ctx.quick ? 0 : 1,
    );
    const m = (f: (r: (typeof runs)[number]) => number) => median(runs.map(f));
    const direct1 = m((r) => r.direct);
    const large1 = m((r) => r.large);
    const small1 = m((r) => r.small);
    const perDevice = Math.max(0, (large1 - small1) / (big - small));
    const allowed = 3 * direct1 + big * perDevice;
    ctx.log(`1:1 ${direct1.toFixed(2)} ms; group of ${small} ${small1.toFixed(2)} ms; of ${big} ${large1.toFixed(2)} ms; per device ${perDevice.toFixed(3)} ms`);
    return [
      ctx.row({
        metric: `send_${big}_members`,
        value: large1,
        unit: 'ms',
        baseline: { name: `3 × 1:1 send + ${big} × per-device fan-out`, value: allowed },
        goal: goals.ratioAtMost(1),
      }),
      ctx.row({ metric: 'one_to_one_send', value: direct1, unit: 'ms', goal: goals.info() }),
      ctx.row({ metric: 'per_device_fanout', value: perDevice, unit: 'ms', goal: goals.info() }),
      ctx.row({ metric: `send_${small}_members`, value: small1, unit: 'ms', goal: goals.info() }),
      ctx.row({ metric: 'fixed_cost_vs_one_to_one', value: large1 - big * perDevice, unit: 'ms', baseline: { name: '1:1 send', value: direct1 }, goal: goals.ratioAtMost(3) }),
    ];
  },
});
