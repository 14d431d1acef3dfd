/**
 * docs/usage.md "Accounts": a name belongs to the key that first registered
 * it; the identity file (mode 0600, never silently replaced); a returning
 * owner replaces its own stale session; delete_account and delete_group.
 */
import fs from 'node:fs';
import path from 'node:path';
import { startCli } from '../../testkit/cli-process';
import { startClient, startServer, type StartedClient } from '../../testkit/chat-roles';
import { newDataHome } from '../../testkit/data-home';
import { tempDir, removeTempDirs } from '../helpers/temp-dir';
import {
  createGroup,
  expectAfter,
  expectCleanStderr,
  joinGroup,
  SLOW_EVENT_MS,
  startChat,
  waitUntilOnline,
} from '../helpers/e2e-chat';

const WELCOME = '>>> [Welcome, You are registered.]';

/** `chatapp -c <name>` on another user's machine (its own data home, so its own key). */
function otherMachine(name: string, port: number, label: string): ReturnType<typeof startCli> {
  return startCli(['-c', name, '127.0.0.1', String(port), '0'], { dataHome: newDataHome(), label });
}

afterAll(() => removeTempDirs());

describe('the identity file (docs/usage.md "Accounts", "Files")', () => {
  afterEach(() => expectCleanStderr());

  test('is created on first use at $XDG_DATA_HOME/chatapp/identities/<name in lower case>.key, mode 0600', async () => {
    const { port } = await startServer();
    const alice = await startClient('Alice', port);
    const file = path.join(alice.proc.dataHome, 'chatapp', 'identities', 'alice.key');
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  test.each([
    ['garbage', (file: string) => fs.writeFileSync(file, 'not a key at all\n'), /not an Ed25519 private key/],
    ['a directory (unreadable)', (file: string) => fs.mkdirSync(file), /directory/],
  ])('an identity file that is %s: Cannot use identity file, exit 1, the file untouched', async (_what, make, why) => {
    const { port } = await startServer();
    const file = path.join(tempDir(), 'alice.key');
    make(file);
    const before = fs.statSync(file).isFile() ? fs.readFileSync(file) : null;
    const proc = startCli(['-c', 'alice', '127.0.0.1', String(port), '0', '--identity', file]);
    const shown = await proc.waitForLine(/^>>> \[Cannot use identity file /);
    expect(shown.startsWith(`>>> [Cannot use identity file ${file}: `)).toBe(true);
    expect(shown).toMatch(why);
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(proc.lines()).not.toContain(WELCOME);
    if (before !== null) expect(fs.readFileSync(file)).toEqual(before);
    else expect(fs.statSync(file).isDirectory()).toBe(true);
  });
});

describe('a name belongs to an identity (docs/usage.md "Accounts")', () => {
  afterEach(() => expectCleanStderr());

  test('another key for an offline name (any case): belongs to another identity, exit 1; the owner comes back', async () => {
    const { port } = await startServer();
    const alice = await startClient('alice', port);
    await expectAfter(alice.proc, 'dereg alice', ['>>> [You are Offline. Bye.]']);
    const impostor = otherMachine('ALICE', port, 'impostor');
    await impostor.waitForLine('>>> [Name ALICE belongs to another identity.]');
    expect(await impostor.waitForExit()).toEqual({ code: 1, signal: null });
    expect(impostor.lines()).not.toContain(WELCOME);
    await startClient('alice', port, [], { label: 'alice (back)' });
  });

  test('stale session: an impostor is refused; the owner with its key replaces its own silent session', async () => {
    // The server pings the stale session for one heartbeat interval (3 s) and would notice the silence
    // by itself only after three (9 s); the owner waits up to 5 × 3 s for its registration.
    const { port } = await startServer(['--heartbeat', '3000']);
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    alice.proc.kill('SIGSTOP'); // its connection stays open, silent: the server has not noticed
    const impostor = otherMachine('alice', port, 'impostor');
    const owner = startClient('alice', port, ['--ack-timeout', '3000'], {
      label: 'alice (new session)',
      timeoutMs: SLOW_EVENT_MS,
    });
    await impostor.waitForLine('>>> [Name alice belongs to another identity.]');
    expect(await impostor.waitForExit()).toEqual({ code: 1, signal: null });
    const back = await owner;
    expect(back.proc.lines()).not.toContain('>>> [Name alice is already in use. Try another one.]');
    await waitUntilOnline(bob.proc, ['alice']);
    const from = back.proc.mark();
    await expectAfter(bob.proc, 'send alice is it really you?', ['>>> [Message received by alice.]']);
    await back.proc.waitForLine('>>> bob: is it really you?', { from });
  });
});

describe('delete_account (docs/usage.md "Accounts")', () => {
  afterEach(() => expectCleanStderr());

  test('own name: Account deleted. Bye., exit 0; the name is free for a new key', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await expectAfter(alice.proc, 'delete_account bob', ['>>> [You can only delete your own account]']);
    await expectAfter(alice.proc, 'delete_account alice', ['>>> [Account alice deleted. Bye.]']);
    expect(await alice.proc.waitForExit()).toEqual({ code: 0, signal: null });
    const fresh = otherMachine('alice', port, 'new alice');
    await fresh.waitForLine(WELCOME);
    await waitUntilOnline(bob.proc, ['alice']);
  });
});

describe('delete_group (docs/usage.md "Groups")', () => {
  afterEach(() => expectCleanStderr());

  test('creator: Group deleted; members are told and back in normal mode; others and unknown groups refused', async () => {
    const { port } = await startServer();
    const [alice, bob] = (await startChat(['alice', 'bob'], port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'room');
    await joinGroup(bob, 'room');
    await expectAfter(bob.proc, 'leave_group', ['>>> [Leave group chat room]']);
    await expectAfter(bob.proc, 'delete_group room', ['>>> [Only alice can delete group room]']);
    await expectAfter(bob.proc, 'delete_group nowhere', ['>>> [Group nowhere does not exist]']);
    await joinGroup(bob, 'room');
    const from = bob.proc.mark();
    await expectAfter(alice.proc, 'delete_group room', ['>>> [Group room deleted.]']);
    await bob.proc.waitForLine('>>> (room) [Group room was deleted]', { from });
    // Back in normal mode: lines are not prefixed, and the group is gone.
    await expectAfter(bob.proc, 'list_groups', ['>>> [No group chats available.]']);
    await expectAfter(alice.proc, 'join_group room', ['>>> [Group room does not exist]']);
  });
});
