import http from 'node:http';
import type { Duplex } from 'node:stream';
import type net from 'node:net';
import { listenTcp } from '../../net/listen';
import type { TlsAcceptor } from '../../net/tls-acceptor';
import type { ServerMetrics } from './metrics';

/** One HTTP route: answers a GET of its path. */
type Route = (res: http.ServerResponse) => void | Promise<void>;

/** What the HTTP gateway serves and asks about. */
export interface HttpGatewayOptions {
  readonly metrics: ServerMetrics;
  /** False once the server is draining: `/healthz` answers 503 so a balancer stops sending clients. */
  readonly serving: () => boolean;
  /** Hands an upgrade request for `/ws` over (the WebSocket gateway); others are refused. */
  readonly upgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Extra GET routes by path (the chat page and its script). */
  readonly routes?: ReadonlyMap<string, Route>;
  /** Reports an unexpected error while answering (the connection involved is closed). */
  readonly onError?: (err: unknown) => void;
  /** HTTPS: every connection speaks TLS first (`--tls-cert`/`--tls-key`, docs/operations.md "HTTPS"). */
  readonly tls?: TlsAcceptor;
}

/**
 * The server's HTTP side (docs/operations.md): `/healthz`, `/metrics`, and
 * whatever routes and upgrade handler it is given. Only GET (and HEAD) are
 * answered; anything else is 405, an unknown path 404.
 */
export class HttpGateway {
  private constructor(
    private readonly server: http.Server,
    /** The bound port (the OS-chosen one when 0 was asked for). */
    readonly port: number,
  ) {}

  /** Binds `port` (0 = OS picks); rejects with PortInUseError when taken. */
  static async listen(port: number, options: HttpGatewayOptions, host?: string): Promise<HttpGateway> {
    const routes = new Map<string, Route>(options.routes);
    routes.set('/healthz', (res) => healthz(res, options.serving()));
    routes.set('/metrics', async (res) => {
      const { body, contentType } = await options.metrics.exposition();
      send(res, 200, contentType, body);
    });
    const server = http.createServer((req, res) => {
      answer(routes, req, res).catch((err: unknown) => {
        options.onError?.(err);
        res.destroy();
      });
    });
    server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      if (options.upgrade && pathOf(req) === '/ws') return options.upgrade(req, socket, head);
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
    });
    server.on('clientError', (_err, socket: Duplex) => socket.destroy());
    server.on('error', () => undefined); // accept errors (EMFILE…) must not crash the process
    if (options.tls) serveOverTls(server, options.tls);
    return new HttpGateway(server, await listenTcp(server, port, host));
  }

  /** Stops accepting and closes every HTTP connection, idle or not; resolves when the port is free. */
  close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    return closed;
  }
}

/**
 * Makes `server` speak HTTPS: each accepted socket goes through the TLS
 * acceptor the chat port uses (one bound on handshakes in time and number
 * for every TLS port) and only then to the HTTP parser, which is what
 * `https.Server` does with its own, unbounded, handshakes. The HTTP server
 * keeps listening itself, so its connection tracking (header and request
 * timeouts, closeAllConnections) covers the TLS sockets.
 */
function serveOverTls(server: http.Server, acceptor: TlsAcceptor): void {
  const parsers = server.listeners('connection') as ((socket: net.Socket) => void)[];
  server.removeAllListeners('connection');
  server.on(
    'connection',
    acceptor.handler((socket) => {
      for (const parse of parsers) parse.call(server, socket);
    }),
  );
}

async function answer(routes: ReadonlyMap<string, Route>, req: http.IncomingMessage, res: http.ServerResponse) {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    return send(res, 405, 'text/plain; charset=utf-8', 'Method not allowed\n');
  }
  const route = routes.get(pathOf(req));
  if (route === undefined) return send(res, 404, 'text/plain; charset=utf-8', 'Not found\n');
  await route(res);
}

function healthz(res: http.ServerResponse, serving: boolean): void {
  send(res, serving ? 200 : 503, 'text/plain; charset=utf-8', serving ? 'ok\n' : 'draining\n');
}

/** The request's path without its query. */
function pathOf(req: http.IncomingMessage): string {
  return (req.url ?? '/').split('?', 1)[0]!;
}

/** Writes a whole response; nothing is cached (every answer is live state or may change with a release). */
export function send(res: http.ServerResponse, status: number, contentType: string, body: string | Buffer): void {
  res.writeHead(status, {
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
