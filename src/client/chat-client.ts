import { newId } from '../protocol/ids';
import { DELETED_ACCOUNT_KEY } from '../protocol/primitives';
import { DEFAULT_LIMITS, PROTOCOL_VERSION, type Limits } from '../protocol/limits';
import { sameName } from '../protocol/names';
import path from 'node:path';
import type { DmEnvelope } from '../protocol/dm-envelope';
import type { ErrorCode } from '../protocol/errors';
import type { ClientEntry, RelayBody, ServerRequest } from '../protocol/frames';
import { systemClock, type Clock } from '../util/clock';
import { toError } from '../util/errors';
import { TypedEmitter } from '../util/typed-emitter';
import { TableCopy } from './table-copy';
import * as R from './client-results';
import { DirectSender } from './direct-sender';
import { GroupState } from './group-state';
import { GroupRequests } from './group-requests';
import { PrivateSend } from './private-send';
import { HeldInbox } from './held-messages';
import { Identity } from './identity';
import { SavedInbox } from './saved-messages';
import { entryEncryption } from './entry-keys';
import { KnownClients } from './known-clients';
import { PeerListener, type DirectMessage, type Inbox, type KeyDirectory } from './peer-listener';
import { receivedJournal } from './received-log';
import { LinkLevel, ServerLink, type Dialer, type ServerLinkEvents } from './server-link';
import { TableWaiters } from './table-waiters';
import type { ServerTransport } from './server-dial';
import { serverAddress } from './server-trust';
import { TurnQueue } from './turn-queue';

/** How to build a ChatClient (docs/events.md, Options). */
export interface ChatClientOptions {
  readonly name: string;
  readonly serverHost: string;
  readonly serverPort: number;
  /** More servers of the same cluster, tried in turn when the current one is lost (docs/usage.md "Cluster"). */
  readonly servers?: ReadonlyArray<{ readonly host: string; readonly port: number }>;
  /** Listen port for direct messages; 0 lets the OS pick. */
  readonly listenPort: number;
  readonly limits?: Partial<Limits>;
  readonly clock?: Clock;
  /** Interface the peer listener binds; default every interface. */
  readonly listenHost?: string;
  /** Opens the server stream (tests); default a TCP connection to serverHost:serverPort. */
  readonly dial?: Dialer;
  /** TLS with trust on first use, or plain TCP (the default) when `dial` is not given. */
  readonly transport?: ServerTransport;
  readonly identity?: Identity;
  /** Directory for state kept across restarts (the received-messages journal, known_clients); omitted = memory only. */
  readonly dataDir?: string;
  /**
   * The address other clients are told to dial for direct messages, when it
   * is not this host's and the bound port (port forwarding, NAT, a relay):
   * docs/usage.md `--advertise`.
   */
  readonly advertise?: { readonly host: string; readonly port: number };
}

type PushFrame = ServerLinkEvents['frame'][0];

/**
 * The chat client as a library (docs/usage.md "Client"): registers with the server, keeps a
 * copy of its client table, sends and receives signed private messages
 * directly, and runs group mode. It emits typed events and never prints; the
 * CLI renders it (src/cli/client-mode.ts). API and events: docs/events.md.
 */
export class ChatClient extends TypedEmitter<R.ChatClientEvents> {
  readonly name: string;
  readonly identity: Identity;
  readonly limits: Limits;
  private readonly clock: Clock;
  private readonly table = new TableCopy();
  private readonly tableWaiters: TableWaiters;
  private readonly link: ServerLink;
  private readonly listener: PeerListener;
  private readonly sender: DirectSender;
  private readonly groups: GroupState;
  private readonly groupRequests: GroupRequests;
  private readonly privateSend: PrivateSend;
  /** Private messages that arrived in group mode (docs/events.md `releaseHeld`). */
  private readonly inbox: HeldInbox;
  private boundPort: number | null = null;
  private registered = false;
  private lost = false;
  /** Counts resumes; an older resume stops when a newer connection started its own. */
  private resumes = 0;
  /** Pushed frames wait one turn so replies read with them resolve their callers first. */
  /** Saved messages already shown (the server may send one again after a crash). */
  private readonly saved: SavedInbox;
  private readonly pushes = new TurnQueue<PushFrame>((frame) => this.onPush(frame));
  /** The keys of the names this client exchanged private messages with (docs/usage.md "Files" `known_clients`). */
  private readonly pins: KnownClients;

  constructor(private readonly options: ChatClientOptions) {
    super();
    this.name = options.name;
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.clock = options.clock ?? systemClock;
    this.identity = options.identity ?? Identity.generate();
    this.tableWaiters = new TableWaiters(this.clock);
    const { name, limits, clock } = this;
    this.link = new ServerLink({
      host: options.serverHost,
      port: options.serverPort,
      ...(options.servers ? { alternates: options.servers } : {}),
      limits,
      clock,
      dial: options.dial,
      transport: options.transport,
    });
    this.inbox = new HeldInbox(
      limits.maxHeldMessages,
      () => this.groups.current !== null,
      (m) => this.emit('directMessage', m),
    );
    const journal = options.dataDir === undefined ? null : receivedJournal(options.dataDir, name);
    const pinFile = options.dataDir === undefined ? null : path.join(options.dataDir, 'known_clients');
    this.pins = new KnownClients(pinFile, (error) => this.emit('fault', error));
    const { identity } = this;
    this.listener = new PeerListener({
      name,
      identity,
      limits,
      clock,
      host: options.listenHost,
      keys: this.directory(),
      inbox: this.listenerInbox(),
      journal,
    });
    this.sender = new DirectSender({ name, identity: this.identity, limits, clock });
    this.privateSend = new PrivateSend({
      name,
      identity,
      limits,
      clock,
      link: this.link,
      table: this.table,
      sender: this.sender,
      keys: { seen: (entry) => this.checkPin(entry), exchanged: (peer, key) => this.pins.exchanged(peer, key) },
    });
    const savedFile = options.dataDir === undefined ? null : SavedInbox.fileFor(options.dataDir, name);
    this.saved = new SavedInbox(
      (message, key) => this.openSaved(message, key),
      savedFile,
      (error) => this.emit('fault', error),
    );
    this.groups = new GroupState(clock, (group, seq) => this.link.notify({ type: 'group_ack', group, seq }));
    this.groupRequests = new GroupRequests(this.link, this.groups, limits, (group) => this.lostMembership(group));
    this.link.on('frame', (frame) => this.pushes.push(frame));
    this.link.on('connected', () => this.onConnected());
    this.link.on('lost', () => this.onLost());
    this.link.on('fault', (error) => this.emit('fault', error));
    const address = serverAddress(options.serverHost, options.serverPort);
    this.link.on('trusted', (fingerprint) => this.emit('serverTrusted', { address, fingerprint }));
    this.link.on('refused', (refusal) => this.emit('serverRefused', { address, refusal }));
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

  /** Connects and registers (docs/usage.md "Client"); after 'ok' a lost link reconnects in the background. */
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

  /**
   * Sends a private message to `name` (any case): straight to it when it is
   * online, signed; to the server to keep when it is offline (docs/usage.md
   * "Saved messages").
   */
  sendDirect(name: string, text: string): Promise<R.SendDirectResult> {
    return this.privateSend.send(name, text);
  }

  /** Creates a group (docs/usage.md `create_group`). */
  createGroup(group: string): Promise<R.CreateGroupResult> {
    return this.groupRequests.create(group);
  }

  /** Lists the server's groups in creation order. */
  listGroups(): Promise<R.ListGroupsResult> {
    return this.groupRequests.list();
  }

  /** Joins a group (any case) and enters group mode; `currentGroup` is then the group as the server shows it. */
  joinGroup(group: string): Promise<R.JoinGroupResult> {
    return this.groupRequests.join(group);
  }

  /** The last `n` messages of the current group (docs/usage.md `history`). */
  history(n: number): Promise<R.HistoryResult> {
    return this.groupRequests.history(n);
  }

  /** Deletes a group this client created (docs/usage.md `delete_group`). */
  deleteGroup(group: string): Promise<R.DeleteGroupResult> {
    return this.groupRequests.remove(group);
  }

  /** Leaves the current group (`'not_in_group'` if in none, or removed while the request was out). */
  leaveGroup(): Promise<R.LeaveGroupResult> {
    return this.groupRequests.leave();
  }

  /** Lists the members of the current group in join order. */
  listMembers(): Promise<R.ListMembersResult> {
    return this.groupRequests.members();
  }

  /** Sends a message to the current group; 'received' once the server accepted (and kept) it. */
  sendGroup(text: string): Promise<R.SendGroupResult> {
    return this.groupRequests.send(text);
  }

  /** Makes the server forget this client's name, key and saved messages; no reconnect after 'deleted'. */
  async deleteAccount(name: string = this.name): Promise<R.DeleteAccountResult> {
    if (!sameName(name, this.name)) return 'not_self'; // docs/usage.md: only one's own account
    const outcome = await this.link.request({ type: 'delete_account', id: newId(), name: this.name });
    if (outcome.type !== 'reply') return R.toFailure(outcome);
    this.registered = false;
    this.link.autoReconnect = false;
    return 'deleted';
  }

  /**
   * Deregisters (docs/usage.md "Client" dereg): only this client's own name, in any case. No
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
    const { advertise } = this.options;
    const port = advertise?.port ?? this.boundPort ?? this.options.listenPort;
    const { name, identity } = this;
    const build = (challenge: string): ServerRequest => ({
      type: 'register',
      id,
      v: PROTOCOL_VERSION,
      name,
      port,
      ...(advertise === undefined ? {} : { host: advertise.host }),
      key: identity.publicKey,
      sig: identity.signRegistration(challenge, name),
      ekey: identity.encryptionKey, // docs/protocol.md `register`: what private messages are sealed for
      ekeySig: identity.signEncryptionKey(name),
    });
    const id = newId();
    const outcome = await this.link.request({ id, build }, LinkLevel.connected);
    if (outcome.type === 'reply') {
      this.link.setLevel(LinkLevel.registered);
      this.showSaved(this.saved.expect(outcome.saved ?? 0));
      return 'ok';
    }
    if (this.link.refusal !== null) return 'refused';
    if (outcome.type === 'error' && outcome.code === 'name_in_use') return 'name_in_use'; // docs/usage.md "Client"
    if (outcome.type === 'error' && outcome.code === 'name_owned') return 'name_owned'; // docs/usage.md "Accounts"
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
    this.showSaved(this.saved.end()); // the rest comes with the next registration
    if (!this.registered || this.lost) return;
    this.lost = true;
    this.emit('serverLost');
  }

  /** After a reconnect: register again, re-join the group (docs/usage.md "Client" Leaving), then report. */
  private async resume(): Promise<void> {
    const run = ++this.resumes;
    const current = (): boolean => this.registered && run === this.resumes;
    const result = await this.sendRegister();
    if (!current()) return;
    if (result !== 'ok') return this.link.drop(); // e.g. the old session is not timed out yet: retry later
    const group = this.groups.current;
    if (group !== null) {
      // Catch up from the last seq seen: what was said meanwhile comes as ordinary group messages.
      const since = this.groups.lastSeen(group);
      const join = { type: 'join_group', id: newId(), group, ...(since === undefined ? {} : { since }) } as const;
      const outcome = await this.link.request(join, LinkLevel.registered);
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
        for (const entry of frame.clients) this.checkPin(entry);
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
      case 'saved':
        return this.onSaved(frame.message, frame.key);
      case 'receipt':
        this.emit('receipt', { name: frame.name });
        return;
      case 'group_deleted':
        this.groups.forget(frame.group);
        if (this.groups.current === frame.group) this.groups.setCurrent(null);
        this.emit('groupDeleted', { group: frame.group });
        return;
      case 'relayed_dm':
        return void this.onRelayed(frame.id, frame.from, frame.body).catch((err: unknown) =>
          this.emit('fault', toError(err)),
        );
      case 'error':
        return; // connection-level error without id; fatal ones close the link, which reports itself
      default:
        assertNeverFrame(frame);
    }
  }

  /**
   * Resolves once the saved messages the last registration announced have
   * arrived (shown together by one `savedMessages` event), or the connection
   * was lost meanwhile: the CLI runs no command before (docs/usage.md).
   */
  savedArrived(): Promise<void> {
    return this.saved.arrived();
  }

  /**
   * A private message the server relayed (docs/protocol.md "Relayed private
   * messages"): an envelope from a browser page passes the checks of a direct
   * dm (peer-listener.ts `takeRelayed`); readable text is taken only from an
   * IRC session, a sender the table lists without a key — from anyone else
   * it would be the server speaking for them. Acked once taken; a refusal
   * goes back in the ack, and the sender prints it.
   */
  private async onRelayed(id: string, from: string, body: RelayBody): Promise<void> {
    const code = 'enc' in body ? await this.takeSealed(from, body.enc) : await this.takeReadable(id, from, body.text);
    this.link.notify({ type: 'relayed_ack', id, ...(code === null ? {} : { code }) });
  }

  private takeSealed(from: string, envelope: DmEnvelope): Promise<ErrorCode | null> | ErrorCode {
    if (!sameName(envelope.from, from)) return 'bad_signature'; // the server says one sender, the envelope another
    return this.listener.takeRelayed(envelope);
  }

  private async takeReadable(id: string, from: string, text: string): Promise<ErrorCode | null> {
    const sender = await this.entryOf(from);
    if (sender === undefined) return 'unknown_sender';
    if (entryEncryption(sender) !== 'none') return 'e2e_required';
    const inbox = this.listenerInbox();
    if (inbox.full) return 'inbox_full';
    inbox.deliver({ id, from, text });
    return null;
  }

  /** `name`'s table entry; if unknown, waits (half the ack timeout at most) for table pushes: it may have just registered. */
  private async entryOf(name: string): Promise<ClientEntry | undefined> {
    const deadline = this.clock.now() + Math.floor(this.limits.ackTimeoutMs / 2);
    let entry = this.table.get(name);
    while (entry === undefined) {
      const left = deadline - this.clock.now();
      if (left <= 0 || !(await this.tableWaiters.next(left))) break;
      entry = this.table.get(name);
    }
    return entry;
  }

  /** A saved envelope's text if it opens for this client with its sender's key (which is then pinned). */
  private openSaved(message: DmEnvelope, senderKey: string): string | null {
    const opened = this.identity.open(this.name, senderKey, message);
    if (!opened.ok) return null;
    this.pins.exchanged(message.from, senderKey);
    return opened.text;
  }

  /** A table or lookup entry: a pinned name showing another key is reported once (and re-pinned). */
  private checkPin(entry: ClientEntry): void {
    if (entry.key === DELETED_ACCOUNT_KEY) return; // the account is gone: whoever takes the name next is the change
    if (this.pins.check(entry.name, entry.key)) this.emit('identityChanged', { name: entry.name });
  }

  /**
   * A saved message: shown once if its sender's signature holds, and acked
   * (so the server deletes it) only when shown — or at once if it never will be.
   */
  private onSaved(message: DmEnvelope, senderKey: string): void {
    const { show, ack } = this.saved.receive(message, senderKey);
    this.showSaved(show);
    for (const id of ack) this.link.notify({ type: 'saved_ack', id });
  }

  private showSaved(messages: readonly R.SavedMessage[]): void {
    if (messages.length > 0) this.emit('savedMessages', messages);
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
      exchanged: (name, key) => this.pins.exchanged(name, key),
      nextUpdate: (ms) => this.tableWaiters.next(ms),
    };
  }
}

function assertNeverFrame(frame: never): never {
  throw new Error(`Unhandled push frame: ${JSON.stringify(frame)}`);
}
