import type { Writable } from 'node:stream';
import type { ServerOptions } from './args';
import type { Terminal } from './terminal-io';
import { ChatServer } from '../server/chat-server';
import type { ChatStore } from '../store/chat-store';
import { MemoryStore } from '../store/memory-store';
import { DataDirError } from '../store/sqlite/data-dir';
import { openSqliteStore } from '../store/sqlite/sqlite-store';
import { listenChatServer } from '../server/tcp-listener';
import { TlsAcceptor, type ListenerTls } from '../net/tls-acceptor';
import { createSelfSigned, fingerprintOf, loadOrCreateSelfSigned, type TlsCredentials } from '../net/tls-cert';
import crypto from 'node:crypto';
import { toError } from '../util/errors';
import { openIrc } from './irc-doors';
import { PortInUseError } from '../net/listen';
import { effectiveMaxClients, handshakeBudget, openFileLimit } from '../net/fd-limit';
import type { ClusterNode } from './cluster-node';
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

/** The store the options ask for (docs/usage.md "Durable state"); a cluster node's comes with its feed. Throws DataDirError. */
async function openStore(options: ServerOptions, line: (text: string) => void): Promise<OpenedStore> {
  const { historyLimit } = options.limits;
  const state = options.state;
  if (state.kind === 'memory') return { store: new MemoryStore({ historyLimit }), shown: null };
  if (state.kind === 'data') return { store: openSqliteStore({ dir: state.dir, historyLimit }), shown: state.dir };
  // Loaded only for a cluster node: ioredis costs every other start (a client, a usage error) its load time.
  const { joinCluster } = await import('./cluster-node');
  const cluster = await joinCluster(state.url, state.prefix, historyLimit, line);
  return { store: cluster.store, shown: cluster.shownUrl, cluster };
}

/** An open store, what the startup line says it keeps state in (null: memory), and the cluster node if any. */
interface OpenedStore {
  readonly store: ChatStore;
  readonly shown: string | null;
  readonly cluster?: ClusterNode;
}

/** A handshake deadline when registrations have none (`--register-timeout 0`): a handshake is always bounded. */
const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** The certificate the options ask for, or null for plain TCP (docs/usage.md "TLS"). */
async function serverCredentials(options: ServerOptions): Promise<TlsCredentials | null> {
  const tls = options.tls ?? { kind: 'off' };
  if (tls.kind === 'off') return null;
  if (tls.kind === 'files') return tls.credentials;
  // A cluster node without --tls-cert makes its own each start: clients pin per host:port (docs/usage.md "TLS").
  return options.state.kind === 'data' ? loadOrCreateSelfSigned(options.state.dir) : createSelfSigned();
}

/** How the listener runs TLS: a handshake gets the register deadline; pending ones fit the descriptor budget. */
function listenerTls(credentials: Promise<TlsCredentials>, maxPending: number, registerTimeoutMs: number): ListenerTls {
  return {
    credentials,
    handshakeTimeoutMs: registerTimeoutMs > 0 ? registerTimeoutMs : DEFAULT_HANDSHAKE_TIMEOUT_MS,
    maxPendingHandshakes: maxPending,
  };
}

/**
 * Server mode (docs/usage.md "Server"): binds the port (and `--http-port`),
 * prints the startup lines and one line per event, logs operations as JSON
 * on stderr, and on SIGINT/SIGTERM drains (docs/operations.md "Signals") and
 * exits 0. A taken port prints `>>> [Port <port> is already in use]` to
 * stderr and exits 1.
 */
export async function runServerMode(options: ServerOptions, io: Terminal): Promise<number> {
  io.stdout.on('error', () => undefined); // a closed stdout pipe must not take the server down
  const out = new LineWriter(io.stdout);
  let opened: OpenedStore;
  try {
    opened = await openStore(options, (text) => out.line(text));
  } catch (err) {
    if (!(err instanceof DataDirError)) throw err;
    const line =
      err.kind === 'in_use' ? serverLines.dataDirInUse(err.dir) : serverLines.dataDirUnusable(err.dir, err.message);
    io.stdout.write(formatLine(line) + '\n');
    return 1;
  }
  const store = opened.store;
  // Made while the port is bound (a new certificate takes a while): a taken port is said at once.
  const making = serverCredentials(options);
  making.catch(() => undefined); // awaited below, once the port is bound
  // docs/security.md: shedding must engage before accept() runs out of descriptors; with TLS,
  // handshakes in progress hold descriptors too, so their budget comes first.
  const tls = options.tls !== undefined && options.tls.kind !== 'off';
  const fileLimit = openFileLimit();
  const handshakes = tls ? handshakeBudget(fileLimit) : null;
  const maxClients = effectiveMaxClients(
    options.limits.maxClients,
    fileLimit === null ? null : fileLimit - (handshakes ?? 0),
  );
  const server = new ChatServer({
    limits: { ...options.limits, maxClients },
    limitLoopback: options.limitLoopback,
    store,
    ...(opened.cluster ? { cluster: opened.cluster.feed } : {}),
  });
  const log = createServerLog(options.logLevel ?? DEFAULT_LOG_LEVEL, io.stderr);
  logServerEvents(server, log);
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
  try {
    const pending = Math.min(handshakes ?? maxClients, maxClients);
    // One acceptor for every TLS port: handshakes are bounded across them all (net/tls-acceptor.ts).
    const acceptor = tls
      ? new TlsAcceptor(listenerTls(making.then(required), pending, options.limits.registerTimeoutMs))
      : undefined;
    const listener = await listenChatServer(server, options.port, undefined, acceptor);
    const credentials = await making.catch(async (err: unknown) => {
      await listener.close().catch(() => undefined);
      const dir = options.state.kind === 'data' ? options.state.dir : '(memory)';
      io.stdout.write(formatLine(serverLines.dataDirUnusable(dir, toError(err).message)) + '\n');
      return undefined;
    });
    if (credentials === undefined) return 1;
    // HTTPS only with a certificate a browser can be given to trust (docs/operations.md "HTTPS").
    const https = options.tls?.kind === 'files' ? acceptor : undefined;
    const http = await openHttp(options, server, store, log, https).catch(async (err: unknown) => {
      await listener.close().catch(() => undefined);
      throw err;
    });
    out.line(formatLine(serverLines.online(listener.port)));
    out.line(formatLine(opened.shown === null ? serverLines.memoryOnly() : serverLines.keepingState(opened.shown)));
    if (credentials !== null) out.line(formatLine(serverLines.tlsFingerprint(certificateFingerprint(credentials))));
    const irc = await openIrc(options, server, acceptor).catch(async (err: unknown) => {
      await Promise.all([listener.close().catch(() => undefined), http?.close()]);
      throw err;
    });
    if (irc.plain) out.line(formatLine(serverLines.ircOnline(irc.plain.port)));
    if (irc.secure) out.line(formatLine(serverLines.ircsOnline(irc.secure.port)));
    if (http) out.line(formatLine((https ? serverLines.httpsOnline : serverLines.httpOnline)(http.port)));
    out.flush();
    const ports = { port: listener.port, httpPort: http?.port, ircPort: irc.plain?.port, ircsPort: irc.secure?.port };
    log.info(ports, 'server online');
    const signal = await stopRequested;
    log.info({ signal }, 'stopping');
    acceptor?.close(); // stop accepting: a pending handshake must not hold a port's close until its deadline
    await irc.close(); // first: guest IRC names are released through the core
    await server.drain();
    await opened.cluster?.close();
    await Promise.all([listener.close().catch(() => undefined), http?.close()]);
    log.info('stopped');
    out.flush();
    return 0;
  } catch (err) {
    if (!(err instanceof PortInUseError)) throw err;
    await opened.cluster?.close();
    await store.close().catch(() => undefined);
    io.stderr.write(formatLine(commonLines.portInUse(err.port)) + '\n');
    return 1;
  } finally {
    collector?.stop();
    unsubscribe();
    unsubscribeStats?.();
  }
}

/** The HTTP side when `--http-port` is given: metrics fed by the server's events, health, `/ws`, the page; HTTPS through `tls`. */
async function openHttp(
  options: ServerOptions,
  server: ChatServer,
  store: ChatStore,
  log: Logger,
  tls?: TlsAcceptor,
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
    ...(tls ? { tls } : {}),
  });
}

/** The stats line: `{"msg":"stats",...ServerStats}`. */
function statsLine(server: ChatServer): string {
  return JSON.stringify({ msg: 'stats', ...server.stats() });
}

/** The SHA-256 fingerprint of the certificate the server presents, as clients pin it. */
function certificateFingerprint(credentials: TlsCredentials): string {
  return fingerprintOf(new crypto.X509Certificate(credentials.cert).raw);
}

function required(credentials: TlsCredentials | null): TlsCredentials {
  if (credentials === null) throw new Error('TLS is on but no certificate was made');
  return credentials;
}
