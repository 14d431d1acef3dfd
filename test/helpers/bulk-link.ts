import net from 'node:net';
import { Identity } from '../../src/client/identity';
import { Waiters } from '../../testkit/waiters';
import { signedRegister } from './test-identity';

/**
 * A lean raw connection to the server for the attacks of issue 9
 * (test/helpers/server-attacks.ts): it writes request lines in bulk and
 * counts what comes back — replies, error codes, other frame types —
 * without schema-decoding or keeping each frame (`RawClient` keeps every
 * frame: right for a conversation, too costly for 500,000 replies). It
 * answers pings, so the heartbeat never closes it, and can wait for the
 * answer to one request id. Waits are re-checked on every read and on
 * close, never on a timer; timeouts are safety nets.
 */
export class BulkLink {
  /** Lines received by kind: `reply`, `error:<code>`, or the frame type. */
  readonly counts = new Map<string, number>();
  closed = false;
  readonly done: Promise<void>;
  private rest = '';
  /** The challenge of the server's `hello`, the first frame (docs/protocol.md "Accounts"); null until it came. */
  private challenge: string | null = null;
  /** Ids whose answer is awaited: null until it comes, then its kind. */
  private readonly awaited = new Map<string, string | null>();
  private readonly waiters = new Waiters(
    () => `bulk link got ${JSON.stringify(Object.fromEntries(this.counts))}${this.closed ? ', closed' : ''}`,
  );

  private constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.setNoDelay(true);
    socket.on('data', (chunk: string) => this.read(chunk));
    socket.on('error', () => undefined); // resets are expected in hostile tests
    this.done = new Promise((resolve) =>
      socket.once('close', () => {
        this.closed = true;
        live.delete(this);
        this.waiters.notify();
        resolve();
      }),
    );
    live.add(this);
  }

  /** Connects to 127.0.0.1:`port`, from `localAddress` if given (any 127.x.y.z on Linux). */
  static open(port: number, localAddress?: string): Promise<BulkLink> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port, ...(localAddress === undefined ? {} : { localAddress }) });
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new BulkLink(socket));
      });
      socket.once('error', reject);
    });
  }

  /** Opens a link and registers `name` on it; resolves with the link and the answer's kind (`reply` or `error:<code>`). */
  static async registered(
    port: number,
    name: string,
    localAddress?: string,
  ): Promise<{ link: BulkLink; answer: string }> {
    const link = await BulkLink.open(port, localAddress);
    return { link, answer: await link.register(name) };
  }

  /**
   * Registers `name`, signed with the attackers' one key over this link's
   * challenge (every attacking name belongs to that key); resolves with the
   * answer's kind (`reply` or `error:<code>`).
   */
  async register(name: string): Promise<string> {
    const challenge = await this.waiters.wait({
      what: 'hello',
      timeoutMs: 20_000,
      probe: () => (this.challenge === null ? null : { value: this.challenge }),
      hopeless: () => (this.closed ? 'link closed' : null),
    });
    const id = `reg-${name}`;
    return this.request(signedRegister(challenge, { name, id, port: 1, identity: attackerIdentity() }), id);
  }

  /** Writes frames, one JSON line each, in one write; resolves true once the kernel took them, false if the link is gone. */
  write(frames: readonly object[] | string): Promise<boolean> {
    const text = typeof frames === 'string' ? frames : frames.map((f) => `${JSON.stringify(f)}\n`).join('');
    return new Promise((resolve) => {
      if (this.socket.destroyed || this.socket.writableEnded) {
        this.closed = true;
        return resolve(false);
      }
      this.socket.write(text, (err) => resolve(err === undefined || err === null));
    });
  }

  /** Writes `frames` (objects, or lines as text) and resolves with the kind of the answer to `lastId` (`reply` or `error:<code>`). */
  async request(frames: object | readonly object[] | string, lastId: string, timeoutMs = 20_000): Promise<string> {
    this.awaited.set(lastId, null);
    const answer = this.answerTo(lastId, timeoutMs);
    await this.write(typeof frames === 'string' || Array.isArray(frames) ? frames : [frames]);
    return answer;
  }

  /** How many lines of `kind` arrived (`reply`, `error:<code>`, a frame type). */
  count(kind: string): number {
    return this.counts.get(kind) ?? 0;
  }

  /** Every error line received, by code. */
  errors(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [kind, n] of this.counts) if (kind.startsWith('error:')) out[kind.slice(6)] = n;
    return out;
  }

  /** Resolves once the other side closed the link. */
  waitClosed(timeoutMs = 10_000): Promise<void> {
    return this.waiters.wait({
      what: 'the link to close',
      timeoutMs,
      probe: () => (this.closed ? { value: undefined } : null),
    });
  }

  /** Destroys the socket (an abrupt close). */
  close(): void {
    this.socket.destroy();
  }

  private answerTo(id: string, timeoutMs: number): Promise<string> {
    return this.waiters.wait({
      what: `the answer to ${id}`,
      timeoutMs,
      probe: () => {
        const kind = this.awaited.get(id);
        if (kind === undefined || kind === null) return null;
        this.awaited.delete(id);
        return { value: kind };
      },
      hopeless: () => (this.closed ? 'link closed' : null),
    });
  }

  private read(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    for (const line of parts) this.classify(line);
    this.waiters.notify();
  }

  private classify(line: string): void {
    const type = /^\{"type":"([a-z_]+)"/.exec(line)?.[1] ?? '?';
    if (type === 'ping') void this.write('{"type":"pong"}\n');
    if (type === 'hello') this.challenge = /"challenge":"([^"]*)"/.exec(line)?.[1] ?? null;
    const kind = type === 'error' ? `error:${/"code":"([a-z_]+)"/.exec(line)?.[1] ?? '?'}` : type;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (this.awaited.size > 0 && (type === 'reply' || type === 'error')) {
      const id = /"id":"([^"]*)"/.exec(line)?.[1];
      if (id !== undefined && this.awaited.get(id) === null) this.awaited.set(id, kind);
    }
  }
}

let attacker: Identity | null = null;
/** The one key of every attacking name in this test process (one key pair, not one per name: keys cost time to make). */
function attackerIdentity(): Identity {
  attacker ??= Identity.generate();
  return attacker;
}

/** Every bulk link still open, destroyed by `closeAllBulkLinks`. */
const live = new Set<BulkLink>();

/** Destroys every bulk link still open and waits for their sockets to close. */
export async function closeAllBulkLinks(): Promise<void> {
  const open = [...live];
  for (const link of open) link.close();
  await Promise.all(open.map((link) => link.done));
}
