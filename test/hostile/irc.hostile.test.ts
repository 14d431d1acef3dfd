/**
 * Hostile IRC clients against a real server with `--irc-port` (docs/irc.md
 * "Lines" and "Limits"): each case attacks the gateway over a raw socket and
 * then checks that two bystanders in a channel still talk, and the server
 * lives.
 */
import { startServer, type StartedServer } from '../../testkit/chat-roles';
import { IRC_ONLINE } from '../helpers/irc-framework-client';
import { RawIrc } from '../helpers/raw-irc';

let server: StartedServer;
let irc: number;
const sockets: RawIrc[] = [];

beforeAll(async () => {
  server = await startServer(['--irc-port', '0', '--register-timeout', '1500'], { keepAcrossTests: true });
  irc = Number(IRC_ONLINE.exec(await server.proc.waitForLine(IRC_ONLINE))![1]);
});
afterEach(async () => {
  await Promise.all(sockets.splice(0).map((s) => s.close()));
  expect(server.proc.alive).toBe(true);
});
afterAll(async () => {
  await server.proc.stop();
});

async function connect(nick?: string): Promise<RawIrc> {
  const s = nick === undefined ? await RawIrc.connect(irc) : await RawIrc.registered(irc, nick);
  sockets.push(s);
  return s;
}

let round = 0;
/** Two fresh bystanders in a fresh channel exchange a message each way. */
async function bystandersTalk(): Promise<void> {
  const n = ++round;
  const [a, b] = [await connect(`by${n}a`), await connect(`by${n}b`)];
  for (const s of [a, b]) {
    s.send(`JOIN #calm${n}`);
    await s.waitFor(new RegExp(` 366 \\S+ #calm${n} `));
  }
  a.send(`PRIVMSG #calm${n} :ping ${n}`);
  await b.waitFor(new RegExp(`^\\S+ PRIVMSG #calm${n} :?ping ${n}$`));
  b.send(`PRIVMSG #calm${n} :pong ${n}`);
  await a.waitFor(new RegExp(`^\\S+ PRIVMSG #calm${n} :?pong ${n}$`));
}

test('an over-long line gets 417 and is dropped whole; the connection goes on', async () => {
  const s = await connect('longline');
  s.write(`PRIVMSG #x :${'a'.repeat(600)}\r\nPING after\r\n`);
  await s.waitFor(':chatapp 417 longline :Input line was too long');
  await s.waitFor(':chatapp PONG chatapp after');
  s.write(`@${'t'.repeat(9000)} PING x\r\n${'b'.repeat(20_000)}\r\nPING still\r\n`);
  await s.waitFor(':chatapp PONG chatapp still');
  expect(s.lines.filter((l) => / 417 /.test(l))).toHaveLength(3);
  await bystandersTalk();
});

test('lines split at every byte are read as whole lines', async () => {
  const s = await connect();
  for (const byte of Buffer.from('NICK split\r\nUSER s 0 * :s\r\nJOIN #bytes\r\n')) s.write(Buffer.from([byte]));
  await s.waitFor(/ 366 split #bytes /);
  await bystandersTalk();
});

test('bad UTF-8 and NUL bytes do not break the gateway: the text arrives with U+FFFD, cut at the NUL', async () => {
  const [a, b] = [await connect('utfa'), await connect('utfb')];
  for (const s of [a, b]) {
    s.send('JOIN #utf');
    await s.waitFor(/ 366 \S+ #utf /);
  }
  a.write(Buffer.concat([Buffer.from('PRIVMSG #utf :ok'), Buffer.from([0xff, 0xfe]), Buffer.from('x\0hidden\r\n')]));
  await b.waitFor(/PRIVMSG #utf :?ok\ufffd\ufffdx$/);
  await bystandersTalk();
});

test('a flood of commands is read with backpressure, loses nothing and others are unaffected', async () => {
  const s = await connect('flooder');
  const N = 3000;
  s.write(Array.from({ length: N }, (_, i) => `PING f${i}\r\n`).join(''));
  await bystandersTalk();
  await s.waitFor(`:chatapp PONG chatapp f${N - 1}`, { timeoutMs: 30_000 });
  expect(s.lines.filter((l) => / PONG /.test(l))).toHaveLength(N);
});

test('a half-open connection that never registers is closed at the registration deadline', async () => {
  const s = await connect();
  s.write('NICK half'); // no newline, no USER
  await s.waitFor(/^ERROR :Closing Link: .*No registration within the deadline/, { timeoutMs: 20_000 });
  await s.waitClosed();
  await bystandersTalk();
});

test('a NICK storm before registration costs nothing lasting; the last nick is the one registered', async () => {
  const s = await connect();
  s.write(Array.from({ length: 2000 }, (_, i) => `NICK storm${i}\r\n`).join('') + 'USER s 0 * :s\r\n');
  await s.waitFor(/^:chatapp 001 storm1999 /);
  await bystandersTalk();
});

test('a NICK storm after registration renames in order and leaves no name behind', async () => {
  const s = await connect('renamer');
  s.send('JOIN #storm');
  await s.waitFor(/ 366 renamer #storm /);
  const N = 200;
  s.write(Array.from({ length: N }, (_, i) => `NICK r${i}\r\n`).join(''));
  await s.waitFor(`:r${N - 2}!renamer@127.0.0.1 NICK r${N - 1}`, { timeoutMs: 60_000 });
  expect(s.lines.filter((l) => / NICK /.test(l))).toHaveLength(N);
  s.send('NAMES #storm');
  await s.waitFor(/ 353 r199 = #storm :?r199$/);
  const again = await connect('r0'); // every guest name of the storm was released
  expect(again.lines[0]).toMatch(/ 001 r0 /);
  await bystandersTalk();
});
