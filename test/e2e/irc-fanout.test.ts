/**
 * Many IRC clients writing to one channel at once, each all its lines in
 * one burst (docs/irc.md "Lines" and "Acks and slow readers"): every
 * message reaches every other member exactly once, every member sees the
 * group's one order, and nobody is removed or dropped — the gateway holds
 * fast senders back (it stops reading them) instead of losing lines or
 * members. Counting only; the speed of this is `npm run bench -- --scenario
 * irc-fanout`.
 */
import { startServer, type StartedServer } from '../../testkit/chat-roles';
import { IRC_ONLINE } from '../helpers/irc-framework-client';
import { RawIrc } from '../helpers/raw-irc';

const CLIENTS = 20;
const MESSAGES = 200;
/** A chat line as a member sees it: `:<nick>!… PRIVMSG #fan :m <sender> <n>`. */
const CHAT_LINE = /^:(\S+?)!\S* PRIVMSG #fan :m (\d+) (\d+)$/;
/** Safety net only: 76,000 deliveries through one loaded server. */
const DELIVERY_TIMEOUT_MS = 120_000;

let server: StartedServer;
const clients: RawIrc[] = [];

afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await server?.proc.stop();
});

test(`${CLIENTS} IRC clients × ${MESSAGES} messages each, all sent at once: every member gets every other's messages once, in one order, and nobody is removed`, async () => {
  server = await startServer(['--irc-port', '0', '--ephemeral']);
  const port = Number(IRC_ONLINE.exec(await server.proc.waitForLine(IRC_ONLINE))![1]);
  const joined = async (i: number): Promise<RawIrc> => {
    const irc = await RawIrc.registered(port, `fan${i}`);
    clients.push(irc);
    irc.send('JOIN #fan');
    await irc.waitFor(/ 366 \S+ #fan /);
    return irc;
  };
  const all = await Promise.all(Array.from({ length: CLIENTS }, (_, i) => joined(i)));
  clients.splice(0, clients.length, ...all); // in index order
  const starts = clients.map((c) => c.mark());
  for (const [i, c] of clients.entries())
    c.write(Array.from({ length: MESSAGES }, (_, n) => `PRIVMSG #fan :m ${i} ${n}\r\n`).join(''));

  const owed = (CLIENTS - 1) * MESSAGES;
  const received = await Promise.all(
    clients.map((c, i) => c.waitForCount(CHAT_LINE, owed, { from: starts[i], timeoutMs: DELIVERY_TIMEOUT_MS })),
  );
  const orders = received.map((lines, receiver) =>
    lines.map((line) => {
      const [, nick, sender, n] = CHAT_LINE.exec(line)!;
      expect(nick).toBe(`fan${sender}`); // the source is the sender named in the text
      expect(Number(sender)).not.toBe(receiver); // no echo without echo-message
      return `${sender}.${n}`;
    }),
  );
  const everyOther = (receiver: number): string[] =>
    clients.flatMap((_, s) => (s === receiver ? [] : Array.from({ length: MESSAGES }, (_, n) => `${s}.${n}`)));
  for (const [receiver, order] of orders.entries()) {
    expect(order).toHaveLength(owed); // nothing more arrived than was owed: no duplicates
    expect([...order].sort()).toEqual(everyOther(receiver).sort()); // each message once
  }
  // One order: any two members saw the messages they both received in the same sequence.
  const without = (order: string[], sender: number): string[] => order.filter((m) => !m.startsWith(`${sender}.`));
  for (let r = 1; r < CLIENTS; r++) expect(without(orders[r]!, 0)).toEqual(without(orders[0]!, r));
  for (const c of clients) {
    expect(c.lines.filter((l) => / KICK #fan |^ERROR /.test(l))).toEqual([]);
    expect(c.closed).toBe(false);
  }
  expect(server.proc.linesMatching(/not responsive|slow/i)).toEqual([]);
}, 180_000);
