/** The part of irc-framework (npm, no bundled types) the IRC end-to-end tests use. */
declare module 'irc-framework' {
  export interface IrcEvent {
    readonly [key: string]: unknown;
  }
  export class Client {
    constructor(options?: Record<string, unknown>);
    readonly user: { nick: string };
    readonly network: { cap: { enabled: string[] } };
    connect(options?: Record<string, unknown>): void;
    on(event: string, listener: (event: IrcEvent) => void): this;
    join(channel: string): void;
    part(channel: string, message?: string): void;
    say(target: string, message: string): void;
    raw(line: string): void;
    quit(message?: string): void;
  }
}
