import { startServer, type StartedServer } from '../../testkit/chat-roles';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';

/**
 * Concurrent clients racing on the same names and groups against a real
 * server (docs/usage.md "Server": the tables are guarded so "no interleaving of concurrent
 * requests can corrupt them"; names unique among online clients; a client in
 * at most one group; every member sees a group's messages once, in one order).
 */

let server: StartedServer;

beforeAll(async () => {
  // The racers are raw clients in this jest worker: on a loaded machine its event loop can stall past the
  // default 500 ms group-ack deadline, and the server would rightly drop a member the plans still count in
  // a group. These tests are about the tables, not that deadline (rate-ack.hostile and the e2e tests cover it).
  server = await startServer(['--rate-limit-per-sec', '0', '--ack-timeout', '5000'], { keepAcrossTests: true });
});

afterAll(async () => {
  await closeAllRawClients();
  await server?.proc.stop();
});

/** Small deterministic PRNG (mulberry32), so a failure can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('racing clients', () => {
  it('one name registered from 10 connections at once: exactly one wins', async () => {
    const conns = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(server.port)));
    const answers = await Promise.all(conns.map((c) => c.register('contested')));
    expect(answers.filter((a) => a.type === 'reply')).toHaveLength(1);
    expect(answers.filter((a) => a.type === 'error').map((a) => a.type === 'error' && a.code)).toEqual(
      Array(9).fill('name_in_use'),
    );
    for (const c of conns) c.close();
  });

  it('random concurrent create/join/leave/send from 16 clients keep the tables consistent', async () => {
    const seed = 20261121;
    const random = prng(seed);
    const groups = ['g0', 'g1', 'g2', 'g3'];
    const clients = await Promise.all(
      Array.from({ length: 16 }, (_, i) => RawClient.registered(server.port, `racer${i}`)),
    );

    // every group created by several clients at once: exactly one success each
    const creates = await Promise.all(
      groups.flatMap((g) => clients.slice(0, 4).map((c) => c.request({ type: 'create_group', group: g }))),
    );
    expect(creates.filter((a) => a.type === 'reply')).toHaveLength(groups.length);
    expect(creates.filter((a) => a.type === 'error' && a.code === 'group_exists')).toHaveLength(
      creates.length - groups.length,
    );

    const expected = new Map<string, string | null>(clients.map((c) => [c.name!, null]));
    const plans = clients.map(() => Array.from({ length: 25 }, () => random()));
    await Promise.all(
      clients.map(async (c, i) => {
        for (const r of plans[i]!) {
          const group = groups[Math.floor(r * 1000) % groups.length]!;
          if (r < 0.45) {
            const a = await c.request({ type: 'join_group', group });
            expect(a).toMatchObject({ type: 'reply', group });
            expected.set(c.name!, group);
          } else if (r < 0.6) {
            const a = await c.request({ type: 'leave_group' });
            const was = expected.get(c.name!);
            expect(a).toMatchObject(
              was === null ? { type: 'error', code: 'not_in_group' } : { type: 'reply', group: was },
            );
            expected.set(c.name!, null);
          } else if (r < 0.9) {
            const a = await c.request({ type: 'send_group', text: `${c.name} ${r}` });
            expect(a.type === 'reply' || (a.type === 'error' && a.code === 'not_in_group')).toBe(true);
            expect(a.type === 'reply').toBe(expected.get(c.name!) !== null);
          } else {
            const a = await c.request({ type: 'list_members' });
            const mine = expected.get(c.name!);
            if (mine === null) expect(a).toMatchObject({ type: 'error', code: 'not_in_group' });
            else expect(a.type === 'reply' && a.members?.includes(c.name!)).toBe(true);
          }
        }
      }),
    );

    // the server's view equals the replies each client got, and nobody is in two groups
    for (const g of groups) {
      const want = clients
        .filter((c) => expected.get(c.name!) === g)
        .map((c) => c.name!)
        .sort();
      const member = clients.find((c) => expected.get(c.name!) === g);
      if (!member) continue;
      const a = await member.request({ type: 'list_members' });
      expect([g, a.type === 'reply' ? [...(a.members ?? [])].sort() : a]).toEqual([g, want]);
    }
    // each member saw each group's messages at most once, in increasing seq order
    for (const c of clients) {
      for (const g of groups) {
        const seqs = c.groupMessages(g).map((m) => m.seq);
        expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
      }
      expect(c.frames.some((f) => f.type === 'removed')).toBe(false);
    }
    expect(server.proc.output('stderr')).toBe('');
    for (const c of clients) c.close();
  });
});
