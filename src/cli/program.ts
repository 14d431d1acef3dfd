import { Command, CommanderError, Option } from 'commander';
import * as args from './args';
import { DEFAULT_LIMITS, type Limits } from '../protocol/limits';
import type { Terminal } from './terminal-io';

/** What each mode runner gets: validated options and the process's streams. */
export interface ModeRunners {
  server(options: args.ServerOptions, io: Terminal): Promise<number>;
  client(options: args.ClientOptions, io: Terminal): Promise<number>;
  peer(options: args.PeerOptions, io: Terminal): Promise<number>;
}

const LIMIT_HELP: Record<keyof Limits, string> = {
  maxFrameBytes: 'largest frame in bytes',
  maxMessageLength: 'longest chat message in characters',
  maxClients: 'most simultaneous connections (server); capped at the open-file limit (ulimit -n) minus 64',
  maxConnectionsPerAddress: 'most connections from one address, loopback exempt (server)',
  registrationsPerAddressPerSec: 'registrations per second from one address, loopback exempt (server)',
  maxGroups: 'most groups the server holds (server)',
  mailboxLimit: 'saved messages one account can hold (server)',
  historyLimit: 'messages kept per group (server)',
  maxGroupsPerClient: 'most groups one client may create (server)',
  rateLimitPerSec: 'frames per second per connection, 0 = off (server)',
  rateBurst: 'frames allowed in one burst (server)',
  registerTimeoutMs: 'ms a new connection has to register (server)',
  frameTimeoutMs: 'ms a half-sent frame may stay unfinished',
  heartbeatMs: 'heartbeat interval in ms; silent for 3 intervals = dead, 0 = off',
  maxOutboundBytes: 'bytes queued per connection before it counts as slow',
  drainTimeoutMs: 'ms a slow reader may stay over the queue limit',
  maxInvalidFrames: 'invalid frames tolerated in a burst (forgiven at 1/s) before disconnecting',
  ackTimeoutMs: 'ms to wait for an ack',
  retries: 'tries in all for a request to the server',
  seenIdsCapacity: 'ids remembered for duplicate suppression',
  directMessageMaxSkewMs: 'accepted clock skew of a signed direct message in ms',
  maxDirectLinks: 'most direct links other clients may keep open to this client (client)',
  directGreetingTimeoutMs: 'ms a new direct link has to deliver a message, 0 = off (client)',
  directRatePerSec: 'direct messages per second taken per sender and per link, 0 = off (client)',
  directRateBurst: 'direct messages allowed in one burst per sender and per link (client)',
  directVerifyPerSec: 'signature checks per second for links that delivered nothing yet, 0 = off (client)',
  maxHeldMessages: 'private messages held while in group mode (client)',
};

/** Builds the commander program; parsing is separate so tests can drive it. */
export function buildProgram(version: string): Command {
  const program = new Command('chatapp')
    .description('Chat server, client and serverless peer mesh over TCP')
    .version(version, '-V, --version')
    .usage(
      '-s <port> | -c <name> <server-host> <server-port> <listen-port> | -p <name> <listen-port> [<host:port> ...]',
    )
    .option('-s, --server <port>', 'run a server on <port> (0 = pick a free port)')
    .option('-c, --client <name>', 'run a client: <name> <server-host> <server-port> <listen-port>')
    .option('-p, --peer <name>', 'run a mesh peer: <name> <listen-port> [<host:port> ...]')
    .argument('[args...]')
    .allowExcessArguments(false)
    .showHelpAfterError(false)
    .configureOutput({ outputError: () => undefined })
    .exitOverride();
  program.option('--limit-loopback', 'apply the per-address limits to loopback clients too (server)');
  program.option('--data <dir>', "keep the server's state in <dir> (default $XDG_DATA_HOME/chatapp/server)");
  program.option(
    '--identity <file>',
    "the client's identity key file (default $XDG_DATA_HOME/chatapp/identities/<name>.key)",
  );
  program.option('--ephemeral', "keep the server's state in memory only: nothing survives a restart");
  program.option('--servers <list>', 'more servers of the cluster to fail over to: host:port[,host:port...] (client)');
  program.option('--redis <url>', 'run the server as one node of a cluster sharing this Redis (redis://host:port)');
  program.option('--redis-prefix <prefix>', 'start of every Redis key of this cluster (default chatapp)');
  program.option('--tls-cert <pem>', "the server's TLS certificate (default: a self-signed one in its data directory)");
  program.option('--tls-key <pem>', 'the private key of --tls-cert (server)');
  program.option('--no-tls', 'plain TCP instead of TLS (server and client)');
  program.option(
    '--advertise <host:port>',
    'the address other clients dial for private messages, when not this host and listen port (client)',
  );
  program.option('--irc-port <port>', 'also serve IRC clients on <port> (server, docs/irc.md)');
  program.option('--ircs-port <port>', 'also serve IRC clients over TLS on <port> (server, docs/irc.md)');
  program.option('--no-log-text', 'log group messages without their text (server)');
  program.option(
    '--log-level <level>',
    'operational log level on stderr: trace … fatal, silent (server; default warn)',
  );
  program.option('--http-port <port>', 'serve the web page, /ws, /metrics and /healthz on <port> (server)');
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    program.addOption(
      new Option(`--${args.optionName(key)} <n>`, `${LIMIT_HELP[key]} (default ${DEFAULT_LIMITS[key]})`),
    );
  }
  return program;
}

type ParsedOptions = {
  server?: string;
  client?: string;
  peer?: string;
  limitLoopback?: boolean;
  logText?: boolean;
  data?: string;
  ephemeral?: boolean;
  redis?: string;
  servers?: string;
  redisPrefix?: string;
  identity?: string;
  tls?: boolean;
  tlsCert?: string;
  tlsKey?: string;
  ircPort?: string;
  ircsPort?: string;
  logLevel?: string;
  httpPort?: string;
  advertise?: string;
} & args.RawLimitOptions;

/**
 * Parses argv, validates everything before any network use (docs/usage.md "Command-line mistakes") and runs
 * the mode. Returns the exit code: 0 normal, 1 runtime failure, 2 usage error.
 */
export async function runCli(argv: string[], io: Terminal, runners: ModeRunners, version: string): Promise<number> {
  const program = buildProgram(version);
  program.configureOutput({
    writeOut: (s) => io.stdout.write(s),
    writeErr: (s) => io.stderr.write(s),
    outputError: () => undefined,
  });
  try {
    program.parse(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0; // --help, --version
      io.stderr.write(`${err.message.replace(/^error: /, '')}\n`);
      io.stderr.write(`Usage: chatapp ${program.usage()}\n`);
      return 2;
    }
    throw err;
  }
  try {
    return await dispatch(program.opts<ParsedOptions>(), program.args, io, runners);
  } catch (err) {
    if (err instanceof args.UsageError) {
      io.stderr.write(`${err.message}\n`);
      return 2;
    }
    throw err;
  }
}

async function dispatch(opts: ParsedOptions, rest: string[], io: Terminal, runners: ModeRunners): Promise<number> {
  const modes = [opts.server, opts.client, opts.peer].filter((m) => m !== undefined).length;
  if (modes !== 1) throw new args.UsageError(`Choose exactly one mode. Usage: chatapp ${buildProgram('').usage()}`);
  const limits = args.limits(opts);
  if (opts.client === undefined && opts.advertise !== undefined)
    throw new args.UsageError(`Invalid --advertise: ${opts.advertise} (a client option)`);
  if (opts.server !== undefined) {
    if (rest.length > 0) throw new args.UsageError('Usage: chatapp -s <port> [options]');
    const port = args.serverPort(opts.server);
    const state = args.stateOption(opts.data, opts.ephemeral === true, opts.redis, opts.redisPrefix);
    const logText = opts.logText !== false;
    const tls = args.serverTls(opts.tlsCert, opts.tlsKey, opts.tls !== false);
    const irc = {
      ...(opts.ircPort === undefined ? {} : { ircPort: args.optionPort('irc-port', opts.ircPort) }),
      ...(opts.ircsPort === undefined ? {} : { ircsPort: args.ircsPort(opts.ircsPort, tls) }),
    };
    const logLevel = opts.logLevel === undefined ? undefined : args.logLevel(opts.logLevel);
    const httpPort = opts.httpPort === undefined ? undefined : args.httpPort(opts.httpPort);
    const limitLoopback = opts.limitLoopback === true;
    return runners.server({ port, limits, limitLoopback, logText, state, tls, ...irc, logLevel, httpPort }, io);
  }
  if (opts.client !== undefined) {
    if (rest.length !== 3) {
      throw new args.UsageError('Usage: chatapp -c <name> <server-host> <server-port> <listen-port> [options]');
    }
    const [host, sport, lport] = rest as [string, string, string];
    const name = args.name(opts.client);
    const serverHost = args.serverHost(host);
    const serverPort = args.serverPort(sport);
    const listenPort = args.clientPort(lport);
    const identity = args.identityFile(opts.identity, name);
    if (opts.tlsCert !== undefined) throw new args.UsageError(`Invalid --tls-cert: ${opts.tlsCert} (a server option)`);
    if (opts.tlsKey !== undefined) throw new args.UsageError(`Invalid --tls-key: ${opts.tlsKey} (a server option)`);
    const tls = opts.tls !== false;
    const servers = opts.servers === undefined ? {} : { servers: args.serverList(opts.servers) };
    const advertise = opts.advertise === undefined ? {} : { advertise: args.advertise(opts.advertise) };
    return runners.client(
      { name, serverHost, serverPort, listenPort, limits, identityFile: identity, tls, ...servers, ...advertise },
      io,
    );
  }
  const name = args.name(opts.peer!);
  const [lport, ...addresses] = rest;
  if (lport === undefined)
    throw new args.UsageError('Usage: chatapp -p <name> <listen-port> [<host:port> ...] [options]');
  const listenPort = args.clientPort(lport);
  return runners.peer({ name, listenPort, peers: addresses.map(args.peerAddress), limits }, io);
}
