import { sameName } from '../../protocol/names';
import { channelOf } from '../../protocol/irc/casemap';
import { ircMessage } from '../../protocol/irc/message';
import { guestKey, type AccountKey } from './account-key';
import type { CoreLink } from './core-link';
import type { IrcSession } from './irc-session';
import { nickRefused, registerOn } from './registration';

/**
 * NICK after registration (docs/irc.md "Nick changes"). The core binds one
 * name per connection, so the session registers the new name on a second
 * core link, joins it to every channel (with `keep`), then releases the old
 * name — a guest name's account is deleted, a password account's name just
 * goes offline — and closes the old link. The new name must be free: not
 * online and not bound to a key, unless it is the name the user logged in
 * with (its password key is reused); else 433 (or 432 when the core refuses
 * for another reason), and nothing changes. IRC users sharing a channel see
 * one `NICK` line; chatapp clients see the table change and the new name
 * join and the old one leave each group.
 */
export async function changeNick(session: IrcSession, wanted: string): Promise<void> {
  const { state } = session;
  const old = state.registeredName;
  if (old === null || sameName(old, wanted)) return; // names compare without case: nothing to change
  const account = state.account !== null && sameName(state.account.name, wanted) ? state.account : null;
  const key: AccountKey = account?.key ?? guestKey();
  const link = session.newLink();
  const refusal = await registerOn(link, wanted, key);
  if (refusal !== null) {
    link.close();
    return nickRefused(session, wanted, refusal);
  }
  // The session may end while this runs: the new link is then this change's to give up.
  if (session.ended) return release(link, wanted, account === null);
  const shown = wanted;
  announce(session, old, shown);
  for (const group of state.channels) {
    const joined = await link.request({ type: 'join_group', group, keep: true });
    if (!joined.ok && state.exit(group) !== null) {
      session.send(ircMessage(session.mask, 'PART', [channelOf(group), 'The group is gone']));
    }
  }
  if (session.ended) return release(link, wanted, account === null);
  const previous = session.replaceLink(link);
  const wasGuest = state.guest;
  Object.assign(state, { registeredName: shown, nick: shown, key, guest: account === null });
  await release(previous, old, wasGuest);
}

/** The NICK line to the user and to every IRC user sharing a channel, who then ignore the core's presence. */
function announce(session: IrcSession, from: string, to: string): void {
  const groups = session.state.channels;
  session.state.renames.expect(from, to, groups);
  session.send(ircMessage(session.mask, 'NICK', [to]));
  for (const other of session.config.sessions) {
    if (other === session) continue;
    const shared = groups.filter((g) => other.state.channel(g) !== null);
    if (shared.length === 0) continue;
    other.state.renames.expect(from, to, shared);
    other.send(ircMessage(`${from}!${from}@chatapp`, 'NICK', [to]));
  }
}

/**
 * Gives up the old name: a guest's account is deleted (the name is free
 * again), a password account's name goes offline. Either request also waits
 * until the core answered every request sent before it on that link (it
 * answers in order), so nothing pipelined is cut off by the close.
 */
async function release(previous: CoreLink, name: string, guest: boolean): Promise<void> {
  if (guest) await previous.request({ type: 'delete_account', name });
  else await previous.request({ type: 'lookup', name });
  previous.close();
}
