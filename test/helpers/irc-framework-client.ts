import { Client } from 'irc-framework';
import { Waiters } from '../../testkit/waiters';
import type { IrcMatcher } from './raw-irc';

/** Options beside host/port/nick handed to irc-framework's `connect`. */
export type IrcClientOptions = Record<string, unknown>;

const open = new Set<IrcTestClient>();

/**
 * An irc-framework client (what bots and web clients use) driven by a test:
 * it records every line the server sent and every parsed event, and waits on
 * them without sleeping. Every client is closed by `closeIrcClients()`.
 */
export class IrcTestClient {
  readonly client: Client;
  readonly lines: string[] = [];
  readonly events: { readonly name: string; readonly event: Record<string, unknown> }[] = [];
  private ended = false;
  private readonly waiters = new Waiters(() => `last lines:\n${this.lines.slice(-15).join('\n')}`);

  constructor(port: number, nick: string, options: IrcClientOptions = {}) {
    this.client = new Client();
    this.client.on('raw', (e) => {
      if (e.from_server === true) this.lines.push(String(e.line).replace(/\r?\n$/, ''));
      this.waiters.notify();
    });
    for (const name of [
      'registered',
      'join',
      'part',
      'privmsg',
      'notice',
      'userlist',
      'wholist',
      'topic',
      'channel list',
      'nick in use',
      'sasl failed',
      'loggedin',
      'batch end chathistory',
    ]) {
      this.client.on(name, (event) => {
        this.events.push({ name, event });
        this.waiters.notify();
      });
    }
    this.client.on('close', () => {
      this.ended = true;
      this.waiters.notify();
    });
    this.client.connect({
      host: '127.0.0.1',
      port,
      nick,
      username: nick,
      gecos: nick,
      auto_reconnect: false,
      ...options,
    });
    open.add(this);
  }

  /** Index of the next line (for `from`). */
  mark(): number {
    return this.lines.length;
  }

  /** The first raw server line from `from` on that matches. */
  waitLine(matcher: IrcMatcher, from = 0, timeoutMs?: number): Promise<string> {
    return this.waiters.wait({
      what: `an IRC line ${String(matcher)}`,
      timeoutMs,
      probe: () => {
        const line = this.lines
          .slice(from)
          .find((l) => (typeof matcher === 'string' ? l === matcher : matcher.test(l)));
        return line === undefined ? null : { value: line };
      },
      hopeless: () => (this.ended ? 'the connection closed' : null),
    });
  }

  /** The first parsed event `name` (from event index `from`) that satisfies `ok`. */
  waitEvent(
    name: string,
    ok: (e: Record<string, unknown>) => boolean = () => true,
    from = 0,
  ): Promise<Record<string, unknown>> {
    return this.waiters.wait({
      what: `an irc-framework '${name}' event`,
      probe: () => {
        const found = this.events.slice(from).find((e) => e.name === name && ok(e.event));
        return found === undefined ? null : { value: found.event };
      },
      hopeless: () => (this.ended ? 'the connection closed' : null),
    });
  }

  /** Resolves once the connection closed. */
  waitClosed(): Promise<void> {
    return this.waiters.wait({
      what: 'the connection to close',
      probe: () => (this.ended ? { value: undefined } : null),
    });
  }

  /** QUIT (or a plain close) and wait for the close. */
  async close(): Promise<void> {
    open.delete(this);
    if (this.ended) return;
    this.client.quit('bye');
    await this.waitClosed().catch(() => undefined);
  }
}

/** Closes every client still open (afterEach). */
export async function closeIrcClients(): Promise<void> {
  await Promise.all([...open].map((c) => c.close()));
}

/** `>>> [IRC gateway is online, listening on port <port>]`. */
export const IRC_ONLINE = /^>>> \[IRC gateway is online, listening on port (\d+)\]$/;
