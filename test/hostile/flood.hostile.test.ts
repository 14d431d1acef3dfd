import net from 'node:net';
import { startServer as startChatServer, type StartedServer } from '../../testkit/chat-roles';
import { eventually } from '../helpers/eventually';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';

/**
 * Connection floods and slow readers against real server processes (docs/protocol.md "Limits":
 * "at the connection limit the server sheds connections that have not
 * registered, oldest first"; docs/usage.md "Server": "one client's bad or slow behaviour
 * never delays or drops another client's messages").
 */

const MAX_CLIENTS = 30;
const RSS_LIMIT_MB = 300;

const servers: StartedServer[] = [];

afterEach(async () => {
  await closeAllRawClients();
  for (const s of servers.splice(0)) {
    expect(s.proc.alive).toBe(true);
    await s.proc.stop();
  }
});

/** A server that outlives the test's automatic cleanup, so `afterEach` above can check that it survived. */
async function startServer(args: string[]): Promise<StartedServer> {
  const server = await startChatServer(args, { keepAcrossTests: true });
  servers.push(server);
  return server;
}

/** Two members of `group`; returns them once both joined. */
async function pair(port: number, names: [string, string], group: string): Promise<[RawClient, RawClient]> {
  const a = await RawClient.registered(port, names[0]);
  const b = await RawClient.registered(port, names[1]);
  expect((await a.request({ type: 'create_group', group })).type).toBe('reply');
  for (const c of [a, b]) expect((await c.request({ type: 'join_group', group })).type).toBe('reply');
  return [a, b];
}

/** `from` sends `text` to its group and every one of `to` receives it. */
async function deliver(from: RawClient, to: RawClient[], text: string): Promise<void> {
  expect((await from.request({ type: 'send_group', text })).type).toBe('reply');
  for (const c of to) await c.waitFor((f) => f.type === 'group_msg' && f.text === text, `"${text}"`);
}

/** A round trip on an unregistered connection: proves the server still reads it. */
async function stillServed(c: RawClient): Promise<void> {
  expect(await c.request({ type: 'list_groups' })).toMatchObject({ type: 'error', code: 'not_registered' });
}

function assertBounded(server: StartedServer): void {
  expect(server.proc.alive).toBe(true);
  expect(server.proc.output('stderr')).toBe('');
  expect(server.proc.rssMb()).toBeLessThan(RSS_LIMIT_MB);
}

describe('connection floods', () => {
  it('sheds unregistered connections oldest first at --max-clients; real clients still register', async () => {
    const server = await startServer(['--max-clients', String(MAX_CLIENTS)]);
    const [a, b] = await pair(server.port, ['anna', 'ben'], 'flood');

    const idle: RawClient[] = [];
    for (let i = 0; i < 2 * MAX_CLIENTS; i++) {
      const c = await RawClient.connect(server.port);
      await stillServed(c); // the server has taken this connection in before the next arrives
      idle.push(c);
    }
    // 2 registered + 60 idle offered at a limit of 30: the 32 oldest idle ones were shed
    const shed = idle.length + 2 - MAX_CLIENTS;
    const fatal = async (c: RawClient): Promise<string[]> =>
      (await c.waitClosed()).filter((code) => code !== 'not_registered');
    for (const c of idle.slice(0, shed)) expect(await fatal(c)).toEqual(['server_full']);
    for (const c of idle.slice(shed)) await stillServed(c);

    // a real client gets in, at the expense of the oldest idle connection left
    const real = await RawClient.registered(server.port, 'real');
    expect(await fatal(idle[shed]!)).toEqual(['server_full']);
    expect((await real.request({ type: 'join_group', group: 'flood' })).type).toBe('reply');
    await deliver(a, [b, real], 'through the flood');
    assertBounded(server);
  });

  it('with every slot registered a newcomer gets server_full; a freed slot admits the next one', async () => {
    const server = await startServer(['--max-clients', '6']);
    const [a, b] = await pair(server.port, ['cleo', 'dan'], 'full');
    const others: RawClient[] = [];
    for (let i = 0; i < 4; i++) others.push(await RawClient.registered(server.port, `filler${i}`));

    const newcomer = await RawClient.connect(server.port);
    expect(await newcomer.waitClosed()).toEqual(['server_full']);
    await deliver(a, [b], 'still full but working');

    expect((await others[0]!.request({ type: 'dereg', name: 'filler0' })).type).toBe('reply');
    others[0]!.close();
    await others[0]!.closed;
    // The server may see the close a moment after we do, and prints nothing when it frees the slot: retry until it is free.
    const admitted = await eventually(async () => {
      const c = await RawClient.connect(server.port);
      const answer = await c.register('latecomer').catch(() => null);
      return answer?.type === 'reply' ? c : null;
    }, 'a free slot for latecomer').catch(() => null);
    expect(admitted).not.toBeNull();
    assertBounded(server);
  });

  it('survives 300 connections reset right after connecting, and 300 that close without a byte', async () => {
    const server = await startServer(['--max-clients', '100']);
    const [a, b] = await pair(server.port, ['eve', 'fay'], 'resets');
    const opened = (): Promise<net.Socket> =>
      new Promise((resolve, reject) => {
        const s = net.connect({ host: '127.0.0.1', port: server.port }, () => resolve(s));
        s.once('error', reject);
      });
    for (let i = 0; i < 300; i++) {
      const s = await opened();
      s.on('error', () => undefined);
      if (i % 2 === 0) s.resetAndDestroy();
      else s.end();
    }
    await Promise.all(
      Array.from({ length: 300 }, async () => {
        const s = await opened();
        s.on('error', () => undefined);
        s.destroy();
      }),
    );
    await deliver(a, [b], 'after the resets');
    const late = await RawClient.registered(server.port, 'late');
    expect(late.isClosed).toBe(false);
    assertBounded(server);
  });
});

describe('slow readers', () => {
  it('a member that stops reading is dropped or removed; the others get every message, in order', async () => {
    const server = await startServer([
      '--max-outbound-bytes',
      '16384',
      '--drain-timeout',
      '500',
      '--ack-timeout',
      '300',
      '--max-message-length',
      '60000',
      '--max-frame-bytes',
      '65536',
      '--rate-limit-per-sec',
      '0',
    ]);
    const [a, b] = await pair(server.port, ['gus', 'hal'], 'slow');
    const slow = await RawClient.registered(server.port, 'slowpoke');
    expect((await slow.request({ type: 'join_group', group: 'slow' })).type).toBe('reply');
    slow.stream.pause(); // never reads again: its kernel buffers fill, then the server's queue

    const texts = Array.from({ length: 300 }, (_, i) => `${i} ${'x'.repeat(50_000)}`);
    for (const text of texts) expect((await a.request({ type: 'send_group', text }, 15_000)).type).toBe('reply');
    await b.waitFor((f) => f.type === 'group_msg' && f.text === texts[texts.length - 1], 'the last message', 15_000);
    expect(b.groupMessages('slow').map((m) => m.text)).toEqual(texts);

    // the slow member is gone from the group: removed as unresponsive, or disconnected as a slow consumer
    const members = await a.request({ type: 'list_members' });
    expect(members.type === 'reply' && members.members).toEqual(['gus', 'hal']);
    const gone = /^>>> \[Client slowpoke (not responsive, removed from group slow|left group slow)\]$/;
    await server.proc.waitForLine(gone, { from: 0 }); // stdout is a separate pipe: it may trail the frames
    expect(server.proc.linesMatching(gone)).toHaveLength(1);
    assertBounded(server);
  });
  it('a member that reads but never acks is removed and told so; the others keep receiving', async () => {
    const server = await startServer(['--ack-timeout', '300']);
    const [a, b] = await pair(server.port, ['ivy', 'jon'], 'noack');
    const mute = await RawClient.registered(server.port, 'mute', { autoAck: false });
    expect((await mute.request({ type: 'join_group', group: 'noack' })).type).toBe('reply');
    await deliver(a, [b, mute], 'first');
    await mute.waitFor((f) => f.type === 'removed' && f.group === 'noack', 'removed frame');
    const removed = /^>>> \[Client mute not responsive, removed from group noack\]$/;
    await server.proc.waitForLine(removed, { from: 0 });
    expect(server.proc.linesMatching(removed)).toHaveLength(1);
    await deliver(a, [b], 'second');
    expect(mute.groupMessages('noack').map((m) => m.text)).toEqual(['first']);
    expect(mute.isClosed).toBe(false); // removed from the group, not disconnected
    assertBounded(server);
  });
});
