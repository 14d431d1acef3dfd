import net from 'node:net';
import { signedRegister } from '../helpers/test-identity';
import { PassThrough } from 'node:stream';
import { runServerMode } from '../../src/cli/server-mode';
import type { Terminal } from '../../src/cli/terminal-io';
import { DEFAULT_LIMITS } from '../../src/protocol/limits';

/** A fake terminal: captured stdout/stderr lines and a signal the test can raise. */
function fakeTerminal() {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: string[] = [];
  const err: string[] = [];
  const waiters: Array<() => void> = [];
  const collect = (stream: PassThrough, into: string[]) =>
    stream.on('data', (chunk: Buffer) => {
      into.push(
        ...chunk
          .toString('utf8')
          .split('\n')
          .filter((l) => l.length > 0),
      );
      for (const w of waiters.splice(0)) w();
    });
  collect(stdout, out);
  collect(stderr, err);
  let handler: ((s: 'SIGINT' | 'SIGTERM') => void) | null = null;
  const io: Terminal = {
    stdin: new PassThrough(),
    stdout,
    stderr,
    onSignal(h) {
      handler = h;
      return () => {
        handler = null;
      };
    },
  };
  const until = async (pred: () => boolean): Promise<void> => {
    while (!pred()) await new Promise<void>((r) => waiters.push(r));
  };
  return { io, out, err, until, signal: (s: 'SIGINT' | 'SIGTERM') => handler?.(s) };
}

describe('runServerMode (docs/usage.md "Server" output)', () => {
  it('prints the startup line with the chosen port, one line per event, and exits 0 on SIGINT', async () => {
    const t = fakeTerminal();
    const exit = runServerMode(
      {
        port: 0,
        limits: { ...DEFAULT_LIMITS, heartbeatMs: 0 },
        limitLoopback: false,
        logText: true,
        state: { kind: 'memory' },
      },
      t.io,
    );
    await t.until(() => t.out.length >= 1);
    const match = /^>>> \[Server is online, listening on port (\d+)\]$/.exec(t.out[0] ?? '');
    expect(match).not.toBeNull();
    expect(t.out[1]).toBe('>>> [Keeping state in memory only]');
    const socket = net.connect(Number(match![1]), '127.0.0.1');
    // The first line is the server's hello (docs/protocol.md "Accounts"); the rest is read and dropped
    // so the close handshake completes.
    const hello = await new Promise<string>((resolve) => {
      let text = '';
      const onData = (chunk: Buffer): void => {
        text += chunk.toString('utf8');
        if (!text.includes('\n')) return;
        socket.off('data', onData);
        socket.resume();
        resolve(text.slice(0, text.indexOf('\n')));
      };
      socket.on('data', onData);
    });
    const send = (f: object) => socket.write(JSON.stringify(f) + '\n');
    send(signedRegister((JSON.parse(hello) as { challenge: string }).challenge, { name: 'ann', id: 'r', port: 1 }));
    send({ type: 'create_group', id: 'c', group: 'room' });
    send({ type: 'create_group', id: 'c2', group: 'room' });
    send({ type: 'list_groups', id: 'l' });
    send({ type: 'join_group', id: 'j', group: 'room' });
    send({ type: 'send_group', id: 's', text: 'hi there' });
    send({ type: 'send_group', id: 's2', text: 'x\n>>> [fake]\u001b[2J' });
    send({ type: 'list_members', id: 'm' });
    send({ type: 'leave_group', id: 'lv' });
    send({ type: 'join_group', id: 'j2', group: 'nope' });
    await t.until(() => t.out.length >= 14);
    expect(t.out.slice(2)).toEqual([
      '>>> [Client table updated.]',
      '>>> [Client ann created group room successfully]',
      '>>> [Client ann creating group room failed, group already exists]',
      '>>> [Client ann requested listing groups, current groups:]',
      '>>> room',
      '>>> [Client ann joined group room]',
      '>>> [Client ann sent group message: hi there]',
      '>>> [Client ann sent group message: x\\n>>> [fake]\\u001b[2J]',
      '>>> [Client ann requested listing members of group room:]',
      '>>> ann',
      '>>> [Client ann left group room]',
      '>>> [Client ann joining group nope failed, group does not exist]',
    ]);
    const closed = new Promise<void>((r) => socket.once('close', () => r()));
    t.signal('SIGINT');
    expect(await exit).toBe(0);
    await closed;
    expect(t.err).toEqual([]);
  });

  it('prints [Port <port> is already in use] to stderr and returns 1 when the port is taken', async () => {
    const blocker = net.createServer();
    const port = await new Promise<number>((resolve) =>
      blocker.listen(0, () => resolve((blocker.address() as net.AddressInfo).port)),
    );
    try {
      const t = fakeTerminal();
      expect(
        await runServerMode(
          { port, limits: { ...DEFAULT_LIMITS }, limitLoopback: false, logText: true, state: { kind: 'memory' } },
          t.io,
        ),
      ).toBe(1);
      await t.until(() => t.err.length >= 1);
      expect(t.err).toEqual([`>>> [Port ${port} is already in use]`]);
      expect(t.out).toEqual([]);
    } finally {
      await new Promise<void>((r) => blocker.close(() => r()));
    }
  });
});
