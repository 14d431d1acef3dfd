import { signEkey, signRegistration, type Identity } from './identity.js';

/** A frame as the server sends it (docs/protocol.md "Server → client frames"); the page reads only what it uses. */
export type Frame = { readonly type: string; readonly id?: string; readonly code?: string } & Record<string, unknown>;

/** Where the link is: the page shows each of these states. */
export type LinkState = 'connecting' | 'online' | 'reconnecting' | 'offline';

/** How the page hears from the link. */
export interface LinkHandlers {
  state(state: LinkState, detail?: string): void;
  /** A pushed frame (table, group_msg, presence, removed, group_deleted, saved, relayed_dm, receipt, …). */
  push(frame: Frame): void;
  /** Registered (again): re-join the group, refresh lists. */
  registered(first: boolean): void;
}

/** 3: `register` publishes `ekey`/`ekeySig`, private messages carry the end-to-end envelope. */
const PROTOCOL_VERSION = 3;
const REQUEST_TIMEOUT_MS = 5_000;
const MAX_BACKOFF_MS = 2_000;
/** The server pings every second when idle (docs/protocol.md "Heartbeat"): this much silence means the link is gone. */
const SILENCE_MS = 4_000;

let counter = 0;
/** A request id unique to this page. */
function nextId(): string {
  return `w${Date.now().toString(36)}-${++counter}`;
}

/**
 * The page's one server link: a WebSocket to `/ws` carrying the protocol's
 * frames (one per message), registration signed with the page's identity,
 * requests with ids and a timeout, and reconnection with backoff (100 ms
 * doubling to 2 s) after the connection is lost, registering again each time.
 */
export class ServerLink {
  private ws: WebSocket | null = null;
  private readonly pending = new Map<string, (frame: Frame | null) => void>();
  private backoff = 100;
  private registeredOnce = false;
  private stopped = false;
  private lastHeard = 0;
  private watchdog: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly name: string,
    private readonly identity: Identity,
    private readonly handlers: LinkHandlers,
  ) {}

  /** Connects and registers; resolves with null when registered, else the refusal code (no reconnect then). */
  start(): Promise<string | null> {
    return new Promise((resolve) => this.connect(resolve));
  }

  /**
   * Sends a request and resolves with its reply or error frame, or null (no
   * answer in time, or not connected). A frame that carries its own `id` (a
   * private message's, which is also its replay key) keeps it.
   */
  request(frame: Record<string, unknown>): Promise<Frame | null> {
    const ws = this.ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return Promise.resolve(null);
    const id = typeof frame['id'] === 'string' ? frame['id'] : nextId();
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.settle(id, null), REQUEST_TIMEOUT_MS);
      this.pending.set(id, (answer) => {
        clearTimeout(timer);
        resolve(answer);
      });
      ws.send(JSON.stringify({ ...frame, id }));
    });
  }

  /** Sends a frame that gets no answer (acks). */
  notify(frame: Record<string, unknown>): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private connect(done: (refusal: string | null) => void): void {
    this.handlers.state(this.registeredOnce ? 'reconnecting' : 'connecting');
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${location.host}/ws`);
    this.ws = ws;
    this.lastHeard = Date.now();
    ws.onmessage = (event) => {
      this.lastHeard = Date.now();
      void this.onMessage(ws, JSON.parse(String(event.data)) as Frame, done);
    };
    ws.onclose = () => this.onClose(ws, done);
    // A network that silently went away closes nothing: silence past the heartbeat does.
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.watchdog = setInterval(() => {
      if (this.ws === ws && Date.now() - this.lastHeard > SILENCE_MS) {
        ws.close();
        this.onClose(ws, done);
      }
    }, 1_000);
  }

  private async onMessage(ws: WebSocket, frame: Frame, done: (refusal: string | null) => void): Promise<void> {
    if (frame.type === 'ping') return ws.send(JSON.stringify({ type: 'pong' }));
    if (frame.type === 'hello') return this.register(ws, String(frame['challenge']), done);
    if ((frame.type === 'reply' || frame.type === 'error') && frame.id !== undefined && this.pending.has(frame.id)) {
      return this.settle(frame.id, frame);
    }
    this.handlers.push(frame);
  }

  private async register(ws: WebSocket, challenge: string, done: (refusal: string | null) => void): Promise<void> {
    const identity = this.identity;
    const sig = await signRegistration(identity, challenge, this.name);
    const answer = await this.request({
      type: 'register',
      v: PROTOCOL_VERSION,
      name: this.name,
      port: 0,
      key: identity.publicKey,
      sig,
      ekey: identity.ekey,
      ekeySig: await signEkey(identity, this.name),
    });
    if (answer?.type === 'reply') {
      this.backoff = 100;
      const first = !this.registeredOnce;
      this.registeredOnce = true;
      this.handlers.state('online');
      this.handlers.registered(first);
      return done(null);
    }
    // The server has not noticed our old connection is gone yet: try again later, as the CLI does.
    if (this.registeredOnce && (answer === null || answer.code === 'name_in_use')) return ws.close();
    this.stopped = true;
    ws.close();
    done(answer?.code ?? 'not_responding');
  }

  private onClose(ws: WebSocket, done: (refusal: string | null) => void): void {
    if (this.ws !== ws) return;
    this.ws = null;
    for (const id of [...this.pending.keys()]) this.settle(id, null);
    if (this.stopped) {
      if (this.watchdog !== null) clearInterval(this.watchdog);
      return this.handlers.state('offline');
    }
    this.handlers.state(this.registeredOnce ? 'reconnecting' : 'connecting');
    setTimeout(() => this.connect(done), this.backoff);
    this.backoff = Math.min(MAX_BACKOFF_MS, this.backoff * 2);
  }

  private settle(id: string, frame: Frame | null): void {
    const resolve = this.pending.get(id);
    this.pending.delete(id);
    resolve?.(frame);
  }
}
