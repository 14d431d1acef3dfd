import net from 'node:net';
import { identityOf, signedRegister } from '../helpers/test-identity';
import { ChatServer } from '../../src/server/chat-server';
import { listenChatServer, type ChatListener } from '../../src/server/tcp-listener';
import { PortInUseError } from '../../src/net/listen';

/** Every connection's challenge here (ChatServerOptions.newChallenge), so raw registrations are signed at once. */
const CHALLENGE = Buffer.alloc(32, 9).toString('base64');

/** Reads newline-delimited JSON from a socket until `count` frames have arrived. */
function readFrames(socket: net.Socket, count: number): Promise<unknown[]> {
  return new Promise((resolve, reject) => {
    let text = '';
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      // `hello` (the connection's challenge) is not what these tests look at: they sign with CHALLENGE.
      const lines = text.split('\n').filter((l) => l.length > 0 && !l.startsWith('{"type":"hello"'));
      if (lines.length >= count) {
        socket.off('data', onData);
        resolve(lines.slice(0, count).map((l) => JSON.parse(l) as unknown));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after: ${text}`)));
  });
}

describe('ChatServer over loopback TCP (port 0)', () => {
  let server: ChatServer;
  let listener: ChatListener;
  const sockets: net.Socket[] = [];

  beforeEach(async () => {
    server = new ChatServer({ newChallenge: () => CHALLENGE, limits: { heartbeatMs: 0 } });
    listener = await listenChatServer(server, 0, '127.0.0.1');
  });
  afterEach(async () => {
    for (const s of sockets.splice(0)) s.destroy();
    await listener.close();
  });

  const connect = (): Promise<net.Socket> =>
    new Promise((resolve) => {
      const socket = net.connect(listener.port, '127.0.0.1', () => resolve(socket));
      sockets.push(socket);
    });

  it('binds an OS-chosen port and registers a client, recording its address from the socket', async () => {
    expect(listener.port).toBeGreaterThan(0);
    const socket = await connect();
    const frames = readFrames(socket, 2);
    socket.write(JSON.stringify(signedRegister(CHALLENGE, { name: 'tess', id: 'r1', port: 4321, ekey: false })) + '\n');
    expect(await frames).toEqual([
      { type: 'reply', id: 'r1' },
      {
        type: 'table',
        rev: 1,
        full: true,
        clients: [{ name: 'tess', host: '127.0.0.1', port: 4321, online: true, key: identityOf('tess').publicKey }],
      },
    ]);
  });

  it('refuses a taken port with PortInUseError', async () => {
    const other = new ChatServer();
    await expect(listenChatServer(other, listener.port, '127.0.0.1')).rejects.toBeInstanceOf(PortInUseError);
    await other.close();
  });

  it('close() tells open connections shutting_down and frees the port', async () => {
    const socket = await connect();
    const frames = readFrames(socket, 1);
    await listener.close();
    expect(await frames).toMatchObject([{ type: 'error', code: 'shutting_down' }]);
    const again = await listenChatServer(new ChatServer(), listener.port, '127.0.0.1');
    expect(again.port).toBe(listener.port);
    listener = again;
  });
  it('a member that stops reading is removed and the others keep receiving every message (flow control)', async () => {
    await listener.close();
    // A 1 s ack timeout: a loaded machine must not make the reading member look unresponsive.
    server = new ChatServer({
      newChallenge: () => CHALLENGE,
      limits: { heartbeatMs: 0, rateLimitPerSec: 0, ackTimeoutMs: 1000, maxOutboundBytes: 16 * 1024 },
    });
    // Removed for not acking in time — or, if its queue blew past the hard cap first, dropped as a slow consumer.
    const removed = new Promise<string>((resolve) => {
      server.on('groupLeft', (n) => resolve(n));
    });
    listener = await listenChatServer(server, 0, '127.0.0.1');
    const [sender, good, stuck] = await Promise.all([connect(), connect(), connect()]);
    const setup = async (s: net.Socket, name: string, extra: object[]): Promise<void> => {
      const frames = readFrames(s, 2 + extra.length);
      s.write(JSON.stringify(signedRegister(CHALLENGE, { name, id: 'r', port: 1 })) + '\n');
      for (const f of extra) s.write(JSON.stringify(f) + '\n');
      await frames;
    };
    await setup(sender, 'sender', [
      { type: 'create_group', id: 'c', group: 'g' },
      { type: 'join_group', id: 'j', group: 'g' },
    ]);
    await setup(good, 'good', [{ type: 'join_group', id: 'j', group: 'g' }]);
    await setup(stuck, 'stuck', [{ type: 'join_group', id: 'j', group: 'g' }]);
    stuck.pause(); // never reads again
    const total = 3000;
    const text = 'y'.repeat(200);
    let seen = 0;
    const allSeen = new Promise<void>((resolve) => {
      let buf = '';
      good.on('data', (chunk: Buffer) => {
        buf += chunk.toString('utf8');
        let last = -1;
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const f = JSON.parse(buf.slice(0, i)) as { type: string; seq?: number };
          buf = buf.slice(i + 1);
          if (f.type === 'group_msg') {
            seen++;
            last = f.seq ?? last;
          }
        }
        if (last > 0) good.write(JSON.stringify({ type: 'group_ack', group: 'g', seq: last }) + '\n');
        if (seen === total) resolve();
      });
    });
    sender.resume();
    for (let i = 0; i < total; i++) sender.write(JSON.stringify({ type: 'send_group', id: `m${i}`, text }) + '\n');
    await allSeen;
    expect(seen).toBe(total);
    expect(await removed).toBe('stuck');
  });
});
