/**
 * The IRC gateway end to end (docs/irc.md): a real server process with
 * `--irc-port`, IRC clients from irc-framework (as bots and web clients use)
 * and raw sockets, and chatapp CLI clients in the same groups.
 */
import { startServer, startClient, type StartedServer } from '../../testkit/chat-roles';
import { expectAfter, groupMessage, joinGroup, line, sendGroup, waitUntilOnline } from '../helpers/e2e-chat';
import { closeIrcClients, IRC_ONLINE, IrcTestClient } from '../helpers/irc-framework-client';
import { RawIrc } from '../helpers/raw-irc';
import { parseMessage } from '../../src/protocol/irc/message';

const raws: RawIrc[] = [];
afterEach(async () => {
  await closeIrcClients();
  await Promise.all(raws.splice(0).map((r) => r.close()));
});

async function ircServer(args: string[] = []): Promise<StartedServer & { irc: number }> {
  const server = await startServer(['--irc-port', '0', ...args]);
  const online = await server.proc.waitForLine(IRC_ONLINE);
  return { ...server, irc: Number(IRC_ONLINE.exec(online)![1]) };
}

async function raw(port: number, nick?: string, pass?: string): Promise<RawIrc> {
  const irc = nick === undefined ? await RawIrc.connect(port) : await RawIrc.registered(port, nick, pass);
  raws.push(irc);
  return irc;
}

async function registeredClient(port: number, nick: string, options = {}): Promise<IrcTestClient> {
  const client = new IrcTestClient(port, nick, options);
  await client.waitEvent('registered');
  return client;
}

describe('IRC registration', () => {
  test('NICK and USER without CAP get the welcome burst with ISUPPORT and the MOTD', async () => {
    const { irc } = await ircServer();
    const a = await raw(irc, 'alice');
    expect(a.lines[0]).toBe(':chatapp 001 alice :Welcome to the chatapp IRC gateway, alice!alice@127.0.0.1');
    const isupport = a.lines.find((l) => / 005 /.test(l))!;
    for (const token of ['CASEMAPPING=ascii', 'CHANTYPES=#', 'NICKLEN=32', 'CHANNELLEN=33', 'CHATHISTORY=100']) {
      expect(isupport.split(' ')).toContain(token);
    }
    expect(a.lines.some((l) => / 375 alice /.test(l))).toBe(true);
  });

  test('irc-framework negotiates CAP LS 302 and gets server-time, message-tags, batch and echo-message', async () => {
    const { irc } = await ircServer();
    const bob = await registeredClient(irc, 'bob', { enable_echomessage: true });
    expect(bob.lines.find((l) => / CAP \* LS /.test(l))).toMatch(/draft\/chathistory/);
    expect(bob.client.network.cap.enabled).toEqual(
      expect.arrayContaining(['server-time', 'message-tags', 'batch', 'echo-message']),
    );
  });

  test('commands before registration get 451; a bad nick 432; a taken nick 433', async () => {
    const { irc } = await ircServer();
    await raw(irc, 'alice');
    const b = await raw(irc);
    b.send('JOIN #x');
    await b.waitFor(':chatapp 451 * :You have not registered');
    b.send('NICK bad!nick');
    await b.waitFor(/ 432 \* bad!nick /);
    b.send('NICK ALICE');
    b.send('USER b 0 * :b');
    await b.waitFor(/ 433 \* ALICE :Nickname is in use/);
    b.send('NICK bob');
    await b.waitFor(/^:chatapp 001 bob /);
  });

  test('SASL PLAIN binds the name to the password: the right one logs in again, a wrong one and a guest are refused', async () => {
    const { irc } = await ircServer();
    const account = { account: 'sam', password: 'correct horse' };
    const sam = await registeredClient(irc, 'sam', { account });
    expect(sam.lines.some((l) => / 903 sam :SASL authentication successful/.test(l))).toBe(true);
    await sam.close();

    const wrong = new IrcTestClient(irc, 'sam', { account: { account: 'sam', password: 'wrong' } });
    await wrong.waitEvent('sasl failed');
    await wrong.close();
    const guest = await raw(irc);
    guest.send('NICK sam');
    guest.send('USER g 0 * :g');
    await guest.waitFor(/ 433 \* sam :Nickname is in use or registered to another identity/);
    const pass = await raw(irc);
    pass.send('PASS wrong');
    pass.send('NICK sam');
    pass.send('USER s 0 * :s');
    await pass.waitFor('ERROR :Closing Link: 127.0.0.1 (Password incorrect)');
    expect(pass.lines.some((l) => / 001 /.test(l))).toBe(false);

    const again = await registeredClient(irc, 'sam', { account });
    expect(again.client.user.nick).toBe('sam');
  });

  test('a second login of an account is served afresh: its JOIN and NAMES are answered, not replayed from the first', async () => {
    const { irc } = await ircServer();
    const watcher = await raw(irc, 'watcher');
    watcher.send('JOIN #room');
    await watcher.waitFor(/ 366 watcher #room /);
    for (let login = 0; login < 2; login++) {
      const from = watcher.mark();
      const sam = await raw(irc, 'sam', 'pw');
      sam.send('JOIN #room');
      await sam.waitFor(/ 353 sam = #room :watcher sam$/);
      await watcher.waitFor(/^:sam!sam@chatapp JOIN #room$/, { from });
      sam.socket.destroy(); // no QUIT: the connection just goes
      await watcher.waitFor(/^:sam!sam@chatapp PART #room$/, { from });
    }
  });

  test('a name bound to a chatapp identity key cannot be taken from IRC, with or without a password', async () => {
    const { port, irc } = await ircServer();
    const carol = await startClient('carol', port);
    await carol.proc.stop();
    const guest = await raw(irc);
    guest.send('NICK carol');
    guest.send('USER c 0 * :c');
    await guest.waitFor(/ 433 \* carol :Nickname is in use or registered to another identity/);
    const sasl = new IrcTestClient(irc, 'carol', { account: { account: 'carol', password: 'anything' } });
    await sasl.waitEvent('sasl failed');
    expect(sasl.lines.some((l) => / 001 /.test(l))).toBe(false);
  });

  test("a guest's name is released when it quits: a chatapp client can register it afterwards", async () => {
    const { port, irc } = await ircServer();
    const dave = await raw(irc, 'dave');
    dave.send('QUIT :later');
    await dave.waitFor('ERROR :Closing Link: 127.0.0.1 (Quit: later)');
    await dave.waitClosed();
    const client = await startClient('dave', port);
    expect(client.proc.lines()).toContain('>>> [Welcome, You are registered.]');
  });
});

describe('IRC channels', () => {
  test('JOIN creates the group; NAMES, WHO, LIST, TOPIC and MODE answer; PRIVMSG reaches the other member with server-time; PART and QUIT are seen', async () => {
    const { irc } = await ircServer();
    const alice = await registeredClient(irc, 'alice');
    const bob = await registeredClient(irc, 'bob', { enable_echomessage: true });
    alice.client.join('#room');
    await alice.waitEvent('userlist', (e) => e.channel === '#room');
    bob.client.join('#ROOM');
    const names = await bob.waitEvent('userlist', (e) => String(e.channel).toLowerCase() === '#room');
    expect((names.users as { nick: string }[]).map((u) => u.nick)).toEqual(['alice', 'bob']);
    await alice.waitEvent('join', (e) => e.nick === 'bob');

    const from = bob.mark();
    bob.client.say('#room', 'hello from bob');
    const got = await alice.waitEvent('privmsg', (e) => e.message === 'hello from bob');
    expect(got.nick).toBe('bob');
    expect(typeof got.time).toBe('number'); // server-time tag parsed
    await bob.waitLine(/^@time=\S+ :bob!\S+ PRIVMSG #room :hello from bob$/, from); // echo-message

    const mark = alice.mark();
    alice.client.raw('WHO #room');
    await alice.waitLine(/ 352 alice #room bob chatapp chatapp bob H :0 bob$/, mark);
    await alice.waitLine(/ 315 alice #room /, mark);
    alice.client.raw('LIST');
    await alice.waitLine(/ 322 alice #room 2 :$/, mark);
    await alice.waitLine(/ 323 alice /, mark);
    alice.client.raw('TOPIC #room');
    await alice.waitLine(':chatapp 331 alice #room :No topic is set', mark);
    alice.client.raw('MODE #room');
    await alice.waitLine(':chatapp 324 alice #room +nt', mark);

    bob.client.part('#room', 'bye');
    await alice.waitEvent('part', (e) => e.nick === 'bob');
    const quitMark = alice.mark();
    bob.client.join('#room');
    await alice.waitEvent('join', (e) => e.nick === 'bob', 1);
    bob.client.quit('gone');
    await alice.waitLine(/^:bob!\S+ PART #room$/, quitMark);
  });

  test('PRIVMSG to a channel not joined gets 404; PART of it 442; a bad channel name 403', async () => {
    const { irc } = await ircServer();
    const a = await raw(irc, 'alice');
    a.send('PRIVMSG #nowhere :hi');
    await a.waitFor(/ 404 alice #nowhere /);
    a.send('PART #nowhere');
    await a.waitFor(/ 442 alice #nowhere /);
    a.send('JOIN #bad!name');
    await a.waitFor(/ 403 alice #bad!name /);
  });

  test('CHATHISTORY LATEST, BEFORE, AFTER and BETWEEN return the group history in a batch', async () => {
    const { irc } = await ircServer();
    const a = await raw(irc);
    a.send('CAP LS 302');
    a.send('NICK alice');
    a.send('USER a 0 * :a');
    a.send('CAP REQ :batch server-time message-tags draft/chathistory');
    a.send('CAP END');
    await a.waitFor(/ 376 alice /);
    a.send('JOIN #h');
    await a.waitFor(/ 366 alice #h /);
    for (const n of [1, 2, 3, 4]) a.send(`PRIVMSG #h :m${n}`);
    const history = async (query: string): Promise<string[]> => {
      const from = a.mark();
      a.send(`CHATHISTORY ${query}`);
      const end = await a.waitFor(/ BATCH -\S+$/, { from });
      const lines = a.lines.slice(from, a.lines.indexOf(end, from));
      return lines
        .map((l) => parseMessage(l)!)
        .filter((m) => m.command === 'PRIVMSG')
        .map((m) => m.params[1] ?? '');
    };
    expect(await history('LATEST #h * 10')).toEqual(['m1', 'm2', 'm3', 'm4']);
    expect(await history('LATEST #h * 2')).toEqual(['m3', 'm4']);
    expect(await history('BEFORE #h msgid=3 10')).toEqual(['m1', 'm2']);
    expect(await history('AFTER #h msgid=2 1')).toEqual(['m3']);
    expect(await history('BETWEEN #h msgid=1 msgid=4 10')).toEqual(['m2', 'm3']);
    const from = a.mark();
    a.send('CHATHISTORY LATEST #other * 10');
    await a.waitFor(/ FAIL CHATHISTORY INVALID_TARGET /, { from });
  });
});

describe('CHATHISTORY over the whole kept history', () => {
  test('pages back past 100 messages with BEFORE, forward with AFTER, by msgid and timestamp, in any joined channel', async () => {
    const { irc } = await ircServer();
    const a = await raw(irc);
    a.send('CAP LS 302');
    a.send('NICK alice');
    a.send('USER a 0 * :a');
    a.send('CAP REQ :batch server-time message-tags draft/chathistory');
    a.send('CAP END');
    await a.waitFor(/ 376 alice /);
    a.send('JOIN #long,#short');
    await a.waitFor(/ 366 alice #short /);
    const total = 250;
    a.write(Array.from({ length: total }, (_, i) => `PRIVMSG #long :n${i + 1}\r\n`).join(''));
    a.send('PRIVMSG #short :only one');
    const history = async (query: string): Promise<{ text: string; msgid: number; time: string }[]> => {
      const from = a.mark();
      a.send(`CHATHISTORY ${query}`);
      const end = await a.waitFor(/ BATCH -\S+$/, { from });
      return a.lines
        .slice(from, a.lines.indexOf(end, from))
        .map((l) => parseMessage(l)!)
        .filter((m) => m.command === 'PRIVMSG')
        .map((m) => ({ text: m.params[1] ?? '', msgid: Number(m.tags.get('msgid')), time: m.tags.get('time') ?? '' }));
    };
    // The core answers one connection's requests in order: every PRIVMSG above is in the history now.

    const seen: string[] = [];
    let before = '*';
    for (;;) {
      const page = await history(before === '*' ? 'LATEST #long * 100' : `BEFORE #long ${before} 100`);
      if (page.length === 0) break;
      seen.unshift(...page.map((e) => e.text));
      before = `msgid=${page[0]!.msgid}`;
    }
    expect(seen).toEqual(Array.from({ length: total }, (_, i) => `n${i + 1}`));
    expect((await history('AFTER #long msgid=120 3')).map((e) => e.text)).toEqual(['n121', 'n122', 'n123']);
    expect((await history('BETWEEN #long msgid=10 msgid=14 100')).map((e) => e.text)).toEqual(['n11', 'n12', 'n13']);
    expect((await history('BETWEEN #long msgid=200 msgid=10 2')).map((e) => e.text)).toEqual(['n198', 'n199']);
    const [first] = await history('AFTER #long msgid=0 1');
    const fromTime = await history(`AFTER #long timestamp=${first!.time} 1000`);
    expect(fromTime.length).toBeLessThanOrEqual(100);
    expect(fromTime.every((e) => e.time > first!.time)).toBe(true);
    expect((await history('LATEST #short * 10')).map((e) => e.text)).toEqual(['only one']);
    const from = a.mark();
    a.send('CHATHISTORY BEFORE #long msgid=99999999999999999999 10');
    await a.waitFor(/ FAIL CHATHISTORY INVALID_PARAMS /, { from });
  });
});

describe('IRC and chatapp clients in one group', () => {
  test('group messages go both ways and each side sees the other join', async () => {
    const { port, irc } = await ircServer();
    const alice = await startClient('alice', port);
    await expectAfter(alice.proc, 'create_group g', [line('[Group g created by Server.]')]);
    await joinGroup(alice, 'g');
    const bob = await registeredClient(irc, 'bob');
    bob.client.join('#g');
    await bob.waitEvent('userlist', (e) => e.channel === '#g');
    await alice.proc.waitForLine(line('[bob joined the group]', 'g'));

    await sendGroup(alice, 'g', 'hi from the terminal');
    const got = await bob.waitEvent('privmsg', (e) => e.message === 'hi from the terminal');
    expect([got.nick, got.target]).toEqual(['alice', '#g']);

    bob.client.say('#g', 'hi from IRC');
    await alice.proc.waitForLine(groupMessage('g', 'bob', 'hi from IRC'));
  });
});

describe('an IRC user in several channels', () => {
  test('JOIN #a,#b joins both; PRIVMSG, NAMES, WHO and CHATHISTORY work per channel; a CLI client in each sees only its own', async () => {
    const { port, irc } = await ircServer();
    const cara = await startClient('cara', port);
    const dan = await startClient('dan', port);
    for (const [client, group] of [
      [cara, 'a'],
      [dan, 'b'],
    ] as const) {
      await expectAfter(client.proc, `create_group ${group}`, [line(`[Group ${group} created by Server.]`)]);
      await joinGroup(client, group);
    }
    const bob = await registeredClient(irc, 'bob', { enable_echomessage: true });
    bob.client.raw('JOIN #a,#B');
    await bob.waitEvent('userlist', (e) => e.channel === '#a');
    const namesB = await bob.waitEvent('userlist', (e) => e.channel === '#b');
    expect((namesB.users as { nick: string }[]).map((u) => u.nick)).toEqual(['dan', 'bob']);
    await cara.proc.waitForLine(line('[bob joined the group]', 'a'));
    await dan.proc.waitForLine(line('[bob joined the group]', 'b'));
    expect(bob.lines.some((l) => / PART /.test(l))).toBe(false);

    bob.client.say('#a', 'to a');
    bob.client.say('#b', 'to b');
    await cara.proc.waitForLine(groupMessage('a', 'bob', 'to a'));
    await dan.proc.waitForLine(groupMessage('b', 'bob', 'to b'));
    await sendGroup(cara, 'a', 'from cara');
    await sendGroup(dan, 'b', 'from dan');
    expect((await bob.waitEvent('privmsg', (e) => e.message === 'from cara')).target).toBe('#a');
    expect((await bob.waitEvent('privmsg', (e) => e.message === 'from dan')).target).toBe('#b');
    expect(cara.proc.lines().some((l) => l.includes('to b') || l.includes('from dan'))).toBe(false);

    const mark = bob.mark();
    bob.client.raw('WHO #a');
    await bob.waitLine(/ 352 bob #a cara chatapp chatapp cara H :0 cara$/, mark);
    await bob.waitLine(/ 315 bob #a /, mark);
    bob.client.raw('LIST');
    await bob.waitLine(/ 322 bob #a 2 :$/, mark);
    await bob.waitLine(/ 322 bob #b 2 :$/, mark);
    bob.client.raw('CHATHISTORY LATEST #b * 10');
    await bob.waitLine(/msgid=2.* :dan!\S+ PRIVMSG #b :from dan$/, mark);

    bob.client.part('#a', 'done with a');
    await cara.proc.waitForLine(line('[bob left the group]', 'a'));
    const afterPart = bob.mark();
    bob.client.say('#a', 'too late');
    await bob.waitLine(/ 404 bob #a /, afterPart);
    await sendGroup(dan, 'b', 'still here');
    await bob.waitEvent('privmsg', (e) => e.message === 'still here');

    const rejoinFrom = cara.proc.mark();
    const events = bob.events.length;
    bob.client.join('#a');
    await cara.proc.waitForLine(line('[bob joined the group]', 'a'), { from: rejoinFrom });
    await bob.waitEvent('userlist', (e) => e.channel === '#a', events);
    const caraFrom = cara.proc.mark();
    const danFrom = dan.proc.mark();
    bob.client.quit('bye');
    await cara.proc.waitForLine(line('[bob left the group]', 'a'), { from: caraFrom });
    await dan.proc.waitForLine(line('[bob left the group]', 'b'), { from: danFrom });
  });

  test('JOIN 0 parts every channel; past CHANLIMIT a JOIN gets 405 and the others stay', async () => {
    const { irc } = await ircServer();
    const a = await raw(irc, 'alice');
    const isupport = a.lines.find((l) => / 005 /.test(l))!;
    expect(isupport.split(' ')).toContain('CHANLIMIT=#:20');
    const all = Array.from({ length: 20 }, (_, i) => `#c${i}`);
    a.send(`JOIN ${all.join(',')}`);
    await a.waitFor(/ 366 alice #c19 /);
    a.send('JOIN #c20');
    await a.waitFor(/ 405 alice #c20 :You have joined too many channels/);
    const from = a.mark();
    a.send('PRIVMSG #c0 :still in c0');
    a.send('JOIN 0');
    for (const channel of all) await a.waitFor(`:alice!alice@127.0.0.1 PART ${channel} :Left all channels`, { from });
    a.send('JOIN #c20');
    await a.waitFor(/ 366 alice #c20 /, { from });
    expect(a.lines.slice(from).some((l) => / 404 /.test(l))).toBe(false);
  });
});

describe('NICK after registration', () => {
  test('a free nick renames the user in every channel: IRC members see one NICK line, a CLI member sees join and leave', async () => {
    const { port, irc } = await ircServer();
    const carol = await startClient('carol', port);
    await expectAfter(carol.proc, 'create_group r', [line('[Group r created by Server.]')]);
    await joinGroup(carol, 'r');
    const alice = await raw(irc, 'alice');
    const bob = await raw(irc, 'bob');
    for (const s of [alice, bob]) {
      s.send('JOIN #r,#s');
      await s.waitFor(/ 366 \S+ #s /);
    }
    await alice.waitFor(/^:bob!bob@chatapp JOIN #s$/);
    const aliceFrom = alice.mark();
    const carolFrom = carol.proc.mark();
    bob.send('NICK robert');
    await bob.waitFor(':bob!bob@127.0.0.1 NICK robert');
    await alice.waitFor(':bob!bob@chatapp NICK robert', { from: aliceFrom });
    await carol.proc.waitForLine(line('[robert joined the group]', 'r'), { from: carolFrom });
    await carol.proc.waitForLine(line('[bob left the group]', 'r'), { from: carolFrom });
    bob.send('PRIVMSG #r :now robert');
    bob.send('PRIVMSG #s :in s too');
    await carol.proc.waitForLine(groupMessage('r', 'robert', 'now robert'));
    await alice.waitFor(/^:robert!robert@chatapp PRIVMSG #r :?now robert$/, { from: aliceFrom });
    await alice.waitFor(/^:robert!robert@chatapp PRIVMSG #s :?in s too$/, { from: aliceFrom });
    const seen = alice.lines.slice(aliceFrom);
    expect(seen.filter((l) => / NICK /.test(l))).toHaveLength(1);
    expect(seen.filter((l) => / (JOIN|PART|QUIT) /.test(l))).toEqual([]);
    await sendGroup(carol, 'r', 'hello robert');
    await bob.waitFor(/^:carol!carol@chatapp PRIVMSG #r :?hello robert$/);
    bob.send('NAMES #s');
    await bob.waitFor(/ 353 robert = #s :alice robert$/);

    const dave = await raw(irc, 'bob'); // the guest name bob was released
    expect(dave.lines[0]).toMatch(/^:chatapp 001 bob /);
  });

  test('a nick in use or bound to a key gets 433, a bad one 432, and the user keeps its nick; back to the SASL account name works', async () => {
    const { port, irc } = await ircServer();
    const carol = await startClient('carol', port);
    await carol.proc.stop();
    await raw(irc, 'alice');
    const sam = await registeredClient(irc, 'sam', { account: { account: 'sam', password: 'pw' } });
    const mark = sam.mark();
    sam.client.raw('NICK alice');
    await sam.waitLine(/ 433 sam alice :Nickname is in use/, mark);
    sam.client.raw('NICK carol');
    await sam.waitLine(/ 433 sam carol :Nickname is in use or registered to another identity/, mark);
    sam.client.raw('NICK bad!nick');
    await sam.waitLine(/ 432 sam bad!nick /, mark);
    sam.client.raw('NICK samuel');
    await sam.waitLine(/^:sam!\S+ NICK :?samuel$/, mark);
    sam.client.raw('NICK sam');
    await sam.waitLine(/^:samuel!\S+ NICK :?sam$/, mark);
    sam.client.raw('WHO samuel');
    await sam.waitLine(/ 315 sam samuel /, mark);
    expect(sam.lines.slice(mark).some((l) => / 352 sam \* samuel /.test(l))).toBe(false);
    const again = await raw(irc, 'samuel'); // the guest name was released when sam took its account name back
    expect(again.lines[0]).toMatch(/^:chatapp 001 samuel /);
  });
});

describe('private messages between IRC and chatapp clients (relayed by the server)', () => {
  test('both ways: the CLI sender sees "received" once the IRC side has it; the CLI shows a relayed message like a direct one', async () => {
    const { port, irc } = await ircServer();
    const bob = await registeredClient(irc, 'bob', { enable_echomessage: true });
    const alice = await startClient('alice', port);
    await waitUntilOnline(alice.proc, ['bob']);

    await expectAfter(alice.proc, 'send bob hello irc', [line('[Message received by bob.]')]);
    const got = await bob.waitEvent('privmsg', (e) => e.message === 'hello irc');
    expect([got.nick, got.target]).toEqual(['alice', 'bob']);

    const from = bob.mark();
    bob.client.say('alice', 'hello terminal');
    await alice.proc.waitForLine(line('bob: hello terminal'));
    await bob.waitLine(/^@time=\S+ :bob!\S+ PRIVMSG alice :?hello terminal$/, from); // echo-message
  });

  test('to an offline chatapp account the message is saved and shown when it comes back; to an unknown nick 401', async () => {
    const { port, irc } = await ircServer();
    const carol = await startClient('carol', port);
    await carol.proc.stop();
    const bob = await raw(irc, 'bob');
    bob.send('PRIVMSG carol :while you were out');
    bob.send('PRIVMSG nobody :hello?');
    await bob.waitFor(':chatapp 401 bob nobody :No such nick/channel');
    expect(bob.lines.some((l) => / 404 bob carol /.test(l))).toBe(false);
    const back = await startClient('carol', port);
    await back.proc.waitForLine(/^>>> bob: .* while you were out$/);
  });

  test('a private message between two IRC users goes through the relay', async () => {
    const { irc } = await ircServer();
    const a = await raw(irc, 'ann');
    const b = await raw(irc, 'ben');
    a.send('PRIVMSG BEN :psst');
    await b.waitFor(/^:ann!\S+ PRIVMSG ben :?psst$/);
  });
});
