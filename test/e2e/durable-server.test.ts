/**
 * docs/usage.md "Durable state": where the server keeps its state, what a
 * restart keeps, and the data directories it refuses (in use, corrupt,
 * newer) — each refusal exits 1 and leaves every file exactly as it was.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { startCli } from '../../testkit/cli-process';
import { startClient, startServer, type StartedClient } from '../../testkit/chat-roles';
import { newDataHome } from '../../testkit/data-home';
import {
  createGroup,
  expectAfter,
  expectCleanStderr,
  joinGroup,
  line,
  sendGroup,
  startChat,
} from '../helpers/e2e-chat';
import { DB_FILE, hashFiles, historyLine, newDataDir, savedLine, startDurableServer } from '../helpers/durable';

const ONLINE = /^>>> \[Server is online, listening on port \d+\]$/;

describe('where the state is kept (docs/usage.md "Durable state")', () => {
  afterEach(() => expectCleanStderr());

  test('--data <dir>: the online line, then Keeping state in <dir>; the database is created there', async () => {
    const dir = newDataDir();
    const { proc } = await startDurableServer(dir);
    expect(proc.lines().slice(0, 2)).toEqual([expect.stringMatching(ONLINE), `>>> [Keeping state in ${dir}]`]);
    expect(fs.existsSync(path.join(dir, DB_FILE))).toBe(true);
  });

  test('the default data directory is $XDG_DATA_HOME/chatapp/server', async () => {
    const home = newDataHome();
    const proc = startCli(['-s', '0'], { dataHome: home });
    await proc.waitForLine(ONLINE);
    await proc.waitForLine(`>>> [Keeping state in ${path.join(home, 'chatapp', 'server')}]`);
  });

  test('--ephemeral: Keeping state in memory only, and no file is written', async () => {
    const home = newDataHome();
    const { proc } = await startServer(['--ephemeral'], { dataHome: home });
    await proc.waitForLine('>>> [Keeping state in memory only]');
    expect(proc.lines()[1]).toBe('>>> [Keeping state in memory only]');
    expect(fs.readdirSync(home)).toEqual([]);
  });
});

describe('a restart keeps accounts, groups, history and saved messages (docs/usage.md "Durable state")', () => {
  afterEach(() => expectCleanStderr());

  test('after SIGTERM and a new start on the same --data, everything acknowledged is there', async () => {
    const dir = newDataDir();
    const first = await startDurableServer(dir);
    const [alice, bob] = (await startChat(['alice', 'bob'], first.port)) as [StartedClient, StartedClient];
    await createGroup(alice, 'room');
    await joinGroup(alice, 'room');
    await sendGroup(alice, 'room', 'first words');
    await sendGroup(alice, 'room', 'second words');
    await expectAfter(bob.proc, 'dereg bob', ['>>> [You are Offline. Bye.]']);
    await expectAfter(alice.proc, 'leave_group', ['>>> [Leave group chat room]']);
    await expectAfter(alice.proc, 'send bob kept for you', ['>>> [Messages received by the server and saved]']);
    await expectAfter(alice.proc, 'dereg alice', ['>>> [You are Offline. Bye.]']);
    expect(await first.proc.stop()).toEqual({ code: 0, signal: null });

    const second = await startDurableServer(dir, [], { label: 'server (restarted)' });
    // The account: alice's name still belongs to alice's key.
    const impostor = startCli(['-c', 'alice', '127.0.0.1', String(second.port), '0'], {
      dataHome: newDataHome(),
      label: 'another alice',
    });
    await impostor.waitForLine('>>> [Name alice belongs to another identity.]');
    expect(await impostor.waitForExit()).toEqual({ code: 1, signal: null });
    // The saved message, shown to bob when he comes back.
    const bobAgain = await startClient('bob', second.port, [], { label: 'bob (again)' });
    await bobAgain.proc.waitForLines(['>>> [You have messages]', savedLine('alice', 'kept for you')]);
    // The group and its history.
    const aliceAgain = await startClient('alice', second.port, [], { label: 'alice (again)' });
    await expectAfter(aliceAgain.proc, 'list_groups', ['>>> [Available group chats:]', '>>> room']);
    await expectAfter(aliceAgain.proc, 'join_group room', [
      line('[Entered group room successfully]'),
      historyLine('room', 'alice', 'first words'),
      historyLine('room', 'alice', 'second words'),
    ]);
  });
});

describe('data directories the server refuses (docs/usage.md "Durable state")', () => {
  afterEach(() => expectCleanStderr());

  test('a second server on the same directory: in use, exit 1; the first one goes on', async () => {
    const dir = newDataDir();
    const first = await startDurableServer(dir);
    const before = hashFiles(dir);
    const second = startCli(['-s', '0', '--data', dir], { label: 'second server' });
    await second.waitForLine(`>>> [Data directory ${dir} is in use by another server]`);
    expect(await second.waitForExit()).toEqual({ code: 1, signal: null });
    expect(second.linesMatching(ONLINE)).toEqual([]);
    expect(hashFiles(dir)).toEqual(before);
    const alice = await startClient('alice', first.port);
    await createGroup(alice, 'still-here');
  });

  test.each([
    ['bytes flipped after a clean stop', flipBytesInMiddle],
    ['a b-tree page overwritten after a crash (no checksum recorded)', smashPageAfterCrash],
  ])('a corrupt database (%s): Cannot use data directory, exit 1, files unchanged', async (_how, corrupt) => {
    const dir = newDataDir();
    await fillAndStop(dir);
    corrupt(dir);
    const before = hashFiles(dir);
    const proc = startCli(['-s', '0', '--data', dir], { label: 'server on corrupt data' });
    await proc.waitForLine(new RegExp(`^>>> \\[Cannot use data directory ${escape(dir)}: .*corrupt.*\\]$`));
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(proc.linesMatching(ONLINE)).toEqual([]);
    expect(hashFiles(dir)).toEqual(before);
  });

  test('a database written by a newer version: Cannot use data directory, exit 1, files unchanged', async () => {
    const dir = newDataDir();
    await fillAndStop(dir);
    const db = new Database(path.join(dir, DB_FILE));
    db.pragma('user_version = 99');
    db.close();
    const before = hashFiles(dir);
    const proc = startCli(['-s', '0', '--data', dir], { label: 'older server' });
    await proc.waitForLine(new RegExp(`^>>> \\[Cannot use data directory ${escape(dir)}: .*newer version.*\\]$`));
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(hashFiles(dir)).toEqual(before);
  });

  test('a file that is not a database at all: Cannot use data directory, exit 1, file unchanged', async () => {
    const dir = newDataDir();
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, DB_FILE), 'these are not the bytes of a database\n'.repeat(20));
    const before = hashFiles(dir);
    const proc = startCli(['-s', '0', '--data', dir], { label: 'server on a text file' });
    await proc.waitForLine(new RegExp(`^>>> \\[Cannot use data directory ${escape(dir)}: .+\\]$`));
    expect(await proc.waitForExit()).toEqual({ code: 1, signal: null });
    expect(hashFiles(dir)).toEqual(before);
  });
});

/** A server on `dir` with an account, a group and some history, stopped cleanly (it records its checksum). */
async function fillAndStop(dir: string): Promise<void> {
  const server = await startDurableServer(dir);
  const alice = await startClient('alice', server.port);
  await createGroup(alice, 'room');
  await joinGroup(alice, 'room');
  for (let i = 1; i <= 20; i++) await sendGroup(alice, 'room', `message ${i} ${'x'.repeat(200)}`);
  await alice.proc.stop('endInput');
  expect(await server.proc.stop()).toEqual({ code: 0, signal: null });
}

/** Flips 16 bytes in the middle of the file. */
function flipBytesInMiddle(dir: string): void {
  const file = path.join(dir, DB_FILE);
  const bytes = fs.readFileSync(file);
  const middle = Math.floor(bytes.length / 2);
  for (let i = middle; i < middle + 16; i++) bytes[i] = bytes[i]! ^ 0xff;
  fs.writeFileSync(file, bytes);
}

/** As after a crash (no checksum of a clean stop), with page 2's b-tree header overwritten. */
function smashPageAfterCrash(dir: string): void {
  fs.rmSync(path.join(dir, `${DB_FILE}.sha256`));
  const file = path.join(dir, DB_FILE);
  const bytes = fs.readFileSync(file);
  const pageSize = bytes.readUInt16BE(16) === 1 ? 65536 : bytes.readUInt16BE(16);
  bytes.fill(0xff, pageSize, pageSize + 12);
  fs.writeFileSync(file, bytes);
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
