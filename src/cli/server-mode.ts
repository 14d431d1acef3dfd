import type { Writable } from 'node:stream';
import type { ServerOptions } from './args';
import type { Terminal } from './terminal-io';
import { ChatServer } from '../server/chat-server';
import type { ChatStore } from '../store/chat-store';
import { MemoryStore } from '../store/memory-store';
import { DataDirError } from '../store/sqlite/data-dir';
import { openSqliteStore } from '../store/sqlite/sqlite-store';
import { listenChatServer } from '../server/tcp-listener';
import { PortInUseError } from '../net/listen';
import { effectiveMaxClients, openFileLimit } from '../net/fd-limit';
import { IdleCollector, processHeap } from '../server/idle-collector';
import { systemClock } from '../util/clock';
import { commonLines, formatLine, serverLines } from './lines';
import { createServerLog, DEFAULT_LOG_LEVEL, logServerEvents } from './server-log';
import { HttpGateway } from '../gateway/http/http-gateway';
import { ServerMetrics } from '../gateway/http/metrics';
import { WsGateway } from '../gateway/http/ws-gateway';
import { pageRoutes } from '../gateway/http/page';
import type { Logger } from 'pino';

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

/** Names a listing line prints before `[and <n> more]`: the log of one request stays bounded. */
export const LISTED_ITEMS_LOGGED = 100;

/** How the server log is rendered. */
export interface RenderOptions {
  /** False: a group message is logged without its text (`--no-log-text`, docs/usage.md "Server"). */
  readonly logText?: boolean;
}

/** Renders every ChatServer event as its exact docs/usage.md "Server" line (templates and sanitizing in lines.ts). */
export function renderServerEvents(
  server: ChatServer,
  out: { line(text: string): void },
  stderr: Writable,
  options: RenderOptions = {},
  log?: Logger,
): void {
  const print = (body: string): void => out.line(formatLine(body));
  // docs/usage.md "Server": a listing prints at most LISTED_ITEMS_LOGGED names, then how many more.
  const list = (items: readonly string[]): void => {
    for (const item of items.slice(0, LISTED_ITEMS_LOGGED)) print(serverLines.item(item));
    if (items.length > LISTED_ITEMS_LOGGED) print(serverLines.andMore(items.length - LISTED_ITEMS_LOGGED));
  };
  server.on('tableUpdated', () => print(serverLines.tableUpdated()));
  server.on('groupCreated', (n, g) => print(serverLines.groupCreated(n, g)));
  server.on('groupCreateFailed', (n, g) => print(serverLines.groupExists(n, g)));
  server.on('groupsListed', (n, groups) => {
    print(serverLines.listGroups(n));
    list(groups);
  });
  server.on('groupJoined', (n, g) => print(serverLines.joined(n, g)));
  server.on('groupJoinFailed', (n, g) => print(serverLines.joinFailed(n, g)));
  const logText = options.logText !== false;
  server.on(
    'groupMessage',
    (n, _g, text) => print(logText ? serverLines.groupMessage(n, text) : serverLines.groupMessageNoText(n)), // sanitized
  );
  server.on('membersListed', (n, g, members) => {
    print(serverLines.listMembers(n, g));
    list(members);
  });
  server.on('groupLeft', (n, g, reason) =>
    print(reason === 'unresponsive' || reason === 'slow' ? serverLines.notResponsive(n, g) : serverLines.left(n, g)),
  );
  server.on('groupDeleted', (n, g) => print(serverLines.groupDeleted(n, g)));
  server.on('accountDeleted', () => print(serverLines.tableUpdated()));
  // Faults go to the operational log (server-log.ts); without one, one plain line on stderr.
  if (log === undefined) server.on('fault', (err) => stderr.write(`chatapp: internal error: ${err.message}\n`));
}

/** The store the options ask for (docs/usage.md "Durable state"). Throws DataDirError. */
function openStore(options: ServerOptions): ChatStore {
  const { historyLimit } = options.limits;
  if (options.state.kind === 'memory') return new MemoryStore({ historyLimit });
  return openSqliteStore({ dir: options.state.dir, historyLimit });
}

/**
 * Server mode (docs/usage.md "Server"): binds the port (and `--http-port`),
 * prints the startup lines and one line per event, logs operations as JSON
 * on stderr, and on SIGINT/SIGTERM drains (docs/operations.md "Signals") and
 * exits 0. A taken port prints `>>> [Port <port> is already in use]` to
 * stderr and exits 1.
 */
export async function runServerMode(options: ServerOptions, io: Terminal): Promise<number> {
  let store: ChatStore;
  try {
    store = openStore(options);
  } catch (err) {
    if (!(err instanceof DataDirError)) throw err;
    const line =
      err.kind === 'in_use' ? serverLines.dataDirInUse(err.dir) : serverLines.dataDirUnusable(err.dir, err.message);
    io.stdout.write(formatLine(line) + '\n');
    return 1;
  }
  // docs/security.md: shedding must engage before accept() runs out of descriptors.
  const maxClients = effectiveMaxClients(options.limits.maxClients, openFileLimit());
  const server = new ChatServer({
    limits: { ...options.limits, maxClients },
    limitLoopback: options.limitLoopback,
    store,
  });
  const log = createServerLog(options.logLevel ?? DEFAULT_LOG_LEVEL, io.stderr);
  logServerEvents(server, log);
  io.stdout.on('error', () => undefined); // a closed stdout pipe must not take the server down
  const out = new LineWriter(io.stdout);
  renderServerEvents(server, out, io.stderr, { logText: options.logText }, log);
  // Signals are caught before anything is printed: a script that sends SIGTERM
  // as soon as it reads the online line must still get a clean stop (exit 0).
  let signalled!: (signal: string) => void;
  const stopRequested = new Promise<string>((resolve) => (signalled = resolve));
  const unsubscribe = io.onSignal((signal) => signalled(signal));
  // docs/security.md "Memory after an attack": memory goes back once the server is quiet again.
  const heap = processHeap();
  const collector = heap === null ? null : new IdleCollector(heap, systemClock);
  collector?.start();
  // Operators and the bench ask for counters (unacked deliveries …) with SIGUSR2: one JSON line on
  // stderr, never on stdout, whose lines are the user-facing contract (docs/architecture.md "Server").
  const unsubscribeStats = io.onStatsRequest?.(() => io.stderr.write(`${statsLine(server)}\n`));
  let failedPort = options.port;
  try {
    const listener = await listenChatServer(server, options.port);
    failedPort = options.httpPort ?? options.port;
    const http = await openHttp(options, server, store, log).catch(async (err: unknown) => {
      await listener.close();
      throw err;
    });
    out.line(formatLine(serverLines.online(listener.port)));
    out.line(
      formatLine(
        options.state.kind === 'memory' ? serverLines.memoryOnly() : serverLines.keepingState(options.state.dir),
      ),
    );
    if (http) out.line(formatLine(serverLines.httpOnline(http.port)));
    out.flush();
    log.info({ port: listener.port, httpPort: http?.port }, 'server online');
    const signal = await stopRequested;
    log.info({ signal }, 'stopping');
    await server.drain();
    await Promise.all([listener.close().catch(() => undefined), http?.close()]);
    log.info('stopped');
    out.flush();
    return 0;
  } catch (err) {
    if (!(err instanceof PortInUseError)) throw err;
    await store.close();
    io.stderr.write(formatLine(commonLines.portInUse(failedPort)) + '\n');
    return 1;
  } finally {
    collector?.stop();
    unsubscribe();
    unsubscribeStats?.();
  }
}

/** The HTTP side when `--http-port` is given: metrics fed by the server's events, health, `/ws`, the page. */
async function openHttp(
  options: ServerOptions,
  server: ChatServer,
  store: ChatStore,
  log: Logger,
): Promise<HttpGateway | undefined> {
  if (options.httpPort === undefined) return undefined;
  let serving = true;
  server.once('draining', () => (serving = false));
  const ws = new WsGateway(server, options.limits.maxFrameBytes);
  return HttpGateway.listen(options.httpPort, {
    metrics: new ServerMetrics(server, store),
    serving: () => serving,
    upgrade: (req, socket, head) => ws.upgrade(req, socket, head),
    routes: pageRoutes(),
    onError: (err) => log.error({ err }, 'http error'),
  });
}

/** The stats line: `{"msg":"stats",...ServerStats}`. */
function statsLine(server: ChatServer): string {
  return JSON.stringify({ msg: 'stats', ...server.stats() });
}
