/**
 * ChatServer.drain (docs/operations.md "Signals"): the requests already read
 * are answered before the connections close with `shutting_down`; a
 * connection that arrives during the drain is refused.
 */
import { ChatServer } from '../../src/server/chat-server';
import { RawClient } from '../helpers/raw-client';
import { memoryDuplexPair } from '../../src/net/memory-duplex';

describe('ChatServer.drain', () => {
  it('answers every request read before the drain, then says shutting_down; a newcomer is refused', async () => {
    const server = new ChatServer({ limits: { heartbeatMs: 0, rateLimitPerSec: 0 } });
    const events: string[] = [];
    server.on('draining', () => events.push('draining'));
    const alice = RawClient.on(server, { autoAck: false, answerPings: false });
    await alice.register('alice');
    expect(await alice.request({ type: 'create_group', group: 'g' })).toMatchObject({ type: 'reply' });
    expect(await alice.request({ type: 'join_group', group: 'g' })).toMatchObject({ type: 'reply' });
    // More requests than one connection may run in a turn (TurnBudget): some still wait when the drain starts.
    const ids = Array.from({ length: 300 }, (_, i) => `m${i}`);
    alice.sendBatch(ids.map((id) => ({ type: 'send_group', id, text: id })));
    await alice.until(() => alice.ofType('reply').some((r) => r.id === 'm0') || undefined, 'the first ack');
    expect(alice.ofType('reply').some((r) => r.id === 'm299')).toBe(false); // the drain has work left

    const drained = server.drain(60_000);
    const [late, lateClient] = memoryDuplexPair();
    server.handleConnection(late);
    const newcomer = new RawClient(lateClient);
    await drained;

    const answered = new Set(alice.ofType('reply').map((r) => r.id));
    expect(ids.filter((id) => !answered.has(id))).toEqual([]);
    await alice.closed;
    expect(alice.errorCodes()).toEqual(['shutting_down']);
    await newcomer.closed;
    expect(newcomer.frames).toEqual([]);
    expect(events).toEqual(['draining']);
  });
});
