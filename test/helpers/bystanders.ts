import { performance } from 'node:perf_hooks';
import { startClient, startClients, type RoleOptions, type StartedClient, type StartedServer } from '../../testkit/chat-roles';
import { expectAfter } from './e2e-chat';
import { eventually } from './eventually';

/**
 * The bystanders of an attack on the server (issue 9): real CLI clients that
 * did nothing wrong. alice and bob are members of group `room`; a newcomer
 * registers while the attack runs. What the hostile tests assert about them
 * needs no timing of ours: a client that gets no answer within its own bound
 * (`--ack-timeout` × `--retries`, docs/usage.md "When the server is away")
 * prints `[Server not responding]` and exits, and one whose connection the
 * server dropped prints `[Server connection lost]`; either ends a wait here
 * at once or fails `expectUnharmed`.
 */

/** Generous bound on the server's memory once an attacker is gone (docs/security.md figures are far below it). */
export const RSS_RETURN_MB = 64;
/**
 * Safety net for the memory to come back: the server gives memory back once
 * it has been quiet for a moment (src/server/idle-collector.ts, every 2 s).
 * Memory announces itself by no event, so it is polled.
 */
const RSS_RETURN_WAIT_MS = 20_000;

/** Lines a bystander must never print: it was dropped, or the server stopped answering it. */
const HARMED = /Server connection lost|Server not responding|Exiting/;

export class Bystanders {
  private newcomers = 0;

  private constructor(
    readonly server: StartedServer,
    readonly alice: StartedClient,
    readonly bob: StartedClient,
    /** The server's RSS (MB) with the bystanders in place, before any attack. */
    readonly baselineRssMb: number,
    private readonly clientArgs: readonly string[],
  ) {}

  /** Starts alice and bob (with `clientArgs`) on `server`; alice creates `room` and both join it. */
  static async start(server: StartedServer, clientArgs: readonly string[] = [], options: RoleOptions = {}): Promise<Bystanders> {
    const [alice, bob] = await startClients(['alice', 'bob'], server.port, clientArgs, options);
    await expectAfter(alice!.proc, 'create_group room', ['>>> [Group room created by Server.]']);
    await expectAfter(alice!.proc, 'join_group room', ['>>> [Entered group room successfully]']);
    await expectAfter(bob!.proc, 'join_group room', ['>>> [Entered group room successfully]']);
    return new Bystanders(server, alice!, bob!, server.proc.rssMb(), clientArgs);
  }

  /**
   * alice sends `text` to the group: the server confirms it to her and bob
   * shows it. Resolves with the ms it took (for figures, never asserted).
   */
  async groupMessage(text: string): Promise<number> {
    const started = performance.now();
    const [fromA, fromB] = [this.alice.proc.mark(), this.bob.proc.mark()];
    this.alice.proc.send(`send_group ${text}`);
    await this.alice.proc.waitForLine('>>> (room) [Message received by Server.]', { from: fromA });
    await this.bob.proc.waitForLine(`>>> (room) Group_Message alice: ${text}`, { from: fromB });
    return performance.now() - started;
  }

  /** A new client registers (it exits with `[Server not responding]` if the server does not answer within its bound). */
  async newcomer(options: RoleOptions = {}): Promise<StartedClient> {
    return startClient(`newcomer${++this.newcomers}`, this.server.port, this.clientArgs, options);
  }

  /** Lines of `client` that show harm (dropped, or not answered in time). */
  harm(client: StartedClient): string[] {
    return client.proc.linesMatching(HARMED);
  }

  /** Nobody was dropped or left unanswered, nothing reached stderr, the server lives. */
  expectUnharmed(others: readonly StartedClient[] = []): void {
    for (const c of [this.alice, this.bob, ...others]) {
      expect({ name: c.name, alive: c.proc.alive, harm: this.harm(c), stderr: c.proc.output('stderr') }).toEqual({
        name: c.name, alive: true, harm: [], stderr: '',
      });
    }
    expect(this.server.proc.alive).toBe(true);
    expect(this.server.proc.output('stderr')).toBe('');
  }

  /** Waits until the server's memory is back near its baseline (`RSS_RETURN_MB` above it at most); resolves with its RSS (MB). */
  async memoryBack(): Promise<number> {
    const bound = this.baselineRssMb + RSS_RETURN_MB;
    const rss = (): number => this.server.proc.rssMb();
    const settled = await eventually(() => (rss() < bound ? rss() : null), `server RSS under ${bound.toFixed(0)} MB`, {
      timeoutMs: RSS_RETURN_WAIT_MS,
      everyMs: 250,
    }).catch(rss);
    expect(settled).toBeLessThan(bound);
    return settled;
  }
}
