import { describe, expect, it } from 'vitest';
import { createApi } from './api.js';
import { channels, contract } from './contract.js';

describe('ipc contract', () => {
  it('every channel is namespace.method with schemas and a doc line', () => {
    for (const name of channels) {
      expect(name).toMatch(/^[a-z]+\.[a-zA-Z]+$/);
      expect(contract[name].doc.length).toBeGreaterThan(5);
    }
  });

  it('createApi routes refuge.ns.method to its channel', async () => {
    const calls: string[] = [];
    const api = createApi(async (ch, req) => {
      calls.push(`${ch}:${JSON.stringify(req)}`);
      return undefined as never;
    });
    await api.messages.send({ conversationId: 'c1', text: 'hi' });
    expect(calls).toEqual(['messages.send:{"conversationId":"c1","text":"hi"}']);
  });

  it('rejects malformed requests', () => {
    expect(contract['messages.send'].request.safeParse({ conversationId: 'c', text: '' }).success).toBe(false);
    expect(contract['relay.signChallenge'].request.safeParse({ challenge: 'AAAA' }).success).toBe(false);
  });
});
