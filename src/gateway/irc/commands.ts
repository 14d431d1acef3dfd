import type { IrcMessage } from '../../protocol/irc/message';
import type { IrcSession } from './irc-session';
import { REGISTRATION_COMMANDS } from './registration';
import { CHANNEL_COMMANDS } from './channel-commands';
import { JOIN_COMMANDS } from './channel-join';
import { SESSION_COMMANDS } from './session-commands';
import { HISTORY_COMMANDS } from './chathistory';

/** One IRC command: how many parameters it needs, whether registration must be complete, what it does. */
export interface IrcCommand {
  readonly minParams: number;
  readonly registered: boolean;
  run(session: IrcSession, message: IrcMessage): void | Promise<void>;
}

/** Every command the gateway understands, by upper-case name (docs/irc.md "Commands"). */
export const COMMANDS: ReadonlyMap<string, IrcCommand> = new Map(
  Object.entries({
    ...REGISTRATION_COMMANDS,
    ...JOIN_COMMANDS,
    ...CHANNEL_COMMANDS,
    ...SESSION_COMMANDS,
    ...HISTORY_COMMANDS,
  }),
);
