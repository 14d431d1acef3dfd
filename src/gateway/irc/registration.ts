import { isValidName } from '../../protocol/names';
import { ERR, RPL } from '../../protocol/irc/numerics';
import { PROTOCOL_VERSION } from '../../protocol/limits';
import type { IrcMessage } from '../../protocol/irc/message';
import type { IrcCommand } from './commands';
import type { IrcSession } from './irc-session';
import { CAPABILITIES, type Capability } from './irc-state';
import { guestKey, passwordKey, type AccountKey } from './account-key';
import { sendWelcome } from './welcome';
import type { CoreLink } from './core-link';
import { changeNick } from './nick-change';

/** Most base64 bytes an AUTHENTICATE payload may take in all (a PLAIN payload is far shorter). */
const MAX_SASL_BYTES = 1024;

/** What a failed core registration means on IRC. */
export type Refusal = 'in_use' | 'owned' | 'other';

/** Registers `name` under `key` on `link` (a connection to the core); null on success. */
export async function registerOn(link: CoreLink, name: string, key: AccountKey): Promise<Refusal | null> {
  const challenge = await link.challenge();
  if (challenge === null) return 'other';
  const outcome = await link.request({
    type: 'register',
    v: PROTOCOL_VERSION,
    name,
    port: 0,
    key: key.publicKey,
    sig: key.sign(challenge, name),
  });
  if (outcome.ok) return null;
  if (outcome.code === 'name_in_use') return 'in_use';
  return outcome.code === 'name_owned' ? 'owned' : 'other';
}

/** Registers the session's name with the core under `key`; null on success. */
async function registerCore(session: IrcSession, name: string, key: AccountKey): Promise<Refusal | null> {
  const refusal = await registerOn(session.link, name, key);
  if (refusal === null) {
    session.state.registeredName = name;
    session.state.key = key;
  }
  return refusal;
}

/** Completes registration once NICK and USER are in and capability negotiation ended. */
async function tryComplete(session: IrcSession): Promise<void> {
  const { state } = session;
  if (state.welcomed || state.nick === null || state.user === null || state.negotiating || state.sasl !== 'idle')
    return;
  if (state.registeredName === null) {
    const password = state.password;
    const key = password === null ? guestKey() : await passwordKey(state.nick, password);
    const refusal = await registerCore(session, state.nick, key);
    if (refusal === 'owned' && password !== null) return void (await session.quit('Password incorrect'));
    if (refusal !== null) return nickRefused(session, state.nick, refusal);
    state.guest = password === null;
    if (password !== null) state.account = { name: state.nick, key };
  }
  state.nick = state.registeredName;
  state.welcomed = true;
  sendWelcome(session);
}

/** 433 or 432 for a nick the core refused; before registration the nick is forgotten. */
export function nickRefused(session: IrcSession, nick: string, refusal: Refusal): void {
  const why: Record<Refusal, string> = {
    in_use: 'Nickname is already in use',
    // A name online under another key is `owned` too: the core checks the key first.
    owned: 'Nickname is in use or registered to another identity (log in with SASL or PASS)',
    other: 'Nickname cannot be registered now',
  };
  if (!session.state.welcomed) session.state.nick = null;
  session.numeric(refusal === 'other' ? ERR.ERRONEUSNICKNAME : ERR.NICKNAMEINUSE, nick, why[refusal]);
}

async function nick(session: IrcSession, message: IrcMessage): Promise<void> {
  const wanted = message.params[0] ?? '';
  if (wanted === '') return session.numeric(ERR.NONICKNAMEGIVEN, 'No nickname given');
  if (!isValidName(wanted)) return session.numeric(ERR.ERRONEUSNICKNAME, wanted, 'Erroneous nickname');
  if (session.state.welcomed) return changeNick(session, wanted);
  session.state.nick = wanted;
  await tryComplete(session);
}

async function user(session: IrcSession, message: IrcMessage): Promise<void> {
  if (session.state.welcomed) return session.numeric(ERR.ALREADYREGISTERED, 'You may not reregister');
  session.state.user = (message.params[0] ?? '').slice(0, 32).replace(/[^A-Za-z0-9_.-]/g, '_') || 'user';
  session.state.realname = message.params[3] ?? '';
  await tryComplete(session);
}

function pass(session: IrcSession, message: IrcMessage): void {
  if (session.state.welcomed) return session.numeric(ERR.ALREADYREGISTERED, 'You may not reregister');
  session.state.password = message.params[0] ?? null;
}

async function cap(session: IrcSession, message: IrcMessage): Promise<void> {
  const sub = (message.params[0] ?? '').toUpperCase();
  const { state } = session;
  if (sub === 'LS') {
    if (!state.welcomed) state.negotiating = true;
    const list = CAPABILITIES.map((c) => (c === 'sasl' ? 'sasl=PLAIN' : c)).join(' ');
    return session.fromServer('CAP', session.nick, 'LS', list);
  }
  if (sub === 'LIST') return session.fromServer('CAP', session.nick, 'LIST', [...state.caps].join(' '));
  if (sub === 'REQ') {
    if (!state.welcomed) state.negotiating = true;
    const wanted = (message.params[1] ?? '').split(' ').filter((c) => c !== '');
    const known = (c: string): boolean => (CAPABILITIES as readonly string[]).includes(c.replace(/^-/, ''));
    if (!wanted.every(known)) return session.fromServer('CAP', session.nick, 'NAK', message.params[1] ?? '');
    for (const c of wanted) {
      if (c.startsWith('-')) state.caps.delete(c.slice(1) as Capability);
      else state.caps.add(c as Capability);
    }
    return session.fromServer('CAP', session.nick, 'ACK', message.params[1] ?? '');
  }
  if (sub === 'END') {
    state.negotiating = false;
    return tryComplete(session);
  }
  session.numeric('410', sub, 'Invalid CAP command');
}

async function authenticate(session: IrcSession, message: IrcMessage): Promise<void> {
  const { state } = session;
  const arg = message.params[0] ?? '';
  if (state.welcomed || state.registeredName !== null)
    return session.numeric(ERR.SASLALREADY, 'You have already authenticated');
  if (!state.caps.has('sasl')) return session.numeric(ERR.SASLFAIL, 'SASL authentication failed');
  if (arg === '*') {
    state.sasl = 'idle';
    state.saslBuffer = '';
    return session.numeric(ERR.SASLABORTED, 'SASL authentication aborted');
  }
  if (state.sasl === 'idle') {
    if (arg.toUpperCase() !== 'PLAIN') return session.numeric('908', 'PLAIN', 'are available SASL mechanisms');
    state.sasl = 'waiting';
    return session.fromServer('AUTHENTICATE', '+');
  }
  if (arg !== '+') state.saslBuffer += arg;
  if (state.saslBuffer.length > MAX_SASL_BYTES) return saslFailed(session, ERR.SASLTOOLONG, 'SASL message too long');
  if (arg.length === 400) return; // more chunks follow
  await saslPlain(session, Buffer.from(state.saslBuffer, 'base64').toString('utf8'));
}

/** PLAIN: `authzid NUL authcid NUL password`; the account is the name, bound to the password's key. */
async function saslPlain(session: IrcSession, payload: string): Promise<void> {
  const [authzid, authcid, password] = payload.split('\0');
  const account = authcid ?? '';
  if (password === undefined || password === '' || !isValidName(account) || (authzid !== '' && authzid !== account)) {
    return saslFailed(session, ERR.SASLFAIL, 'SASL authentication failed');
  }
  const key = await passwordKey(account, password);
  const refusal = await registerCore(session, account, key);
  if (refusal !== null) return saslFailed(session, ERR.SASLFAIL, 'SASL authentication failed');
  const { state } = session;
  state.account = { name: account, key };
  state.sasl = 'idle';
  state.saslBuffer = '';
  state.nick = state.nick ?? account;
  session.numeric(
    RPL.LOGGEDIN,
    `${account}!${state.user ?? account}@${session.host}`,
    account,
    `You are now logged in as ${account}`,
  );
  session.numeric(RPL.SASLSUCCESS, 'SASL authentication successful');
  await tryComplete(session);
}

function saslFailed(session: IrcSession, code: string, text: string): void {
  session.state.sasl = 'idle';
  session.state.saslBuffer = '';
  session.numeric(code, text);
}

export const REGISTRATION_COMMANDS: Record<string, IrcCommand> = {
  NICK: { minParams: 0, registered: false, run: nick },
  USER: { minParams: 4, registered: false, run: user },
  PASS: { minParams: 1, registered: false, run: pass },
  CAP: { minParams: 1, registered: false, run: cap },
  AUTHENTICATE: { minParams: 1, registered: false, run: authenticate },
};
