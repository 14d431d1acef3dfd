import { ChatClient, type ChatClientOptions } from '../client/chat-client';
import { isFailure, type RegisterResult, type RequestFailure, type SendDirectResult } from '../client/client-results';
import { chatappDataHome } from '../util/data-home';
import { IdentityFileError, loadOrCreateIdentity } from '../client/identity-file';
import { PortInUseError } from '../net/listen';
import { sameName } from '../protocol/names';
import { systemClock } from '../util/clock';
import { toError } from '../util/errors';
import type { ClientOptions } from './args';
import { hintFor } from './command-hints';
import { COMMAND_HELP, parseCommand, type Command, type Mode } from './command-parser';
import { ConsoleUi } from './console-ui';
import { LineThrottle } from './line-throttle';
import { clientLines, commonLines, formatLine, linePrefix } from './lines';
import { hintLine, whoLines } from './client-lines';
import type { Terminal } from './terminal-io';
import path from 'node:path';
import type { ServerRefusal, ServerTransport } from '../client/server-dial';
import { KnownServers, ServerTrust } from '../client/server-trust';

/** Test seams: how to reach the server, the listener's interface, the clock, and where state is kept (default: chatappDataHome()). */
export type ClientModeDeps = Pick<ChatClientOptions, 'dial' | 'listenHost' | 'identity' | 'clock' | 'dataDir'>;

/** TLS with trust on first use over `$XDG_DATA_HOME/chatapp/known_servers` (docs/usage.md "TLS"), unless `--no-tls`. */
export function clientTransport(tls: boolean, dataHome: string = chatappDataHome()): ServerTransport {
  if (!tls) return { tls: false };
  return { tls: true, trust: new ServerTrust(new KnownServers(path.join(dataHome, 'known_servers'))) };
}

/** docs/usage.md: `[Client table updated.]` is printed at most once per this many ms. */
export const TABLE_LINE_INTERVAL_MS = 1_000;

/**
 * Runs client mode until it ends; resolves with the exit code (docs/usage.md "How output looks"; docs/usage.md "Client").
 * The ChatClient library does the work; this renderer turns typed lines into
 * calls and results/events into the exact `>>> ` lines.
 */
export async function runClientMode(options: ClientOptions, io: Terminal, deps: ClientModeDeps = {}): Promise<number> {
  let identity = deps.identity;
  try {
    identity ??= loadOrCreateIdentity(options.identityFile); // docs/usage.md "Files": the name belongs to this key
  } catch (err) {
    if (!(err instanceof IdentityFileError)) throw err;
    io.stdout.write(formatLine(clientLines.identityUnusable(err.file, err.message)) + '\n');
    return 1;
  }
  const client = new ChatClient({
    name: options.name,
    serverHost: options.serverHost,
    serverPort: options.serverPort,
    ...(options.servers ? { servers: options.servers } : {}),
    ...(options.advertise ? { advertise: options.advertise } : {}),
    listenPort: options.listenPort,
    limits: options.limits,
    dataDir: chatappDataHome(),
    transport: clientTransport(options.tls !== false),
    ...deps,
    identity,
  });
  const ui = new ConsoleUi(io);
  const session = new ClientSession(client, ui, io, deps.clock);
  try {
    return await session.run(options.listenPort);
  } finally {
    session.dispose();
    ui.close();
    await client.close();
  }
}

/**
 * One interactive client session, and how it ends. The mode is the client's:
 * group mode while `client.currentGroup` is set; the client holds the private
 * messages that arrive meanwhile, and they are printed when it ends.
 */
class ClientSession {
  /** Set once the session is leaving: no further commands are run. */
  private finishing = false;
  /** Set once the last line is printed: later results are not shown. */
  private ended = false;
  private finish: (code: number) => void = () => undefined;
  private readonly done = new Promise<number>((resolve) => (this.finish = resolve));
  private unsubscribeSignals: () => void = () => undefined;
  /** `[Client table updated.]`, at most one line a second (docs/usage.md); the first at once. */
  private readonly tableLine: LineThrottle;
  /**
   * Taken at once: readline's iterator only sees lines emitted after it exists,
   * so commands piped in before registration finishes would otherwise be lost.
   */
  private readonly lines: AsyncIterableIterator<string>;

  constructor(
    private readonly client: ChatClient,
    private readonly ui: ConsoleUi,
    private readonly io: Terminal,
    clock = systemClock,
  ) {
    this.lines = ui.lines();
    this.tableLine = new LineThrottle(clock, TABLE_LINE_INTERVAL_MS, () => this.print(clientLines.tableUpdated()));
  }

  /** Starts the listener, registers, then runs commands until the session ends. */
  async run(listenPort: number): Promise<number> {
    // Signals are caught before anything is printed; one that arrives while
    // registering is acted on as soon as the client is registered (a script
    // may send SIGTERM the moment it reads a line).
    let interrupted = false;
    let onInterrupt = (): void => void (interrupted = true);
    this.unsubscribeSignals = this.io.onSignal(() => onInterrupt());
    this.ui.onInterrupt(() => onInterrupt());
    let port: number;
    try {
      port = await this.client.start();
    } catch (err) {
      if (!(err instanceof PortInUseError)) throw err;
      this.io.stderr.write(formatLine(commonLines.portInUse(listenPort)) + '\n'); // docs/usage.md "Command-line mistakes"
      return 1;
    }
    this.print(clientLines.listening(port));
    this.wireEvents();
    // docs/usage.md: commands wait for the first table, so a piped `send` finds its receiver.
    const firstTable = new Promise<void>((resolve) => this.client.once('tableUpdated', () => resolve()));
    const registered = await this.client.register();
    if (registered !== 'ok') return this.registerFailed(registered);
    this.print(clientLines.welcome());
    onInterrupt = () => void this.leave();
    if (interrupted) onInterrupt();
    await Promise.race([firstTable, this.done]);
    await Promise.race([this.client.savedArrived(), this.done]); // docs/usage.md: saved messages come first
    if (this.finishing) return this.done;
    void this.readLoop();
    this.ui.prompt();
    return this.done;
  }

  /** Unsubscribes from process signals and drops a due table line. */
  dispose(): void {
    this.unsubscribeSignals();
    this.tableLine.cancel();
  }

  private get mode(): Mode {
    return this.group === null ? 'normal' : 'group';
  }

  /** The group whose mode we render (null = normal mode): always the client's own. */
  private get group(): string | null {
    return this.client.currentGroup;
  }

  private registerFailed(result: Exclude<RegisterResult, 'ok'>): number {
    this.ui.stopPrompting();
    if (result === 'name_in_use') this.print(commonLines.nameInUse(this.client.name));
    else if (result === 'name_owned') this.print(clientLines.nameOwned(this.client.name));
    else if (result === 'refused') {
      // the reason was printed by the serverRefused event
    } else {
      this.print(clientLines.serverNotResponding());
      this.print(clientLines.exiting());
    }
    this.ended = true; // nothing prints after the last line
    return 1;
  }

  private wireEvents(): void {
    const { client } = this;
    client.on('tableUpdated', () => this.tableLine.trigger());
    // Only in normal mode: the client holds those of group mode until flushQueued (docs/usage.md "Group mode")
    client.on('directMessage', ({ from, text }) => this.print(clientLines.directMessage(from, text)));
    client.on('groupMessage', ({ group, from, text }) => {
      if (group === this.group) this.print(clientLines.groupMessage(from, text));
    });
    client.on('removedFromGroup', ({ group }) => {
      if (this.ended) return;
      this.ui.print(formatLine(clientLines.removed(group), group)); // printed in the group's mode, then it ends
      this.syncPrompt();
      this.flushQueued();
    });
    client.on('savedMessages', (messages) => {
      this.printBlock([
        clientLines.youHaveMessages(),
        ...messages.map((m) => clientLines.savedMessage(m.from, m.ts, m.text)),
      ]);
    });
    client.on('receipt', ({ name }) => this.print(clientLines.receipt(name)));
    client.on('identityChanged', ({ name }) => this.print(clientLines.identityChanged(name)));
    client.on('groupDeleted', ({ group }) => {
      if (this.ended) return;
      this.ui.print(formatLine(clientLines.groupWasDeleted(group), group)); // printed in the group's mode, then it ends
      this.syncPrompt();
      this.flushQueued();
    });
    client.on('memberJoined', ({ name }) => this.print(clientLines.memberJoined(name)));
    client.on('memberLeft', ({ name }) => this.print(clientLines.memberLeft(name)));
    client.on('serverLost', () => {
      this.tableLine.leadNext(); // the table after re-registering is part of coming back
      this.print(clientLines.connectionLost());
    });
    client.on('reconnected', () => this.print(clientLines.reconnected()));
    client.on('serverTrusted', ({ address, fingerprint }) =>
      this.print(clientLines.trustingServer(address, fingerprint)),
    );
    client.on('serverRefused', ({ address, refusal }) => this.refused(address, refusal));
    client.on('fault', (error) => this.ui.printError(`chatapp: internal error: ${error.message}`));
  }

  /** Commands one at a time, in order; end of input leaves like dereg (docs/usage.md "Client"). */
  private async readLoop(): Promise<void> {
    try {
      for await (const line of this.lines) {
        if (this.finishing) break;
        await this.handle(parseCommand(line, this.mode), line);
        if (this.finishing) break;
        this.ui.prompt();
      }
    } catch (err) {
      this.ui.printError(`chatapp: internal error: ${toError(err).message}`);
    }
    await this.leave();
  }

  private async handle(command: Command, line: string): Promise<void> {
    const { client } = this;
    switch (command.kind) {
      case 'empty':
        return;
      case 'invalid':
        return this.printBlock([commonLines.invalidCommand(), ...hintLine(hintFor(line, this.mode))]);
      case 'invalid_group_name':
        return this.invalidGroupName(command.group);
      case 'help':
        return this.printBlock(COMMAND_HELP[this.mode].map((h) => clientLines.item(h)));
      case 'who':
        return this.printBlock(whoLines(client.clients()));
      case 'send':
        return this.showDirect(command.name, command.text, await client.sendDirect(command.name, command.text));
      case 'dereg':
        return sameName(command.name, client.name) ? this.leave() : this.print(clientLines.onlySelf());
      case 'create_group':
        return this.createGroup(command.group);
      case 'list_groups':
        return this.listGroups();
      case 'join_group':
        return this.joinGroup(command.group);
      case 'send_group':
        return this.sendGroup(command.text);
      case 'list_members':
        return this.listMembers();
      case 'leave_group':
        return this.leaveGroup();
      case 'history':
        return this.history(command.n);
      case 'delete_group':
        return this.deleteGroup(command.group);
      case 'delete_account':
        return sameName(command.name, client.name) ? this.deleteAccount() : this.print(clientLines.onlyOwnAccount());
      default:
        return assertNever(command);
    }
  }

  /** docs/usage.md "Names": a known name is shown as the table shows it, whatever case was typed. */
  private showDirect(typed: string, text: string, result: SendDirectResult): void {
    const name = this.client.lookup(typed)?.name ?? typed;
    if (result === 'received') return this.print(clientLines.received(name));
    if (result === 'no_ack') return this.print(commonLines.noAck(name));
    if (result === 'receiver_full') return this.print(clientLines.cannotTakeMore(name));
    if (result === 'offline') return this.print(clientLines.offline(name));
    if (result === 'saved') return this.print(clientLines.savedByServer());
    if (result === 'mailbox_full') return this.print(clientLines.mailboxFull(name));
    if (result === 'unknown') return this.print(clientLines.unknownClient(typed));
    if (result === 'too_long') return this.tooLong(text);
    if (isFailure(result)) return this.failed(result);
    return this.print(clientLines.rejected(name, result.rejected));
  }

  private tooLong(text: string): void {
    this.print(commonLines.messageTooLong(text.length, this.client.limits.maxMessageLength)); // docs/usage.md "Client"
  }

  private async createGroup(group: string): Promise<void> {
    const result = await this.client.createGroup(group);
    if (result === 'created') return this.print(clientLines.groupCreated(group));
    if (result === 'exists') return this.print(clientLines.groupExists(group));
    if (result === 'invalid_name') return this.invalidGroupName(group);
    return this.failed(result);
  }

  /** The refusal, then the rule on a second line (docs/usage.md "Names"). */
  private invalidGroupName(group: string): void {
    this.printBlock([clientLines.invalidGroupName(group), clientLines.groupNameRule()]);
  }

  private async listGroups(): Promise<void> {
    const result = await this.client.listGroups();
    if (isFailure(result)) return this.failed(result);
    if (result.groups.length === 0) return this.print(clientLines.noGroups());
    this.printBlock([clientLines.availableGroups(), ...result.groups.map((group) => clientLines.item(group))]);
  }

  private async joinGroup(group: string): Promise<void> {
    const result = await this.client.joinGroup(group);
    if (result === 'no_such_group') return this.print(clientLines.noSuchGroup(group));
    if (result === 'invalid_name') return this.invalidGroupName(group);
    if (isFailure(result)) return this.failed(result);
    if (!this.ended) this.ui.print(formatLine(clientLines.entered(result.joined))); // printed before group mode starts
    this.syncPrompt();
    // docs/usage.md "Group history": the group's last messages, right after the entered line.
    this.printBlock(result.history.map((m) => clientLines.historyMessage(m.from, m.at, m.text)));
  }

  private async history(n: number): Promise<void> {
    const result = await this.client.history(n);
    if (result === 'not_in_group') return; // the removal line was printed by the event
    if (isFailure(result)) return this.failed(result);
    if (result.history.length === 0) return this.print(clientLines.noHistory(result.group));
    this.printBlock(result.history.map((m) => clientLines.historyMessage(m.from, m.at, m.text)));
  }

  private async deleteGroup(group: string): Promise<void> {
    const result = await this.client.deleteGroup(group);
    if (result === 'deleted') return this.print(clientLines.groupDeleted(group));
    if (result === 'no_such_group') return this.print(clientLines.noSuchGroup(group));
    if (result === 'invalid_name') return this.invalidGroupName(group);
    if (isFailure(result)) return this.failed(result);
    this.print(clientLines.onlyCreator(result.creator, group));
  }

  /** docs/usage.md "Accounts": the server forgets the name; the client says so and exits 0. */
  private async deleteAccount(): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    const result = await this.client.deleteAccount();
    if (result !== 'deleted') {
      this.finishing = false;
      return isFailure(result) ? this.failed(result) : this.print(clientLines.onlyOwnAccount());
    }
    this.flushQueued();
    this.ui.stopPrompting();
    this.print(clientLines.accountDeleted(this.client.name));
    this.end(0);
  }

  private async sendGroup(text: string): Promise<void> {
    const result = await this.client.sendGroup(text);
    if (result === 'received') return this.print(clientLines.receivedByServer());
    if (result === 'too_long') return this.tooLong(text);
    if (result === 'not_in_group') return this.print(clientLines.notInGroup());
    return this.failed(result);
  }

  private async listMembers(): Promise<void> {
    const result = await this.client.listMembers();
    if (result === 'not_in_group') return; // the removal line was printed by the event
    if (isFailure(result)) return this.failed(result);
    this.printBlock([clientLines.members(result.group), ...result.members.map((member) => clientLines.item(member))]);
  }

  private async leaveGroup(): Promise<void> {
    const result = await this.client.leaveGroup();
    if (result === 'not_in_group') return; // removed meanwhile, and told so by the event
    if (isFailure(result)) return this.failed(result);
    this.syncPrompt();
    this.print(clientLines.left(result.left)); // docs/usage.md "How output looks": printed after group mode ends
    this.flushQueued();
  }

  /** Leaving by dereg, Ctrl+C, SIGTERM or end of input (docs/usage.md "Client" Leaving). */
  private async leave(): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    this.ui.stopPrompting();
    const result = await this.client.deregister();
    if (result !== 'ok') return this.notResponding();
    this.flushQueued();
    this.print(clientLines.bye());
    this.end(0);
  }

  private failed(failure: RequestFailure): void {
    if (failure === 'not_responding') return this.notResponding();
    if (failure === 'not_connected') return this.print(clientLines.notConnected()); // docs/usage.md: the client stays
    if (failure === 'rate_limited') return this.print(clientLines.rateLimited());
    this.print(clientLines.refused(failure.error));
  }

  /** docs/usage.md "Client": Server not responding, then queued private messages, then Exiting; exit 1. */
  private notResponding(): void {
    if (this.ended) return;
    this.finishing = true;
    this.ui.stopPrompting();
    this.print(clientLines.serverNotResponding());
    this.flushQueued();
    this.print(clientLines.exiting());
    this.end(1);
  }

  /** docs/usage.md "TLS": the one line saying why, then exit 1; no reconnect. */
  private refused(address: string, refusal: ServerRefusal): void {
    if (this.ended) return;
    this.finishing = true;
    this.ui.stopPrompting();
    const line =
      refusal === 'identity_changed'
        ? clientLines.serverIdentityChanged(address)
        : refusal === 'not_tls'
          ? clientLines.serverNotTls(address)
          : clientLines.serverExpectsTls(address);
    this.print(line);
    this.flushQueued();
    this.end(1);
  }

  private end(code: number): void {
    this.tableLine.cancel();
    this.ended = true;
    this.finish(code);
  }

  /** The prompt shows the mode the client is in now. */
  private syncPrompt(): void {
    this.ui.setPrompt(linePrefix(this.group));
  }

  /** Prints the private messages the client held in group mode, in arrival order. */
  private flushQueued(): void {
    for (const { from, text } of this.client.releaseHeld()) this.print(clientLines.directMessage(from, text));
  }

  /** Prints one line with the prefix of the current mode (docs/usage.md "How output looks"). */
  private print(body: string): void {
    if (!this.ended) this.ui.print(formatLine(body, this.group));
  }

  /** Prints a listing as one write, so its lines stay together and arrive together. */
  private printBlock(bodies: readonly string[]): void {
    if (!this.ended && bodies.length > 0) this.ui.print(bodies.map((body) => formatLine(body, this.group)).join('\n'));
  }
}

function assertNever(value: never): never {
  throw new Error(`Unhandled command: ${JSON.stringify(value)}`);
}
