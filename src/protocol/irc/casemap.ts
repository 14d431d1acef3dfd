/**
 * IRC case mapping (docs/irc.md "Names"). chatapp names are ASCII letters,
 * digits and `_ . -`, compared without regard to case; none of the
 * characters where rfc1459 and ascii mappings differ (`[]\~`) is allowed in
 * a name, so the two mappings agree on every valid name and the server
 * announces `CASEMAPPING=ascii`.
 */
export const CASEMAPPING = 'ascii';

/** The ascii IRC case fold: A-Z to a-z, nothing else. */
export function ircFold(name: string): string {
  return name.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** Channel names are `#` + a group name (docs/irc.md "Channels"). */
export const CHANNEL_PREFIX = '#';

/** The group a channel name stands for, or null when it is not a channel of ours. */
export function groupOfChannel(channel: string): string | null {
  return channel.startsWith(CHANNEL_PREFIX) ? channel.slice(CHANNEL_PREFIX.length) : null;
}

/** The channel name of a group. */
export function channelOf(group: string): string {
  return CHANNEL_PREFIX + group;
}
