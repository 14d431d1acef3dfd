import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { ChatClient } from '../../src/client/chat-client';
import { runClientMode } from '../../src/cli/client-mode';
import type { Terminal } from '../../src/cli/terminal-io';
import { DEFAULT_LIMITS, type Limits } from '../../src/protocol/limits';
import type { ClientEntry } from '../../src/protocol/frames';
import { FakeServer } from './client-fake-server';

/**
 * The client-mode renderer (docs/usage.md "How output looks"; docs/usage.md "Client") on a fake terminal, against a
 * scripted in-memory server; private messages go over real loopback sockets.
 */

/** A fake terminal: stdin to write commands to, stdout collected as lines, signals on demand. */
class FakeTerminal implements Terminal {
  readonly stdin = new PassThrough();
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly lines: string[] = [];
  private buffer = '';
  private waiters: Array<() => void> = [];
  private signalHandler: ((signal: 'SIGINT' | 'SIGTERM') => void) | null = null;

  constructor() {
    this.stdout.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      const parts = this.buffer.split('\n');
      this.buffer = parts.pop() ?? '';
      this.lines.push(...parts);
      this.waiters.splice(0).forEach((wake) => wake());
    });
  }

  onSignal(handler: (signal: 'SIGINT' | 'SIGTERM') => void): () => void {
    this.signalHandler = handler;
    return () => (this.signalHandler = null);
  }

  signal(signal: 'SIGINT' | 'SIGTERM'): void {
    this.signalHandler?.(signal);
  }

  type(line: string): void {
    this.stdin.write(line + '\n');
  }

  /** Resolves with the index of the first line equal to `line` at or after `from`. */
  async waitFor(line: string, from = 0): Promise<number> {
    for (;;) {
      const index = this.lines.indexOf(line, from);
      if (index !== -1) return index;
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }
}

/** A small stateful server script: registrations with table pushes to everyone, groups, replies. */
function chatServer(): { server: FakeServer; groups: Set<string>; ignore: Set<string> } {
  const clients = new Map<string, ClientEntry>();
  const groups = new Set<string>();
  const ignore = new Set<string>();
  const server: FakeServer = new FakeServer((frame, session) => {
    if (frame.type === 'group_ack' || frame.type === 'ping' || frame.type === 'pong' || ignore.has(frame.type)) return;
    const reply = { type: 'reply', id: frame.id } as const;
    switch (frame.type) {
      case 'register': {
        const { name, port, key, ekey, ekeySig } = frame;
        const published = ekey && ekeySig ? { ekey, ekeySig } : {};
        const entry = { name, host: '127.0.0.1', port, online: true, key, ...published };
        clients.set(frame.name, entry);
        session.send(reply);
        session.send({ type: 'table', rev: 1, full: true, clients: [...clients.values()] });
        for (const other of server.sessions)
          if (other !== session && other.conn.open)
            other.send({ type: 'table', rev: 2, full: false, clients: [entry] });
        return;
      }
      case 'create_group':
        if (groups.has(frame.group))
          return session.send({ type: 'error', id: frame.id, code: 'group_exists', message: 'exists' });
        groups.add(frame.group);
        return session.send(reply);
      case 'join_group':
        if (!groups.has(frame.group))
          return session.send({ type: 'error', id: frame.id, code: 'no_such_group', message: 'no' });
        return session.send({ ...reply, group: frame.group });
      default:
        return session.send(reply);
    }
  });
  return { server, groups, ignore };
}

const cleanups: Array<() => Promise<unknown> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function runAlice(server: FakeServer, limits: Partial<Limits> = {}): { term: FakeTerminal; exit: Promise<number> } {
  const term = new FakeTerminal();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'chatapp-cli-')); // never the runner's ~/.local/share
  const options = {
    name: 'alice',
    serverHost: '127.0.0.1',
    serverPort: 1,
    listenPort: 0,
    limits: { ...DEFAULT_LIMITS, heartbeatMs: 0, ...limits },
    identityFile: path.join(dataDir, 'identities', 'alice.key'),
  };
  const exit = runClientMode(options, term, { dial: server.dialer(), listenHost: '127.0.0.1', dataDir });
  cleanups.push(async () => {
    term.stdin.end();
    await exit;
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { term, exit };
}

async function runBob(server: FakeServer): Promise<ChatClient> {
  const bob = new ChatClient({
    name: 'bob',
    serverHost: '127.0.0.1',
    serverPort: 1,
    listenPort: 0,
    listenHost: '127.0.0.1',
    limits: { heartbeatMs: 0 },
    dial: server.dialer(),
  });
  cleanups.push(() => bob.close());
  await bob.start();
  expect(await bob.register()).toBe('ok');
  return bob;
}

async function enterGroup(term: FakeTerminal, group: string): Promise<void> {
  term.type(`create_group ${group}`);
  await term.waitFor(`>>> [Group ${group} created by Server.]`);
  term.type(`join_group ${group}`);
  await term.waitFor(`>>> [Entered group ${group} successfully]`);
}

describe('client-mode renderer (docs/usage.md "Client")', () => {
  it('queues private messages in group mode and prints them in order after leave_group', async () => {
    const { server } = chatServer();
    const bob = await runBob(server);
    const { term, exit } = runAlice(server);
    await term.waitFor('>>> [Client table updated.]');
    await enterGroup(term, 'g');
    expect(await bob.sendDirect('alice', 'one')).toBe('received'); // acked at once
    expect(await bob.sendDirect('alice', 'two')).toBe('received');
    term.type('list_members');
    const header = await term.waitFor('>>> (g) [Members in the group g:]');
    expect(term.lines.some((l) => l.includes('bob: one'))).toBe(false);
    term.type('leave_group');
    const left = await term.waitFor('>>> [Leave group chat g]', header);
    await term.waitFor('>>> bob: two', left);
    expect(term.lines.slice(left)).toEqual(['>>> [Leave group chat g]', '>>> bob: one', '>>> bob: two']);
    term.stdin.end(); // end of input deregisters
    expect(await exit).toBe(0);
    expect(term.lines[term.lines.length - 1]).toBe('>>> [You are Offline. Bye.]');
  });

  it('server loss in group mode: prefixed lost line, group gone on reconnect, then normal mode', async () => {
    const { server, groups } = chatServer();
    const { term, exit } = runAlice(server);
    await term.waitFor('>>> [Client table updated.]');
    await enterGroup(term, 'g');
    groups.clear(); // as if the server restarted
    server.dropAll();
    const lost = await term.waitFor('>>> (g) [Server connection lost]');
    const removed = await term.waitFor('>>> (g) [You were removed from group g]', lost);
    await term.waitFor('>>> [Reconnected to server]', removed);
    term.type('list_groups');
    await term.waitFor('>>> [No group chats available.]');
    term.stdin.end();
    expect(await exit).toBe(0);
  });

  it('SIGTERM with an unanswered dereg: not responding, queued messages, Exiting, all prefixed, exit 1', async () => {
    const { server, ignore } = chatServer();
    const bob = await runBob(server);
    const { term, exit } = runAlice(server, { ackTimeoutMs: 100, retries: 2 });
    await term.waitFor('>>> [Client table updated.]');
    await enterGroup(term, 'g');
    expect(await bob.sendDirect('alice', 'queued')).toBe('received');
    ignore.add('dereg');
    const from = term.lines.length;
    term.signal('SIGTERM');
    expect(await exit).toBe(1);
    expect(term.lines.slice(from)).toEqual([
      '>>> (g) [Server not responding]',
      '>>> (g) bob: queued',
      '>>> (g) [Exiting]',
    ]);
  });

  it('refuses an over-long message locally, and prints the rate-limited line for a rate_limited error', async () => {
    const { server } = chatServer();
    const { term, exit } = runAlice(server, { maxMessageLength: 5 });
    await term.waitFor('>>> [Client table updated.]');
    term.type('send alice 123456');
    await term.waitFor('>>> [Message too long: 6 characters, maximum is 5. Not sent.]');
    const healthy = server.script;
    server.script = (frame, session) => {
      if ('id' in frame) session.send({ type: 'error', id: frame.id, code: 'rate_limited', message: 'slow down' });
    };
    term.type('list_groups');
    await term.waitFor('>>> [Server is rate limiting this client, request not performed]');
    server.script = healthy;
    term.signal('SIGINT');
    expect(await exit).toBe(0);
    expect(term.lines[term.lines.length - 1]).toBe('>>> [You are Offline. Bye.]');
  });
});
