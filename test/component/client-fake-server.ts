import type { Duplex } from 'node:stream';
import { FramedConnection } from '../../src/net/framed-connection';
import type { ClientEntry, ClientToServerFrame, ServerToClientFrame } from '../../src/protocol/frames';
import { PROTOCOL_VERSION } from '../../src/protocol/limits';
import { SERVER_SIDE } from '../../src/protocol/link-frames';
import type { Clock } from '../../src/util/clock';
import { systemClock } from '../../src/util/clock';
import type { Dialer } from '../../src/client/server-link';
import { ChatClient } from '../../src/client/chat-client';
import type { Limits } from '../../src/protocol/limits';
import { memoryDuplexPair } from '../../src/net/memory-duplex';

/** What a script does with one frame a client sent. */
export type Script = (frame: ClientToServerFrame, session: FakeSession) => void;

/** One client connection to the fake server. */
export class FakeSession {
  constructor(readonly conn: FramedConnection<ClientToServerFrame, ServerToClientFrame>) {}

  send(frame: ServerToClientFrame): void {
    this.conn.send(frame);
  }
}

const LIMITS = {
  maxFrameBytes: 1 << 16,
  maxOutboundBytes: 1 << 20,
  drainTimeoutMs: 2000,
  frameTimeoutMs: 10_000,
  maxInvalidFrames: 10,
  heartbeatMs: 0,
  rateLimitPerSec: 0,
  rateBurst: 0,
};

/** The challenge every fake connection sends (a valid form; the fake checks no signature). */
export const FAKE_CHALLENGE = Buffer.alloc(32, 1).toString('base64');

/**
 * A scripted stand-in for the chat server, reached over in-memory streams via
 * `dialer()`. It records every frame and lets the test answer (or not).
 */
export class FakeServer {
  readonly frames: ClientToServerFrame[] = [];
  readonly sessions: FakeSession[] = [];
  /** When false, dialling fails (the stream is destroyed at once). */
  up = true;
  /** When false, the server never sends its `hello` (a server that does not speak this protocol). */
  sendsHello = true;

  constructor(
    public script: Script,
    private readonly clock: Clock = systemClock,
  ) {}

  dialer(): Dialer {
    return () => {
      const [near, far] = memoryDuplexPair();
      if (!this.up) {
        queueMicrotask(() => far.destroy());
        return near;
      }
      this.accept(far);
      return near;
    };
  }

  /** Drops every open connection (server loss). */
  dropAll(): void {
    for (const session of this.sessions) session.conn.destroy();
  }

  private accept(stream: Duplex): void {
    const session = new FakeSession(new FramedConnection(stream, SERVER_SIDE, LIMITS, this.clock));
    this.sessions.push(session);
    // Every connection starts with the server's challenge (docs/protocol.md "Accounts"); this fake checks no signature.
    if (this.sendsHello) session.send({ type: 'hello', v: PROTOCOL_VERSION, challenge: FAKE_CHALLENGE });
    session.conn.on('frame', (frame) => {
      this.frames.push(frame);
      this.script(frame, session);
    });
  }
}

/** A script that answers like a healthy server: register → reply + full table; other requests → reply. */
export function healthyScript(table: () => ClientEntry[]): Script {
  return (frame, session) => {
    if (frame.type === 'group_ack' || frame.type === 'ping' || frame.type === 'pong') return;
    session.send({ type: 'reply', id: frame.id });
    if (frame.type === 'register') session.send({ type: 'table', rev: 1, full: true, clients: table() });
  };
}

/** Lets queued stream events and setImmediate batches run until `done()` or a bounded number of turns. */
export async function settle(done: () => boolean = () => false, turns = 200): Promise<void> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((r) => setImmediate(r));
}

/** Clients made by `clientOf`, closed by `closeClients` after each test. */
const openClients: ChatClient[] = [];

/**
 * A ChatClient named alice that dials `server` over memory streams, listens on
 * a loopback port 0, and uses `clock` and small limits (no heartbeat).
 */
export function clientOf(server: FakeServer, clock: Clock, limits: Partial<Limits> = {}): ChatClient {
  const client = new ChatClient({
    name: 'alice',
    serverHost: '127.0.0.1',
    serverPort: 1,
    listenPort: 0,
    listenHost: '127.0.0.1',
    limits: { ackTimeoutMs: 500, retries: 3, heartbeatMs: 0, ...limits },
    clock,
    dial: server.dialer(),
  });
  openClients.push(client);
  return client;
}

/** Closes every client `clientOf` made (call from afterEach). */
export async function closeClients(): Promise<void> {
  await Promise.all(openClients.splice(0).map((c) => c.close()));
}
