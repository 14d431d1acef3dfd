import { PortInUseError } from '../net/listen';
import { toError } from '../util/errors';
import { reachableAddresses } from '../peer/addresses';
import { MeshPeer } from '../peer/mesh-peer';
import type { MeshSendResult, StartOutcome } from '../peer/events';
import type { PeerOptions } from './args';
import { ConsoleUi } from './console-ui';
import { commonLines, formatLine, peerLines } from './lines';
import type { Terminal } from './terminal-io';

/** Peer-mode commands, in the order `help` lists them; any other line is a message (docs/usage.md "Peer mode"). */
export const PEER_COMMAND_HELP: readonly string[] = ['peers', 'exit', 'help', '<message>'];

/**
 * Runs peer mode until it ends; resolves with the exit code (docs/usage.md "How output looks"; docs/usage.md "Peer mode").
 * The MeshPeer library does the work; this renderer turns typed lines into
 * calls and events into the exact `>>> ` lines.
 */
export async function runPeerMode(options: PeerOptions, io: Terminal): Promise<number> {
  const ui = new ConsoleUi(io);
  const input = ui.lines(); // subscribe now: lines typed while joining are kept
  const peer = new MeshPeer({ name: options.name, listenPort: options.listenPort, limits: options.limits });
  const session = new PeerSession(peer, ui, io);
  try {
    return await session.run(options, input);
  } finally {
    session.dispose();
    ui.close();
    await peer.leave();
  }
}

/** One interactive peer session: renders events, runs commands, and decides how it ends. */
class PeerSession {
  private finishing = false;
  /** Set once the start lines are printed: leaving from then on says so. */
  private started = false;
  private readonly sends = new Set<Promise<void>>();
  private finish: (code: number) => void = () => undefined;
  private readonly done = new Promise<number>((resolve) => (this.finish = resolve));
  private unsubscribeSignals: () => void = () => undefined;

  constructor(
    private readonly peer: MeshPeer,
    private readonly ui: ConsoleUi,
    private readonly io: Terminal,
  ) {}

  async run(options: PeerOptions, input: AsyncIterableIterator<string>): Promise<number> {
    this.wireEvents();
    // Ctrl+C or SIGTERM while joining leaves too (the join is cut short).
    this.unsubscribeSignals = this.io.onSignal(() => void this.leave(0));
    this.ui.onInterrupt(() => void this.leave(0));
    let outcome: StartOutcome;
    try {
      outcome = await this.peer.start(options.peers);
    } catch (err) {
      if (!(err instanceof PortInUseError)) throw err;
      this.io.stderr.write(formatLine(commonLines.portInUse(options.listenPort)) + '\n'); // docs/usage.md "Command-line mistakes"
      return 1;
    }
    if (outcome.kind === 'name_in_use') {
      this.ui.stopPrompting();
      this.print(commonLines.nameInUse(options.name)); // docs/usage.md "Peer mode"
      return 1;
    }
    if (this.finishing) return this.done;
    this.showStart(outcome, options.peers.length > 0);
    void this.readLoop(input);
    this.ui.prompt();
    return this.done;
  }

  dispose(): void {
    this.unsubscribeSignals();
  }

  /** The start lines; `triedAddresses`: a new chat was started only because none of them answered. */
  private showStart(outcome: Exclude<StartOutcome, { kind: 'name_in_use' }>, triedAddresses: boolean): void {
    this.started = true;
    const addresses = reachableAddresses(outcome.port);
    if (outcome.kind === 'created') {
      if (triedAddresses) this.print(peerLines.noPeerAnswered()); // docs/usage.md: never a silent new chat
      for (const address of addresses) this.print(peerLines.started(address)); // docs/usage.md "Peer mode"
      return;
    }
    this.print(peerLines.joinedChat(outcome.others));
    for (const address of addresses) this.print(peerLines.reachable(address));
  }

  private wireEvents(): void {
    const { peer } = this;
    peer.on('memberJoined', (name) => this.print(peerLines.peerJoined(name)));
    peer.on('memberLeft', (name) => this.print(peerLines.peerLeft(name)));
    peer.on('memberDisconnected', (name) => this.print(peerLines.peerDisconnected(name)));
    peer.on('message', (from, text) => this.print(peerLines.message(from, text)));
    peer.on('nameInUse', () => {
      this.ui.stopPrompting();
      this.print(commonLines.nameInUse(peer.name));
      void this.leave(1);
    });
    peer.on('fault', (error) => this.ui.printError(`chatapp: internal error: ${error.message}`));
  }

  /** Lines in order until `exit` or end of input (docs/usage.md "Peer mode": both leave gracefully). */
  private async readLoop(input: AsyncIterableIterator<string>): Promise<void> {
    try {
      for await (const line of input) {
        if (this.finishing) break;
        this.handle(line);
        if (this.finishing) break;
        this.ui.prompt();
      }
    } catch (err) {
      this.ui.printError(`chatapp: internal error: ${toError(err).message}`);
    }
    await this.leave(0);
  }

  private handle(line: string): void {
    const command = line.trim();
    if (command === '') return; // docs/usage.md "Client": empty lines are ignored
    if (command === 'exit') return void this.leave(0);
    if (command === 'help') return PEER_COMMAND_HELP.forEach((h) => this.print(peerLines.item(h)));
    if (command === 'peers') return this.listPeers();
    this.sendMessage(line);
  }

  private listPeers(): void {
    const members = this.peer.members();
    if (members.length === 0) return this.print(peerLines.noPeers());
    this.print(peerLines.peersHeader());
    for (const m of members) this.print(peerLines.peerEntry(m.name, `${m.host}:${m.port}`));
  }

  /** Sends without blocking input; the outcome is printed when every member acked or timed out. */
  private sendMessage(text: string): void {
    const sending = this.peer.send(text).then((result) => this.showResult(text, result));
    this.sends.add(sending);
    void sending.finally(() => this.sends.delete(sending));
  }

  private showResult(text: string, report: MeshSendResult): void {
    const max = this.peer.maxMessageLength;
    if (report === 'too_long') return this.print(commonLines.messageTooLong(text.length, max)); // never truncated
    if (report.recipients.length === 0) return this.print(peerLines.noRecipients());
    for (const name of report.missing) this.print(commonLines.noAck(name)); // docs/usage.md "Peer mode"
  }

  /**
   * Waits for messages in flight (so their outcome is shown), says bye, ends
   * with `code`. A graceful leave (exit, Ctrl+C, Ctrl+D, SIGTERM) after the
   * start says `[You left the chat]` (docs/usage.md "Peer mode").
   */
  private async leave(code: number): Promise<void> {
    if (this.finishing) return;
    this.finishing = true;
    this.ui.stopPrompting();
    await Promise.allSettled([...this.sends]);
    await this.peer.leave();
    if (code === 0 && this.started) this.print(peerLines.youLeft());
    this.finish(code);
  }

  private print(body: string): void {
    this.ui.print(formatLine(body));
  }
}
