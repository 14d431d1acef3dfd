import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCli, type CliProcess } from '../../testkit/cli-process';
import { startClient, startServer } from '../../testkit/chat-roles';
import { newDataHome } from '../../testkit/data-home';
import { sendPrivate, startChat } from '../helpers/e2e-chat';

/**
 * The process driver itself (testkit/cli-process.ts), on the real CLI: the
 * log-file mode the benchmark uses, failure reporting when a process exits
 * before printing what a test waits for, and the data home (XDG_DATA_HOME)
 * each process gets.
 */

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('testkit process driver', () => {
  it('reads a server whose output goes to a log file: the startup line, and lines printed later', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatapp-testkit-'));
    tempDirs.push(dir);
    const logFile = path.join(dir, 'server.log');
    const server = await startServer([], { logFile });
    expect(server.port).toBeGreaterThan(0);
    // The wait starts before the client exists, so only the file's change events can deliver the line.
    const registered = server.proc.waitForLine('>>> [Client table updated.]', { from: server.proc.mark() });
    await startClient('alice', server.port);
    await registered;
    expect(await server.proc.stop()).toEqual({ code: 0, signal: null });
    expect(fs.readFileSync(logFile, 'utf8').split('\n')).toEqual([...server.proc.lines(), '']);
  });

  it('fails a wait for a line the process never prints as soon as it exits, showing its output', async () => {
    const proc = startCli(['--version']);
    await expect(proc.waitForLine('>>> never printed')).rejects.toThrow(
      /^process exited before a line ">>> never printed" on stdout[^]*exited code=0/,
    );
    expect(proc.lines()).toHaveLength(1);
  });

  describe('data homes', () => {
    /** The data home of the previous test, to see that the next one gets a fresh one and this one is gone. */
    let previous = '';
    let kept: CliProcess;
    beforeAll(() => {
      kept = startCli(['--version'], { keepAcrossTests: true });
    });

    it("processes of one test share the test's data home, a temporary directory; the client keeps its files there", async () => {
      const { port, proc: server } = await startServer();
      const [alice, bob] = await startChat(['alice', 'bob'], port);
      expect(new Set([server.dataHome, alice!.proc.dataHome, bob!.proc.dataHome]).size).toBe(1);
      expect(bob!.proc.dataHome.startsWith(os.tmpdir())).toBe(true);
      await sendPrivate(alice!, bob!, 'into the journal');
      expect(fs.existsSync(path.join(bob!.proc.dataHome, 'chatapp', 'received', 'bob.jsonl'))).toBe(true);
      previous = bob!.proc.dataHome;
    });

    it('the next test gets a fresh one and the last one is removed; newDataHome, dataHome and env choose others', () => {
      expect(fs.existsSync(previous)).toBe(false);
      const here = startCli(['--version']).dataHome;
      expect([here !== previous, fs.existsSync(here)]).toEqual([true, true]);
      expect(startCli(['--version']).dataHome).toBe(here);
      const other = newDataHome();
      expect(other).not.toBe(here);
      expect(startCli(['--version'], { dataHome: other }).dataHome).toBe(other);
      expect(startCli(['--version'], { dataHome: other, env: { XDG_DATA_HOME: '/nonexistent' } }).dataHome).toBe(
        '/nonexistent',
      );
      // A process kept across tests shares the test file's home, which outlives each test.
      expect([kept.dataHome !== here, fs.existsSync(kept.dataHome)]).toEqual([true, true]);
    });
  });
});
