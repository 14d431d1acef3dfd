import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { newDataHome } from '../../testkit/data-home';
import { startClient, startServer, type StartedClient } from '../../testkit/chat-roles';
import {
  expectAfter,
  line,
  listing,
  sendPrivate,
  SLOW_EVENT_MS,
  TABLE_UPDATED,
  waitUntilOnline,
} from '../helpers/e2e-chat';
import type { CliProcess } from '../../testkit/cli-process';
import { TcpObserver } from '../helpers/tcp-observer';

/**
 * Issue 12, end to end with real processes: private messages are readable
 * only by their receiver (docs/security.md "End-to-end encryption"). The
 * server's database never holds a saved message's text; a passive observer
 * between two clients, or between a client and a `--no-tls` server, never
 * sees a private message's text; and a client warns once when a name it
 * exchanged messages with shows another identity key (docs/usage.md
 * "Files" `known_clients`).
 */

const observers: TcpObserver[] = [];
afterEach(async () => {
  for (const o of observers.splice(0)) await o.close();
});

/** A marker no other test writes, so finding it anywhere means this message leaked. */
function marker(what: string): string {
  return `${what}-${crypto.randomBytes(8).toString('hex')}`;
}

async function observer(target: number | null = null): Promise<TcpObserver> {
  const o = await TcpObserver.start(target);
  observers.push(o);
  return o;
}

/** Every file under `dir`, its bytes. */
function filesUnder(dir: string): Array<{ file: string; bytes: Buffer }> {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).flatMap((entry) => {
    if (!entry.isFile()) return [];
    const file = path.join(entry.parentPath, entry.name);
    return [{ file, bytes: fs.readFileSync(file) }];
  });
}

/** Waits until `proc`'s table no longer lists `name` online (asking `who` after each table line). */
async function waitUntilOffline(proc: CliProcess, name: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const from = proc.mark();
    if (!(await listing(proc, 'who', line('[Online clients:]'))).includes(line(name))) return;
    if (attempt >= 20) throw new Error(`${name} never offline:\n${proc.describe()}`);
    await proc.waitForIndex(TABLE_UPDATED, { from, timeoutMs: SLOW_EVENT_MS });
  }
}

/** `from` sends `text` to `to`, which is offline: the server keeps it. */
async function saveFor(from: StartedClient, to: string, text: string): Promise<void> {
  await expectAfter(from.proc, `send ${to} ${text}`, [line('[Messages received by the server and saved]')]);
}

describe('what others cannot read', () => {
  test("the server's database file and its WAL hold no plaintext of a saved message; the receiver reads it", async () => {
    const data = path.join(newDataHome('test'), 'server');
    const { port } = await startServer(['--data', data]);
    const alice = await startClient('alice', port);
    const carol = await startClient('carol', port);
    await carol.proc.stop('endInput');
    await waitUntilOffline(alice.proc, 'carol'); // else alice would still try carol directly
    const secret = marker('saved-secret');
    await saveFor(alice, 'carol', secret);
    const files = filesUnder(data);
    expect(files.map((f) => path.basename(f.file))).toEqual(expect.arrayContaining(['chatapp.db']));
    for (const { file, bytes } of files) expect([file, bytes.includes(Buffer.from(secret))]).toEqual([file, false]);
    const back = await startClient('carol', port);
    await back.proc.waitForLine(new RegExp(`^>>> alice: \\S+ \\S+ ${secret}$`)); // positive control
  });

  test('a passive observer between two clients (bob advertises it with --advertise) sees the dm but not its text', async () => {
    const { port } = await startServer();
    const tap = await observer();
    const alice = await startClient('alice', port);
    const bob = await startClient('bob', port, ['--advertise', `127.0.0.1:${tap.port}`]);
    tap.forwardTo(bob.listenPort);
    await waitUntilOnline(alice.proc, ['bob']);
    const secret = marker('direct-secret');
    await sendPrivate(alice, bob, secret); // through the observer: bob is only reachable there
    expect(tap.saw('"type":"dm"')).toBe(true); // positive control: the message crossed it
    expect(tap.saw('"type":"dm_ack"')).toBe(true);
    expect(tap.saw(secret)).toBe(false);
  });

  test('a passive observer between a client and a --no-tls server sees the saved message go by, not its text', async () => {
    const { port } = await startServer(['--no-tls']);
    const carol = await startClient('carol', port, ['--no-tls']);
    await carol.proc.stop('endInput');
    const tap = await observer(port);
    const alice = await startClient('alice', tap.port, ['--no-tls']);
    const secret = marker('wire-secret');
    await saveFor(alice, 'carol', secret);
    expect(tap.saw('"type":"save_message"')).toBe(true); // positive control: it crossed the observer
    expect(tap.saw(secret)).toBe(false);
    const back = await startClient('carol', port, ['--no-tls']);
    await back.proc.waitForLine(new RegExp(`^>>> alice: \\S+ \\S+ ${secret}$`));
  });
});

describe('known_clients: trust on first use for other clients', () => {
  test('a name that comes back with another identity key is reported once, re-pinned, and talked to again', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    const bob = await startClient('bob', port);
    await waitUntilOnline(alice.proc, ['bob']);
    await sendPrivate(alice, bob, 'before'); // alice pins bob's key
    const pins = path.join(alice.proc.dataHome, 'chatapp', 'known_clients');
    expect(fs.readFileSync(pins, 'utf8')).toMatch(/^bob [A-Za-z0-9+/]{43}=$/m);
    expect(fs.statSync(pins).mode & 0o777).toBe(0o600);
    await expectAfter(bob.proc, 'delete_account bob', [line('[Account bob deleted. Bye.]')]);
    const from = alice.proc.mark();
    const other = path.join(newDataHome('test'), 'other-bob.key');
    const newBob = await startClient('bob', port, ['--identity', other]);
    const warning = '>>> [Warning: the identity of bob has changed]';
    await alice.proc.waitForLine(warning, { from });
    await waitUntilOnline(alice.proc, ['bob']);
    await sendPrivate(alice, newBob, 'after');
    expect(alice.proc.linesMatching(warning)).toHaveLength(1);
  });
});
