import { mkdtempSync } from 'node:fs';
import { createProfile, SimPeer, bundleFromRegistration } from './lib/profile.js';
const p = await createProfile(mkdtempSync('/tmp/refuge-bench-b64-'), 'receiver');
const peer = await SimPeer.create('mallory');
peer.startSession(bundleFromRegistration(p.registration, 0));
await p.api.envelopes.receive({ envelopes: [peer.delivered('receiver', 'hi')] });
try {
  const r = await p.api.envelopes.receive({ envelopes: [{ id: crypto.randomUUID(), from: 'mallory', fromDeviceId: 1, body: 'AAAAA', receivedAt: 1 }, peer.delivered('receiver', 'after')] });
  console.log('results', r.results.map((x) => x.outcome + ':' + (x.reason ?? '')));
} catch (e) { console.log('receive threw', (e as Error).name, (e as any).code, (e as Error).message); }
process.exit(0);
