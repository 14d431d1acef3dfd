import path from 'node:path';
import { isValidHost, isValidName, NAME_RULE, parsePort } from '../protocol/names';
import { chatappDataHome } from '../util/data-home';
import { defaultIdentityFile } from '../client/identity-file';
import { DEFAULT_LIMITS, type Limits } from '../protocol/limits';
import { readTlsFiles, TlsFilesError, type TlsCredentials } from '../net/tls-cert';
import { LOG_LEVELS, type LogLevel } from './server-log';

/** A command-line mistake: printed to stderr, exit 2 (docs/usage.md "How output looks"; docs/usage.md "Command-line mistakes"). */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * Where a server keeps its state: a data directory (the database), memory
 * only (`--ephemeral`), or a Redis shared with the other nodes of a cluster
 * (`--redis`, docs/scaling.md).
 */
export type StateOption =
  | { readonly kind: 'data'; readonly dir: string }
  | { readonly kind: 'memory' }
  | { readonly kind: 'redis'; readonly url: string; readonly prefix: string };

/**
 * TLS on the server port (docs/usage.md "TLS"): off (`--no-tls`), the given
 * certificate and key, or a self-signed certificate kept in the data
 * directory (made anew at each start with `--ephemeral`). Omitted = off.
 */
export type ServerTlsOption =
  | { readonly kind: 'off' }
  | { readonly kind: 'files'; readonly credentials: TlsCredentials }
  | { readonly kind: 'self-signed' };

export interface ServerOptions {
  /** TLS on the port; omitted = plain TCP (the CLI's default is `self-signed`). */
  readonly tls?: ServerTlsOption;
  readonly port: number;
  readonly limits: Limits;
  readonly state: StateOption;
  /** Apply the per-address limits to loopback clients too. */
  readonly limitLoopback: boolean;
  /** False with `--no-log-text`: group messages are logged without their text (default true). */
  readonly logText?: boolean;
  /** `--irc-port`: also serve IRC clients on this port (docs/irc.md). */
  readonly ircPort?: number;
  /** `--ircs-port`: also serve IRC clients over TLS, with the server's certificate, on this port (docs/irc.md). */
  readonly ircsPort?: number;
  /** `--log-level`: the operational log's level (default warn, docs/operations.md "Logs"). */
  readonly logLevel?: LogLevel;
  /** `--http-port`: where the page, `/ws`, `/metrics` and `/healthz` are served (none without it). */
  readonly httpPort?: number;
}

export interface ClientOptions {
  readonly name: string;
  readonly serverHost: string;
  readonly serverPort: number;
  readonly listenPort: number;
  readonly limits: Limits;
  /** Where the client's Ed25519 identity is kept (docs/usage.md "Files"). */
  readonly identityFile: string;
  /** More servers of the same cluster to fail over to (`--servers`, docs/usage.md "Cluster"). */
  readonly servers?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** TLS to the server with trust on first use (default); false with `--no-tls`. */
  readonly tls?: boolean;
  /** `--advertise host:port`: the address other clients dial for direct messages (docs/usage.md). */
  readonly advertise?: { readonly host: string; readonly port: number };
}

export interface PeerOptions {
  readonly name: string;
  readonly listenPort: number;
  readonly peers: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  readonly limits: Limits;
}

/** Raw option strings as commander hands them over, keyed by the camelCase option name (`ackTimeout`). */
export type RawLimitOptions = Partial<Record<string, string>>;

export function serverPort(value: string): number {
  const port = parsePort(value);
  if (port === null) throw new UsageError(`Invalid server port number: ${value}`);
  return port;
}

/** A port given to an option (`--irc-port`): `Invalid --<option>: <value>` like every option (docs/usage.md "Options"). */
export function optionPort(option: string, value: string): number {
  const port = parsePort(value);
  if (port === null) throw new UsageError(`Invalid --${option}: ${value}`);
  return port;
}

export function clientPort(value: string): number {
  const port = parsePort(value);
  if (port === null) throw new UsageError(`Invalid client port number: ${value}`);
  return port;
}

export function serverHost(value: string): string {
  if (!isValidHost(value)) throw new UsageError(`Invalid server IP address: ${value}`);
  return value.startsWith('[') && value.endsWith(']') ? value.slice(1, -1) : value;
}

/** A client or peer name; a bad one is refused with the rule on a second line (docs/usage.md "Names"). */
export function name(value: string): string {
  if (!isValidName(value)) throw new UsageError(`Invalid name: ${value}\nNames are ${NAME_RULE}`);
  return value;
}

/** `host:port` of a mesh member; IPv6 literals in brackets (`[::1]:5000`). */
export function peerAddress(value: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):([^:]+)$/.exec(value);
  if (!match) throw new UsageError(`Invalid peer address: ${value}`);
  const host = match[1]!;
  const port = parsePort(match[2]!);
  if (!isValidHost(host) || port === null || port === 0) throw new UsageError(`Invalid peer address: ${value}`);
  return { host: serverHost(host), port };
}

/** `--advertise host:port`: where other clients should dial this client (port forwarding, NAT). */
export function advertise(value: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):([^:]+)$/.exec(value);
  const port = match ? parsePort(match[2]!) : null;
  if (!match || !isValidHost(match[1]!) || port === null || port === 0)
    throw new UsageError(`Invalid --advertise: ${value}`);
  return { host: serverHost(match[1]!), port };
}

/** `--servers host:port[,host:port...]`: each address as the server host and port are checked. */
export function serverList(value: string): Array<{ host: string; port: number }> {
  return value.split(',').map((item) => {
    const match = /^(\[[^\]]+\]|[^:]+):([^:]+)$/.exec(item);
    const port = match ? parsePort(match[2]!) : null;
    if (!match || !isValidHost(match[1]!) || port === null || port === 0)
      throw new UsageError(`Invalid --servers: ${value}`);
    return { host: serverHost(match[1]!), port };
  });
}

/** Applies `--ack-timeout`, `--retries` and every limit option over the defaults. */
export function limits(raw: RawLimitOptions): Limits {
  const result: Limits = { ...DEFAULT_LIMITS };
  for (const key of Object.keys(DEFAULT_LIMITS) as (keyof Limits)[]) {
    const value = raw[optionKey(key)];
    if (value === undefined) continue;
    const min = key === 'retries' || key === 'maxFrameBytes' || key === 'maxMessageLength' ? 1 : 0;
    if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
      throw new UsageError(`Invalid --${optionName(key)}: ${value}`); // docs/usage.md "Options"
    }
    result[key] = Number(value);
  }
  return result;
}

/** The key commander stores an option under: `ack-timeout` → `ackTimeout`. */
function optionKey(key: keyof Limits): string {
  return optionName(key).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

/** camelCase limit key → kebab-case option name (`ackTimeoutMs` → `ack-timeout`). */
export function optionName(key: keyof Limits): string {
  return key.replace(/Ms$/, '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * `--data <dir>` / `--ephemeral` / `--redis <url>` (at most one); default:
 * the data home's `server` directory (docs/usage.md "Files").
 */
export function stateOption(
  data: string | undefined,
  ephemeral: boolean,
  redis?: string,
  prefix?: string,
): StateOption {
  if (prefix !== undefined && (redis === undefined || !/^[A-Za-z0-9_.-]{1,64}$/.test(prefix)))
    throw new UsageError(`Invalid --redis-prefix: ${prefix}`);
  if (redis !== undefined) {
    if (ephemeral || data !== undefined)
      throw new UsageError('Invalid --redis: it cannot be combined with --data or --ephemeral');
    return { kind: 'redis', url: redisUrl(redis), prefix: prefix ?? 'chatapp' };
  }
  if (ephemeral && data !== undefined) throw new UsageError('Invalid --ephemeral: it cannot be combined with --data');
  if (ephemeral) return { kind: 'memory' };
  if (data !== undefined && data.trim() === '') throw new UsageError(`Invalid --data: ${data}`);
  return { kind: 'data', dir: path.resolve(data ?? path.join(chatappDataHome(), 'server')) };
}

/** `--redis <url>`: `redis://` (or `rediss://`) with a host, an optional port and database number. */
export function redisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`Invalid --redis: ${value}`);
  }
  const okScheme = url.protocol === 'redis:' || url.protocol === 'rediss:';
  const okPort = url.port === '' || parsePort(url.port) !== null;
  const okDb = url.pathname === '' || url.pathname === '/' || /^\/\d{1,2}$/.test(url.pathname);
  if (!okScheme || url.hostname === '' || !okPort || !okDb || url.search !== '' || url.hash !== '')
    throw new UsageError(`Invalid --redis: ${value}`);
  return value;
}

/** `--log-level <level>`: one of pino's levels. */
export function logLevel(value: string): LogLevel {
  const level = LOG_LEVELS.find((l) => l === value);
  if (level === undefined) throw new UsageError(`Invalid --log-level: ${value} (one of ${LOG_LEVELS.join(', ')})`);
  return level;
}

/** `--ircs-port <port>`: IRC over TLS needs the server's TLS, so `--no-tls` refuses it. */
export function ircsPort(value: string, tls: ServerTlsOption): number {
  const port = optionPort('ircs-port', value);
  if (tls.kind === 'off') throw new UsageError(`Invalid --ircs-port: ${value} (it cannot be combined with --no-tls)`);
  return port;
}

/** `--http-port <port>`: 0 lets the OS pick. */
export function httpPort(value: string): number {
  const port = parsePort(value);
  if (port === null) throw new UsageError(`Invalid --http-port: ${value}`);
  return port;
}

/** `--identity <file>`, or the default place for `name`'s identity (docs/usage.md "Files"). */
export function identityFile(value: string | undefined, name: string): string {
  if (value === undefined) return defaultIdentityFile(name);
  if (value.trim() === '') throw new UsageError(`Invalid --identity: ${value}`);
  return path.resolve(value);
}

/**
 * The server's TLS option from `--tls-cert`, `--tls-key` and `--no-tls`
 * (`tls` false), checked before anything starts: both files or neither, and
 * each readable and usable (the key must belong to the certificate).
 */
export function serverTls(cert: string | undefined, key: string | undefined, tls: boolean): ServerTlsOption {
  if (!tls) {
    if (cert !== undefined) throw new UsageError(`Invalid --tls-cert: ${cert} (it cannot be combined with --no-tls)`);
    if (key !== undefined) throw new UsageError(`Invalid --tls-key: ${key} (it cannot be combined with --no-tls)`);
    return { kind: 'off' };
  }
  if (cert === undefined && key === undefined) return { kind: 'self-signed' };
  if (cert === undefined) throw new UsageError(`Invalid --tls-key: ${key} (--tls-cert is missing)`);
  if (key === undefined) throw new UsageError(`Invalid --tls-cert: ${cert} (--tls-key is missing)`);
  try {
    return { kind: 'files', credentials: readTlsFiles(path.resolve(cert), path.resolve(key)) };
  } catch (err) {
    if (!(err instanceof TlsFilesError)) throw err;
    throw new UsageError(err.which === 'cert' ? `Invalid --tls-cert: ${cert}` : `Invalid --tls-key: ${key}`);
  }
}
