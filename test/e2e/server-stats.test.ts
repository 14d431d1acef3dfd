/**
 * The server's stats line (docs/architecture.md "Server"): SIGUSR2 makes a
 * running server print one JSON line of its counters on stderr and carry on.
 */
import { startClient, startServer } from '../../testkit/chat-roles';

describe('server stats on SIGUSR2', () => {
  test('prints {"msg":"stats",...} on stderr, nothing on stdout, and keeps serving', async () => {
    const { proc: server, port } = await startServer();
    await startClient('alice', port);
    const stdoutBefore = server.mark();
    server.kill('SIGUSR2');
    const line = await server.waitForLine(/^\{"msg":"stats"/, { stream: 'stderr' });
    expect(JSON.parse(line)).toEqual({
      msg: 'stats',
      connections: 1,
      registered: 1,
      unackedDeliveries: 0,
      membersRemovedUnresponsive: 0,
      slowConsumersDropped: 0,
    });
    await startClient('bob', port); // still serving
    expect(server.linesMatching(/stats/, { from: stdoutBefore })).toEqual([]);
    server.kill('SIGTERM');
    expect((await server.exit).code).toBe(0);
  });
});
