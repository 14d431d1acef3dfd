import { ChatServer } from '../../src/server/chat-server';
import { RawClient } from '../helpers/raw-client';
import { eventually } from '../helpers/eventually';

/** docs/protocol.md "Relayed private messages", on in-memory streams. */
describe('ChatServer relay_dm (component)', () => {
  let server: ChatServer;
  const clients: RawClient[] = [];

  const client = async (name: string, port: number): Promise<RawClient> => {
    const c = RawClient.on(server, { answerPings: true });
    clients.push(c);
    expect((await c.register(name, { port })).type).toBe('reply');
    return c;
  };

  beforeEach(() => {
    server = new ChatServer({ limits: { heartbeatMs: 0, ackTimeoutMs: 2000, maxMessageLength: 20 } });
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await server.close();
  });

  test('a relay session (port 0) gets the message, and the sender its reply only after the relayed_ack', async () => {
    const alice = await client('alice', 5000);
    const irc = await client('ircbob', 0);
    const answer = alice.request({ type: 'relay_dm', id: 'r1', to: 'IRCBOB', body: { text: 'hi' } });
    const got = await irc.waitFor((f) => f.type === 'relayed_dm', 'relayed_dm');
    expect(got).toMatchObject({ type: 'relayed_dm', id: 'r1', from: 'alice', body: { text: 'hi' } });
    expect(alice.frames.some((f) => f.type === 'reply' && f.id === 'r1')).toBe(false);
    irc.send({ type: 'relayed_ack', id: 'r1' });
    expect(await answer).toEqual({ type: 'reply', id: 'r1' });
  });

  test('the relay session can write to a chatapp client too, and an unacked message ends in no_ack', async () => {
    const alice = await client('alice', 5000);
    const irc = await client('ircbob', 0);
    const answer = irc.request({ type: 'relay_dm', id: 'r2', to: 'alice', body: { text: 'yo' } });
    await alice.waitFor((f) => f.type === 'relayed_dm' && f.id === 'r2', 'relayed_dm');
    expect(await answer).toMatchObject({ type: 'error', id: 'r2', code: 'no_ack' });
  });

  test('readable text between two chatapp clients is refused (e2e_required); unknown, offline and long are refused', async () => {
    const alice = await client('alice', 5000);
    await client('carol', 5001);
    expect(await alice.request({ type: 'relay_dm', to: 'carol', body: { text: 'x' } })).toMatchObject({
      code: 'e2e_required',
    });
    expect(await alice.request({ type: 'relay_dm', to: 'nobody', body: { text: 'x' } })).toMatchObject({
      code: 'unknown_client',
    });
    const irc = await client('ircdan', 0);
    irc.close();
    await eventually(
      async () =>
        (await alice.request({ type: 'relay_dm', to: 'ircdan', body: { text: 'x' } })).type === 'error' &&
        alice.errorCodes().at(-1) === 'receiver_offline',
      'ircdan offline',
    );
  });

  test('a long text is refused and a repeated id is answered from the cache, not relayed twice', async () => {
    const alice = await client('alice', 5000);
    const irc = await client('ircbob', 0);
    expect(await alice.request({ type: 'relay_dm', to: 'ircbob', body: { text: 'y'.repeat(21) } })).toMatchObject({
      code: 'message_too_long',
    });
    const first = alice.request({ type: 'relay_dm', id: 'same', to: 'ircbob', body: { text: 'once' } });
    await irc.waitFor((f) => f.type === 'relayed_dm', 'relayed_dm');
    irc.send({ type: 'relayed_ack', id: 'same' });
    expect(await first).toEqual({ type: 'reply', id: 'same' });
    const mark = alice.frames.length;
    alice.send({ type: 'relay_dm', id: 'same', to: 'ircbob', body: { text: 'once' } });
    await alice.waitFor((f) => f.type === 'reply' && f.id === 'same', 'the repeated answer', undefined, mark);
    expect(alice.frames.slice(mark)).toEqual([{ type: 'reply', id: 'same' }]);
    expect(irc.frames.filter((f) => f.type === 'relayed_dm')).toHaveLength(1);
  });
});
