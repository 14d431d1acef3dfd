import fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import {
  startClient,
  startClients,
  type RoleOptions,
  type StartedClient,
  type StartedServer,
} from '../../testkit/chat-roles';
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

/**
 * Figures for docs/security.md: with CHATAPP_FIGURES_FILE set, each test
 * that started bystanders appends one JSON line there once it ends (passed
 * or failed): the server's RSS at baseline, its peak and its last sample
 * (every 250 ms), the round trips of alice's group messages and the
 * newcomers' registrations, and the harm lines each bystander printed. Run
 * the hostile tests against the build before the fixes (CHATAPP_MAIN_JS) and
 * against today's to get the before → after columns. Never asserted.
 */
const FIGURES_FILE = process.env['CHATAPP_FIGURES_FILE'];
let recording: Bystanders | null = null;
if (FIGURES_FILE !== undefined) {
  afterEach(() => {
    const world = recording;
    recording = null;
    if (world === null) return;
    fs.appendFileSync(
      FIGURES_FILE,
      `${JSON.stringify({ test: expect.getState().currentTestName, ...world.figures() })}\n`,
    );
  });
}

export class Bystanders {
  private newcomers = 0;
  private readonly trips: number[] = [];
  private readonly registrations: number[] = [];
  private readonly newcomerClients: StartedClient[] = [];
  private readonly failedNewcomers: string[] = [];
  private peakRssMb: number;
  private lastRssMb: number;
  private sampler: NodeJS.Timeout | null = null;
  /** What `memoryBack` found (null: not reached). */
  private settledRssMb: number | null = null;

  private constructor(
    readonly server: StartedServer,
    readonly alice: StartedClient,
    readonly bob: StartedClient,
    /** The server's RSS (MB) with the bystanders in place, before any attack. */
    readonly baselineRssMb: number,
    private readonly clientArgs: readonly string[],
  ) {
    this.peakRssMb = this.lastRssMb = baselineRssMb;
    if (FIGURES_FILE === undefined) return;
    this.sampler = setInterval(() => {
      if (!server.proc.alive) return;
      try {
        const rss = server.proc.rssMb();
        if (!Number.isFinite(rss)) return; // an exiting process has no RSS line any more
        this.lastRssMb = rss;
        this.peakRssMb = Math.max(this.peakRssMb, rss);
      } catch {
        // the process is gone between the check and the read
      }
    }, 250).unref();
  }

  /** What CHATAPP_FIGURES_FILE records (see there). */
  figures(): object {
    if (this.sampler !== null) clearInterval(this.sampler);
    const ms = (xs: number[]) => xs.map((x) => Math.round(x));
    return {
      build: process.env['CHATAPP_MAIN_JS'] ?? 'dist',
      rssMb: { baseline: this.baselineRssMb, peak: this.peakRssMb, last: this.lastRssMb, settled: this.settledRssMb },
      groupMessageMs: ms(this.trips),
      registrationMs: ms(this.registrations),
      newcomersNotRegistered: this.failedNewcomers,
      harm: Object.fromEntries([this.alice, this.bob, ...this.newcomerClients].map((c) => [c.name, this.harm(c)])),
    };
  }

  /** Starts alice and bob (with `clientArgs`) on `server`; alice creates `room` and both join it. */
  static async start(
    server: StartedServer,
    clientArgs: readonly string[] = [],
    options: RoleOptions = {},
  ): Promise<Bystanders> {
    const [alice, bob] = await startClients(['alice', 'bob'], server.port, clientArgs, options);
    await expectAfter(alice!.proc, 'create_group room', ['>>> [Group room created by Server.]']);
    await expectAfter(alice!.proc, 'join_group room', ['>>> [Entered group room successfully]']);
    await expectAfter(bob!.proc, 'join_group room', ['>>> [Entered group room successfully]']);
    const world = new Bystanders(server, alice!, bob!, server.proc.rssMb(), clientArgs);
    if (FIGURES_FILE !== undefined) recording = world;
    return world;
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
    const took = performance.now() - started;
    this.trips.push(took);
    return took;
  }

  /** A new client registers (it exits with `[Server not responding]` if the server does not answer within its bound). */
  async newcomer(options: RoleOptions = {}): Promise<StartedClient> {
    const started = performance.now();
    const name = `newcomer${++this.newcomers}`;
    const client = await startClient(name, this.server.port, this.clientArgs, options).catch((err: unknown) => {
      this.failedNewcomers.push(name);
      throw err;
    });
    this.registrations.push(performance.now() - started);
    this.newcomerClients.push(client);
    return client;
  }

  /** Lines of `client` that show harm (dropped, or not answered in time). */
  harm(client: StartedClient): string[] {
    return client.proc.linesMatching(HARMED);
  }

  /** Nobody was dropped or left unanswered, nothing reached stderr, the server lives. */
  expectUnharmed(others: readonly StartedClient[] = []): void {
    for (const c of [this.alice, this.bob, ...others]) {
      expect({ name: c.name, alive: c.proc.alive, harm: this.harm(c), stderr: c.proc.output('stderr') }).toEqual({
        name: c.name,
        alive: true,
        harm: [],
        stderr: '',
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
    this.settledRssMb = settled;
    expect(settled).toBeLessThan(bound);
    if (FIGURES_FILE !== undefined) {
      // Figures only (never asserted): where memory settles once the idle collector has run for a while.
      for (let i = 0; i < 60; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        if (this.server.proc.alive) this.settledRssMb = Math.min(this.settledRssMb, rss());
      }
    }
    return settled;
  }
}
