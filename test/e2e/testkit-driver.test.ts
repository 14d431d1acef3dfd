import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startCli } from '../../testkit/cli-process';
import { startClient, startServer } from '../../testkit/chat-roles';

/**
 * The process driver itself (testkit/cli-process.ts), on the real CLI: the
 * log-file mode the benchmark uses, and failure reporting when a process
 * exits before printing what a test waits for.
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
    await expect(proc.waitForLine('>>> never printed')).rejects.toThrow(/^process exited before a line ">>> never printed" on stdout[^]*exited code=0/);
    expect(proc.lines()).toHaveLength(1);
  });
});
