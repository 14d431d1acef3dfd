import { normalizeAddress } from '../net/listen';
import { encodeFrame } from '../protocol/codec';
import { newId, type IdSource } from '../protocol/ids';
import { MESH_PROTOCOL_VERSION, type Limits } from '../protocol/limits';
import { MAX_GOSSIP_MEMBERS, type MeshFrame } from '../protocol/mesh-frames';
import { assertNever, type FrameOf } from '../protocol/frames';
import { systemClock, type Clock } from '../util/clock';
import { TypedEmitter } from '../util/typed-emitter';
import type { PeerAddress } from './dialer';
import { LinkPool } from './link-pool';
import { deliverToAll } from './fanout';
import type { DialOutcome, MeshLink } from './mesh-link';
import type { MeshPeerEvents, MeshSendResult, StartOutcome } from './events';
import { MemberTable, type MemberInfo } from './member-table';
import { applyVerdict } from './apply-verdict';
import { MemberDiscovery } from './member-discovery';
import { MessageInbox } from './message-inbox';

/** How a MeshPeer is set up. `clock` and `ids` are injectable for tests. */
export interface MeshPeerOptions {
  readonly name: string;
  /** 0 lets the OS pick; `start` reports the bound port. */
  readonly listenPort: number;
  readonly limits: Limits;
  /** Interface to listen on; default every interface. */
  readonly listenHost?: string;
  readonly clock?: Clock;
  readonly ids?: IdSource;
}

/**
 * A member of a serverless chat mesh (docs/usage.md "Peer mode"): it listens for links, joins
 * through any known member, keeps one link to every other member, gossips the
 * member list and sends each typed message to every member with an ack. It is
 * a library: it emits typed events (see `MeshPeerEvents`) and never prints.
 */
export class MeshPeer extends TypedEmitter<MeshPeerEvents> {
  readonly name: string;
  /** This process's instance id (UUID v7): settles a name between two peers joining at once. */
  readonly instance: string;
  private readonly limits: Limits;
  private readonly clock: Clock;
  private readonly ids: IdSource;
  private readonly pool: LinkPool;
  private readonly table: MemberTable<MeshLink>;
  private readonly inbox: MessageInbox;
  private readonly discovery: MemberDiscovery;
  private joining = true;
  /** Members counted in our own join line. */
  private readonly counted = new Set<string>();
  private nameLost = false;
  private leaving: Promise<void> | null = null;
  private boundPort = 0;

  constructor(private readonly options: MeshPeerOptions) {
    super();
    this.name = options.name;
    this.limits = options.limits;
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? newId;
    this.instance = this.ids();
    // docs/protocol-mesh.md, "Limits": one link per member, so maxClients caps members too
    const maxMembers = Math.min(MAX_GOSSIP_MEMBERS, this.limits.maxClients);
    this.table = new MemberTable({ name: this.name, instance: this.instance }, maxMembers);
    this.discovery = new MemberDiscovery({
      table: this.table,
      clock: this.clock,
      heartbeatMs: this.limits.heartbeatMs,
      maxMembers,
      active: () => !this.leaving && !this.nameLost,
      dial: (address, to) => this.dial(address, to),
    });
    this.inbox = new MessageInbox(this.limits.seenIdsCapacity, this.limits.maxMessageLength);
    this.pool = new LinkPool(this.limits, this.clock, {
      frame: (link, frame) => this.onFrame(link, frame),
      close: (link) => this.onClose(link),
      fault: (error) => this.emit('fault', error),
    });
  }

  /** The bound listen port (after `start`). */
  get port(): number {
    return this.boundPort;
  }

  /** Longest message `send` accepts (docs/usage.md "Client": longer is refused, never truncated). */
  get maxMessageLength(): number {
    return this.limits.maxMessageLength;
  }

  /** Current members other than this peer, sorted by name. */
  members(): MemberInfo[] {
    return this.table.list().map(({ name, instance, host, port }) => ({ name, instance, host, port }));
  }

  /**
   * Listens, then joins through the first of `addresses` that answers — or
   * starts a new chat when there is none (docs/usage.md "Peer mode"). Rejects with
   * PortInUseError when the listen port is taken.
   */
  async start(addresses: readonly PeerAddress[]): Promise<StartOutcome> {
    this.boundPort = await this.pool.listen(this.options.listenPort, this.options.listenHost);
    this.discovery.start();
    for (const address of addresses) {
      if (this.leaving) break;
      const outcome = await this.dial(address);
      if (outcome === 'failed' || outcome === 'refused') continue;
      if (outcome === 'linked') await this.discovery.settled();
      if (outcome === 'name_in_use' || this.nameLost) {
        this.joining = false;
        await this.leave();
        return { kind: 'name_in_use' };
      }
      this.finishJoining(true);
      return { kind: 'joined', port: this.boundPort, others: this.table.size };
    }
    this.finishJoining(false);
    return { kind: 'created', port: this.boundPort };
  }

  /**
   * From now on our name is ours for good; members learn it from `joined`.
   * Members already linked are in our "Joined the chat with <n>" line, so they
   * are not announced; a new chat has no such line, so those that greeted us
   * while we tried the given addresses are announced now.
   */
  private finishJoining(joined: boolean): void {
    this.joining = false;
    this.table.selfJoined();
    for (const member of this.table.list()) {
      if (joined) this.counted.add(member.instance);
      // after the caller has printed the new-chat lines (it resumes in a microtask)
      else if (!member.joining) setImmediate(() => this.announce(member.name, member.instance));
      member.link.conn.send({ type: 'joined' });
    }
  }

  /**
   * Sends `text` to every member; resolves when each has acked or timed out.
   * Resolves `'too_long'` past `maxMessageLength`, sending nothing (refused,
   * never truncated) — expected outcomes are values (docs/events.md).
   */
  async send(text: string): Promise<MeshSendResult> {
    if (text.length > this.limits.maxMessageLength) return 'too_long';
    const id = this.ids();
    this.inbox.remember(id);
    const bytes = encodeFrame<MeshFrame>({ type: 'msg', id, text });
    const recipients = this.table.list().map((m) => m.name);
    return deliverToAll((name) => this.table.get(name)?.link, recipients, id, bytes, this.limits.ackTimeoutMs);
  }

  /** Says bye to every member and closes everything; safe to call more than once. */
  leave(): Promise<void> {
    this.leaving ??= this.shutdown();
    return this.leaving;
  }

  private shutdown(): Promise<void> {
    this.discovery.stop();
    return this.pool.closeAll((link) => {
      if (link.state === 'active') link.conn.send({ type: 'bye' });
    });
  }

  // ---- links ---------------------------------------------------------------

  /** Dials an address; `to` is the instance expected there, when known. */
  private dial(target: PeerAddress, to?: string): Promise<DialOutcome> {
    return this.pool.dial(target, () => ({
      type: 'hello',
      id: this.ids(),
      v: MESH_PROTOCOL_VERSION,
      name: this.name,
      peer: this.instance,
      port: this.boundPort,
      ...(to === undefined ? {} : { to }),
      ...(this.joining ? { joining: true as const } : {}),
    }));
  }

  private onClose(link: MeshLink): void {
    if (link.state !== 'active' || this.leaving) return;
    link.state = 'gone';
    // docs/usage.md "Peer mode": no goodbye — connection closed or heartbeat missed.
    const member = this.table.remove(link.name, link);
    if (!member) return;
    this.discovery.memberLost(member);
    this.emit('memberDisconnected', member.name);
  }

  // ---- frames --------------------------------------------------------------

  private onFrame(link: MeshLink, frame: MeshFrame): void {
    switch (frame.type) {
      case 'hello':
        return this.onHello(link, frame);
      case 'welcome':
        return this.onWelcome(link, frame);
      case 'error':
        return this.onError(link, frame);
      case 'members':
      case 'joined':
      case 'msg':
      case 'msg_ack':
      case 'bye':
        return this.onMemberFrame(link, frame);
      case 'ping':
      case 'pong':
        return;
      default:
        return assertNever(frame);
    }
  }

  /** Frames only a greeted member may send: checked once here. */
  private onMemberFrame(
    link: MeshLink,
    frame: FrameOf<MeshFrame, 'members' | 'joined' | 'msg' | 'msg_ack' | 'bye'>,
  ): void {
    if (link.state === 'greeting') return link.conn.sendError('not_registered');
    if (!link.trusted) return;
    switch (frame.type) {
      case 'members':
        return this.discovery.learn(frame.members, link);
      case 'joined':
        if (this.table.markJoined(link.name, link.remote?.instance ?? ''))
          this.announce(link.name, link.remote?.instance);
        return;
      case 'msg':
        return this.onMsg(link, frame);
      case 'msg_ack':
        link.acks.settle(frame.id, true);
        return;
      case 'bye':
        return this.onBye(link);
      default:
        return assertNever(frame);
    }
  }

  private onHello(link: MeshLink, frame: FrameOf<MeshFrame, 'hello'>): void {
    if (link.outbound || link.state !== 'greeting')
      return link.conn.sendError('already_registered', undefined, frame.id);
    if (frame.v !== MESH_PROTOCOL_VERSION) return link.conn.sendError('unsupported_version', undefined, frame.id);
    if (this.leaving || this.nameLost) return link.conn.sendError('shutting_down', undefined, frame.id);
    if (frame.to !== undefined && frame.to !== this.instance) {
      link.conn.sendError('wrong_recipient', 'This is another peer (its address was reused)', frame.id);
      return link.retire('gone');
    }
    const host = normalizeAddress(link.conn.remoteAddress);
    const info: MemberInfo = { name: frame.name, instance: frame.peer, host, port: frame.port };
    const kept = this.admit(link, info, frame.name, frame.joining === true, () =>
      link.conn.send({
        type: 'welcome',
        id: frame.id,
        name: this.name,
        peer: this.instance,
        members: this.discovery.listFor(link),
        ...(this.joining ? { joining: true as const } : {}),
      }),
    );
    if (kept) this.discovery.gossip(link);
  }

  private onWelcome(link: MeshLink, frame: FrameOf<MeshFrame, 'welcome'>): void {
    if (!link.dialed || link.state !== 'greeting') return link.conn.sendError('bad_frame', 'Unexpected welcome');
    if (this.leaving) return link.retire('gone');
    const info: MemberInfo = { name: frame.name, instance: frame.peer, host: link.dialed.host, port: link.dialed.port };
    const kept = this.admit(link, info, this.name, frame.joining === true, () => undefined);
    if (link.trusted) this.discovery.learn(frame.members, link);
    if (kept) this.discovery.gossip(null);
    // A dial begun while joining may end after it: the member must still learn we joined.
    if (link.trusted && !this.joining) link.conn.send({ type: 'joined' });
    link.finishDial(this.nameLost ? 'name_in_use' : link.trusted ? 'linked' : 'refused');
  }

  /**
   * Applies the member table's verdict on a greeted link (docs/usage.md "Peer mode": one link per
   * pair, one process per name). `welcome` sends the acceptor's reply, if any,
   * before a losing link is closed. Returns true when the member set changed.
   * A member still joining is announced when it sends `joined`.
   */
  private admit(link: MeshLink, info: MemberInfo, initiator: string, joining: boolean, welcome: () => void): boolean {
    link.remote = info;
    const wasJoining = this.table.get(info.name)?.joining === true;
    const verdict = this.table.admit(info, link, initiator, joining);
    const establishedNow = this.table.get(info.name)?.joining === false;
    return applyVerdict(
      verdict,
      { link, info, joining, wasJoining, establishedNow },
      {
        welcome,
        linked: (instance) => this.discovery.memberLinked(instance),
        announce: (name, instance) => this.announce(name, instance),
        loseName: () => this.loseName(),
      },
    );
  }

  /** docs/usage.md "Peer mode": `[<name> has joined the chat]`, once per member, never for those in our own join count. */
  private announce(name: string, instance: string | undefined): void {
    if (!this.joining && instance !== undefined && !this.counted.has(instance)) this.emit('memberJoined', name);
  }

  private onError(link: MeshLink, frame: FrameOf<MeshFrame, 'error'>): void {
    if (frame.code === 'name_in_use') return this.onNameRefused(link);
    if (frame.id !== undefined && link.trusted) link.acks.settle(frame.id, false); // e.g. message_too_long
    if (link.state === 'greeting' && link.outbound) link.finishDial('failed');
  }

  /** Only a peer still joining gives up its name; an established one ignores the claim (docs/usage.md "Peer mode"). */
  private onNameRefused(link: MeshLink): void {
    const greeting = link.state === 'greeting' && link.outbound;
    const active = link.state === 'active';
    if (greeting) {
      link.finishDial(this.joining ? 'name_in_use' : 'refused');
      link.retire('gone');
    }
    if (this.joining && (greeting || active)) this.loseName();
  }

  private onMsg(link: MeshLink, frame: FrameOf<MeshFrame, 'msg'>): void {
    const verdict = this.inbox.accept(frame.id, frame.text);
    if (verdict === 'too_long') return link.conn.sendError('message_too_long', undefined, frame.id);
    link.conn.send({ type: 'msg_ack', id: frame.id });
    // docs/usage.md "Peer mode": each message shown exactly once, under the name its link greeted with.
    if (verdict === 'show') this.emit('message', link.name, frame.text);
  }

  private onBye(link: MeshLink): void {
    const wasActive = link.state === 'active';
    link.state = 'gone';
    if (!wasActive) return;
    const member = this.table.remove(link.name, link);
    if (!member) return;
    this.discovery.memberLeft(member.instance);
    this.emit('memberLeft', member.name);
  }

  /** We lost our name to another process (docs/usage.md "Peer mode": refused deterministically). */
  private loseName(): void {
    if (this.nameLost) return;
    this.nameLost = true;
    if (!this.joining) this.emit('nameInUse');
    void this.leave();
  }
}
