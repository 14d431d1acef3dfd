import type { Writable } from 'node:stream';
import type { ServerOptions } from './args';
import type { Terminal } from './terminal-io';
import { ChatServer } from '../server/chat-server';
import { listenChatServer } from '../server/tcp-listener';
import { PortInUseError } from '../net/listen';

/**
 * Collects output lines and writes them once per event-loop turn, so a busy
 * server (one line per group message) does not make one write per line.
 */
class LineWriter {
  private lines: string[] = [];

  constructor(private readonly out: Writable) {}

  line(text: string): void {
    if (this.lines.push(text) === 1) setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.lines.length === 0) return;
    const text = this.lines.join('\n') + '\n';
    this.lines = [];
    this.out.write(text);
  }
}

/**
 * Control characters in client-supplied text are shown as U+FFFD, so a message
 * can neither forge extra server lines (newlines) nor drive the terminal (escapes).
 */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f]/g, '\ufffd');
}

/** Renders every ChatServer event as its exact SPEC §4 line. */
export function renderServerEvents(server: ChatServer, out: { line(text: string): void }, stderr: Writable): void {
  server.on('tableUpdated', () => out.line('>>> [Client table updated.]'));
  server.on('groupCreated', (n, g) => out.line(`>>> [Client ${n} created group ${g} successfully]`));
  server.on('groupCreateFailed', (n, g) =>
    out.line(`>>> [Client ${n} creating group ${g} failed, group already exists]`));
  server.on('groupsListed', (n, groups) => {
    out.line(`>>> [Client ${n} requested listing groups, current groups:]`);
    for (const g of groups) out.line(`>>> ${g}`);
  });
  server.on('groupJoined', (n, g) => out.line(`>>> [Client ${n} joined group ${g}]`));
  server.on('groupJoinFailed', (n, g) => out.line(`>>> [Client ${n} joining group ${g} failed, group does not exist]`));
  server.on('groupMessage', (n, _g, text) => out.line(`>>> [Client ${n} sent group message: ${printable(text)}]`));
  server.on('memberUnresponsive', (n, g) => out.line(`>>> [Client ${n} not responsive, removed from group ${g}]`));
  server.on('membersListed', (n, g, members) => {
    out.line(`>>> [Client ${n} requested listing members of group ${g}:]`);
    for (const m of members) out.line(`>>> ${m}`);
  });
  server.on('groupLeft', (n, g) => out.line(`>>> [Client ${n} left group ${g}]`));
  server.on('fault', (err) => stderr.write(`chatapp: internal error: ${err.message}\n`)); // one line, no stack
}

/**
 * SPEC §4 server mode: binds the port, prints the startup line and one line per
 * event, and stops cleanly on SIGINT/SIGTERM (exit 0). A taken port prints
 * `>>> [Port <port> is already in use]` to stderr and exits 1.
 */
export async function runServerMode(options: ServerOptions, io: Terminal): Promise<number> {
  const server = new ChatServer({ limits: options.limits });
  io.stdout.on('error', () => undefined); // a closed stdout pipe must not take the server down
  const out = new LineWriter(io.stdout);
  renderServerEvents(server, out, io.stderr);
  let listener;
  try {
    listener = await listenChatServer(server, options.port);
  } catch (err) {
    if (!(err instanceof PortInUseError)) throw err;
    io.stderr.write(`>>> [Port ${options.port} is already in use]\n`);
    return 1;
  }
  out.line(`>>> [Server is online, listening on port ${listener.port}]`);
  out.flush();
  const bound = listener;
  return new Promise<number>((resolve) => {
    const unsubscribe = io.onSignal(() => {
      unsubscribe();
      const finish = (): void => {
        out.flush();
        resolve(0);
      };
      bound.close().then(finish, finish);
    });
  });
}
