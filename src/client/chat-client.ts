import { newId } from '../protocol/ids';
import { DEFAULT_LIMITS, PROTOCOL_VERSION, type Limits } from '../protocol/limits';
import { isValidName, sameName } from '../protocol/names';
import type { ClientEntry } from '../protocol/frames';
import { systemClock, type Clock } from '../util/clock';
import { toError } from '../util/errors';
import { TypedEmitter } from '../util/typed-emitter';
import { KnownClients } from './known-clients';
import * as R from './client-results';
import { DirectSender } from './direct-sender';
import { GroupState } from './group-state';
import { HeldInbox } from './held-messages';
import { Identity } from './identity';
import { PeerListener, type DirectMessage, type Inbox, type KeyDirectory } from './peer-listener';
import { receivedJournal } from './received-log';
import { LinkLevel, ServerLink, type Dialer, type ServerLinkEvents } from './server-link';
import { TableWaiters } from './table-waiters';
import { TurnQueue } from './turn-queue';

/** How to build a ChatClient (docs/events.md, Options). */
export interface ChatClientOptions {
  readonly name: string;
  readonly serverHost: string;
  readonly serverPort: number;
  /** Listen port for direct messages; 0 lets the OS pick. */
  readonly listenPort: number;
  readonly limits?: Partial<Limits>;
  readonly clock?: Clock;
  /** Interface the peer listener binds; default every interface. */
  readonly listenHost?: string;
  /** Opens the server stream (tests); default a TCP connection to serverHost:serverPort. */
  readonly dial?: Dialer;
  readonly identity?: Identity;
  /** Directory for state kept across restarts (the received-messages journal); omitted = memory only. */
  readonly dataDir?: string;
}

type PushFrame = ServerLinkEvents['frame'][0];

/**
 * The chat client as a library (SPEC §5): registers with the server, keeps a
 * copy of its client table, sends and receives signed private messages
 * directly, and runs group mode. It emits typed events and never prints; the
 * CLI renders it (src/cli/client-mode.ts). API and events: docs/events.md.
 */
export class ChatClient extends TypedEmitter<R.ChatClientEvents> {
  readonly name: string;
  readonly identity: Identity;
  readonly limits: Limits;
  private readonly clock: Clock;
  private readonly table = new KnownClients();
  private readonly tableWaiters: TableWaiters;
  private readonly link: ServerLink;
  private readonly listener: PeerListener;
  private readonly sender: DirectSender;
  private readonly groups: GroupState;
  /** Private messages that arrived in group mode (docs/events.md `releaseHeld`). */
  private readonly inbox: HeldInbox;
  private boundPort: number | null = null;
  private registered = false;
  private lost = false;
  /** Counts resumes; an older resume stops when a newer connection started its own. */
  private resumes = 0;
  /** Pushed frames wait one turn so replies read with them resolve their callers first. */
  private readonly pushes = new TurnQueue<PushFrame>((frame) => this.onPush(frame));

  constructor(private readonly options: ChatClientOptions) {
    super();
    this.name = options.name;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? systemClock;
    this.identity = options.identity ?? Identity.generate();
    this.tableWaiters = new TableWaiters(this.clock);
    const { name, limits, clock } = this;
    this.link = new ServerLink({ host: options.serverHost, port: options.serverPort, limits, clock, dial: options.dial });
    this.inbox = new HeldInbox(limits.maxHeldMessages, () => this.groups.current !== null, (m) => this.emit('directMessage', m));
    const journal = options.dataDir === undefined ? null : receivedJournal(options.dataDir, name);
    const { identity } = this;
    this.listener = new PeerListener({ name, identity, limits, clock, host: options.listenHost, keys: this.directory(), inbox: this.listenerInbox(), journal });
    this.sender = new DirectSender({ name, identity: this.identity, limits, clock });
    this.groups = new GroupState(clock, (group, seq) => this.link.notify({ type: 'group_ack', group, seq }));
    this.link.on('frame', (frame) => this.pushes.push(frame));
    this.link.on('connected', () => this.onConnected());
    this.link.on('lost', () => this.onLost());
    this.link.on('fault', (error) => this.emit('fault', error));
    this.listener.on('fault', (error) => this.emit('fault', error));
  }

  /** The group this client is in, or null in normal mode. */
  get currentGroup(): string | null {
    return this.groups.current;
  }

  /** The bound listen port (after start). */
  get port(): number | null {
    return this.boundPort;
  }

  /** This client's copy of the server's client table. */
  clients(): readonly ClientEntry[] {
    return this.table.snapshot();
  }

  /** The table's entry for `name` (any case), if it lists one. */
  lookup(name: string): ClientEntry | undefined {
    return this.table.get(name);
  }

  /** Starts the peer listener; resolves with the bound port. Rejects with PortInUseError. */
  async start(): Promise<number> {
    this.boundPort = await this.listener.listen(this.options.listenPort);
    return this.boundPort;
  }

  /** Connects and registers (SPEC §5); after 'ok' a lost link reconnects in the background. */
  async register(): Promise<R.RegisterResult> {
    this.link.connect();
    const result = await this.sendRegister();
    if (result === 'ok') {
      this.registered = true;
      this.link.autoReconnect = true;
      this.link.setLevel(LinkLevel.ready);
    }
    return result;
  }

  /** Signs and sends a private message straight to `name` (SPEC §5 send). */
  async sendDirect(name: string, text: string): Promise<R.SendDirectResult> {
    if (text.length > this.limits.maxMessageLength) return 'too_long'; // SPEC §7
    const entry = this.table.get(name);
    if (entry === undefined) return 'unknown';
    if (!entry.online) return 'offline';
    return this.sender.send(entry, text);
  }

  /** Creates a group (SPEC §5 create_group). */
  async createGroup(group: string): Promise<R.CreateGroupResult> {
    if (!isValidName(group)) return 'invalid_name'; // SPEC §3: group names follow the name rule
    const outcome = await this.link.request({ type: 'create_group', id: newId(), group });
    if (outcome.type === 'reply') return 'created';
    if (outcome.type === 'error' && outcome.code === 'group_exists') return 'exists';
    return R.toFailure(outcome);
  }

  /** Lists the server's groups in creation order. */
  async listGroups(): Promise<R.ListGroupsResult> {
    const outcome = await this.link.request({ type: 'list_groups', id: newId() });
    return outcome.type === 'reply' ? { groups: outcome.groups ?? [] } : R.toFailure(outcome);
  }

  /**
   * Joins a group and enters group mode (SPEC §5 join_group). `currentGroup`
   * is then the group as the server shows it (any case may be asked for).
   */
  async joinGroup(group: string): Promise<R.JoinGroupResult> {
    if (!isValidName(group)) return 'invalid_name';
    const outcome = await this.link.request({ type: 'join_group', id: newId(), group });
    if (outcome.type === 'reply') {
      this.groups.setCurrent(outcome.group ?? group);
      return 'joined';
    }
    if (outcome.type === 'error' && outcome.code === 'no_such_group') return 'no_such_group';
    return R.toFailure(outcome);
  }

  /**
   * Leaves the current group. A server that no longer counts us as a member
   * still ends group mode. `'not_in_group'` if we were in none, or were removed
   * while the request was out (`removedFromGroup` was emitted then).
   */
  async leaveGroup(): Promise<R.LeaveGroupResult> {
    const group = this.groups.current;
    if (group === null) return 'not_in_group';
    const outcome = await this.link.request({ type: 'leave_group', id: newId() });
    if (outcome.type === 'reply' || (outcome.type === 'error' && outcome.code === 'not_in_group')) {
      if (this.groups.current !== group) return 'not_in_group';
      this.groups.setCurrent(null);
      return { left: group };
    }
    return R.toFailure(outcome);
  }

  /** Lists the members of the current group in join order. */
  async listMembers(): Promise<R.ListMembersResult> {
    const group = this.groups.current;
    if (group === null) return 'not_in_group';
    const outcome = await this.link.request({ type: 'list_members', id: newId() });
    if (outcome.type === 'reply') return { group, members: outcome.members ?? [] };
    if (outcome.type === 'error' && outcome.code === 'not_in_group') return this.lostMembership(group);
    return R.toFailure(outcome);
  }

  /** Sends a message to the current group; 'received' once the server accepted it (SPEC §4). */
  async sendGroup(text: string): Promise<R.SendGroupResult> {
    if (text.length > this.limits.maxMessageLength) return 'too_long'; // SPEC §7
    const group = this.groups.current;
    if (group === null) return 'not_in_group';
    const outcome = await this.link.request({ type: 'send_group', id: newId(), text });
    if (outcome.type === 'reply') return 'received';
    if (outcome.type === 'error' && outcome.code === 'message_too_long') return 'too_long';
    if (outcome.type === 'error' && outcome.code === 'not_in_group') return this.lostMembership(group);
    return R.toFailure(outcome);
  }

  /**
   * Deregisters (SPEC §5 dereg): only this client's own name, in any case. No
   * reconnect after 'ok'. While reconnecting there is no server to tell: the
   * link is dropped instead, which the server counts as going offline
   * (docs/usage.md "When the server is away").
   */
  async deregister(name: string = this.name): Promise<R.DeregisterResult> {
    if (!sameName(name, this.name)) return 'not_self'; // a client can only deregister itself
    const outcome = await this.link.request({ type: 'dereg', id: newId(), name });
    if (outcome.type === 'not_connected') {
      this.registered = false;
      this.link.autoReconnect = false;
      this.link.drop();
      return 'ok';
    }
    // not_registered: the server already counts us offline, which is what dereg asks for.
    if (outcome.type === 'reply' || (outcome.type === 'error' && outcome.code === 'not_registered')) {
      this.registered = false;
      this.link.autoReconnect = false;
      return 'ok';
    }
    return R.toFailure(outcome);
  }

  /**
   * The private messages held while in group mode, oldest first, and forgets
   * them. The renderer calls it when group mode ends and before it exits
   * (docs/usage.md "Group mode"). Held messages are never emitted as
   * `directMessage`, except that a message arriving in normal mode while some
   * are still held emits those first, so none is lost or reordered.
   */
  releaseHeld(): readonly DirectMessage[] {
    return this.inbox.release();
  }

  /** Frees every socket and timer: server link, listener, pooled direct links. */
  async close(): Promise<void> {
    this.registered = false;
    this.pushes.clear();
    this.groups.close();
    this.tableWaiters.close();
    await Promise.all([this.link.close(), this.listener.close(), this.sender.close()]);
  }

  private async sendRegister(): Promise<R.RegisterResult> {
    const port = this.boundPort ?? this.options.listenPort;
    const frame = { type: 'register', id: newId(), v: PROTOCOL_VERSION, name: this.name, port, key: this.identity.publicKey } as const;
    const outcome = await this.link.request(frame, LinkLevel.connected);
    if (outcome.type === 'reply') {
      this.link.setLevel(LinkLevel.registered);
      return 'ok';
    }
    if (outcome.type === 'error' && outcome.code === 'name_in_use') return 'name_in_use'; // SPEC §5
    // Two registers raced onto one connection across a reconnect: it is registered.
    if (outcome.type === 'error' && outcome.code === 'already_registered') return 'ok';
    return R.toFailure(outcome);
  }

  /** The server says we are in no group although we thought so: we were removed. */
  private lostMembership(group: string): 'not_in_group' {
    if (this.groups.current === group) {
      this.groups.setCurrent(null);
      this.emit('removedFromGroup', { group });
    }
    return 'not_in_group';
  }

  private onConnected(): void {
    this.groups.resetSession();
    this.table.dropPartial(); // a push cut off with the old connection is sent in full again
    if (this.registered) void this.resume().catch((err: unknown) => this.emit('fault', toError(err)));
  }

  private onLost(): void {
    if (!this.registered || this.lost) return;
    this.lost = true;
    this.emit('serverLost');
  }

  /** After a reconnect: register again, re-join the group (SPEC §5 Leaving), then report. */
  private async resume(): Promise<void> {
    const run = ++this.resumes;
    const current = (): boolean => this.registered && run === this.resumes;
    const result = await this.sendRegister();
    if (!current()) return;
    if (result !== 'ok') return this.link.drop(); // e.g. the old session is not timed out yet: retry later
    const group = this.groups.current;
    if (group !== null) {
      const outcome = await this.link.request({ type: 'join_group', id: newId(), group }, LinkLevel.registered);
      if (!current()) return;
      if (outcome.type === 'error' && outcome.code === 'no_such_group') this.lostMembership(group);
      else if (outcome.type !== 'reply') return this.link.drop();
    }
    // Let the table pushed with the register reply be reported first (one turn later).
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!current()) return;
    this.link.setLevel(LinkLevel.ready);
    if (this.lost) {
      this.lost = false;
      this.emit('reconnected');
    }
  }

  private onPush(frame: PushFrame): void {
    switch (frame.type) {
      case 'table':
        if (!this.table.receive(frame)) return; // more chunks of this push follow
        this.tableWaiters.notify();
        this.emit('tableUpdated', this.table.snapshot());
        return;
      case 'group_msg':
        if (this.groups.receive(frame.group, frame.seq) && frame.group === this.groups.current) {
          this.emit('groupMessage', { group: frame.group, seq: frame.seq, from: frame.from, text: frame.text });
        }
        return;
      case 'removed':
        this.lostMembership(frame.group);
        return;
      case 'presence':
        if (frame.group !== this.groups.current) return; // about a group we have left meanwhile
        this.emit(frame.state === 'joined' ? 'memberJoined' : 'memberLeft', { group: frame.group, name: frame.name });
        return;
      case 'error':
        return; // connection-level error without id; fatal ones close the link, which reports itself
      default:
        assertNeverFrame(frame);
    }
  }

  /** The held inbox, with each sender shown as the table shows it, whatever case it signed with (docs/usage.md "Names"). */
  private listenerInbox(): Inbox {
    const { inbox, table } = this;
    return {
      get full(): boolean {
        return inbox.full;
      },
      deliver: (m) => inbox.deliver({ ...m, from: table.get(m.from)?.name ?? m.from }),
    };
  }

  private directory(): KeyDirectory {
    return {
      keyOf: (name) => this.table.get(name)?.key,
      nextUpdate: (ms) => this.tableWaiters.next(ms),
    };
  }
}

function assertNeverFrame(frame: never): never {
  throw new Error(`Unhandled push frame: ${JSON.stringify(frame)}`);
}
