import { NAME_RULE } from '../protocol/names';

/**
 * Every line chatapp prints for a user, in one place, to the character of
 * docs/usage.md "How output looks"–§6. Templates return the line body; `formatLine` adds the `>>> `
 * or `>>> (<group>) ` prefix. Text that came from the network is passed
 * through `sanitize` so it can never forge a line or drive the terminal.
 */

/** docs/usage.md "How output looks": `>>> ` normally, `>>> (<group>) ` in group mode. */
export function linePrefix(group: string | null = null): string {
  return group === null ? '>>> ' : `>>> (${group}) `;
}

export function formatLine(body: string, group: string | null = null): string {
  return linePrefix(group) + body;
}

// C0 controls (newline, escape …), DEL, C1 controls, and bidi overrides/isolates.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Makes untrusted text safe to print on one terminal line (`\n` → `\\n`, ESC → `\\x1b`, …). */
export function sanitize(text: string): string {
  return text.replace(UNSAFE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

const status = (text: string): string => `[${text}]`;

/** Server lines (docs/usage.md "Server"). */
export const serverLines = {
  online: (port: number) => status(`Server is online, listening on port ${port}`),
  keepingState: (dir: string) => status(`Keeping state in ${dir}`),
  memoryOnly: () => status('Keeping state in memory only'),
  /** docs/usage.md "Cluster": the node lost its Redis, and got it back. */
  redisLost: () => status('Lost connection to Redis, retrying'),
  redisRestored: () => status('Connection to Redis restored'),
  /** docs/usage.md "TLS": what a client will be asked to trust on first use. */
  tlsFingerprint: (hex: string) => status(`TLS certificate fingerprint ${hex}`),
  ircOnline: (port: number) => status(`IRC gateway is online, listening on port ${port}`),
  ircsOnline: (port: number) => status(`IRC gateway over TLS is online, listening on port ${port}`),
  httpOnline: (port: number) => status(`Web page, WebSocket and metrics on HTTP port ${port}`),
  /** docs/operations.md "HTTPS": with `--tls-cert`/`--tls-key` the HTTP side speaks TLS. */
  httpsOnline: (port: number) => status(`Web page, WebSocket and metrics on HTTPS port ${port}`),
  dataDirInUse: (dir: string) => status(`Data directory ${dir} is in use by another server`),
  dataDirUnusable: (dir: string, reason: string) => status(`Cannot use data directory ${dir}: ${reason}`),
  groupDeleted: (name: string, group: string) => status(`Client ${name} deleted group ${group}`),
  tableUpdated: () => status('Client table updated.'),
  groupCreated: (name: string, group: string) => status(`Client ${name} created group ${group} successfully`),
  groupExists: (name: string, group: string) =>
    status(`Client ${name} creating group ${group} failed, group already exists`),
  listGroups: (name: string) => status(`Client ${name} requested listing groups, current groups:`),
  joined: (name: string, group: string) => status(`Client ${name} joined group ${group}`),
  joinFailed: (name: string, group: string) =>
    status(`Client ${name} joining group ${group} failed, group does not exist`),
  groupMessage: (name: string, message: string) => status(`Client ${name} sent group message: ${sanitize(message)}`),
  /** `--no-log-text` (docs/usage.md "Server"): the event without the text. */
  groupMessageNoText: (name: string) => status(`Client ${name} sent group message`),
  notResponsive: (name: string, group: string) => status(`Client ${name} not responsive, removed from group ${group}`),
  listMembers: (name: string, group: string) => status(`Client ${name} requested listing members of group ${group}:`),
  left: (name: string, group: string) => status(`Client ${name} left group ${group}`),
  item: (value: string) => value,
  andMore: (count: number) => status(`and ${count} more`),
} as const;

/** Lines shared by every mode (docs/usage.md "Command-line mistakes"). */
export const commonLines = {
  portInUse: (port: number) => status(`Port ${port} is already in use`),
  nameInUse: (name: string) => status(`Name ${name} is already in use. Try another one.`),
  noAck: (name: string) => status(`No ACK from ${name}, message not delivered`),
  invalidCommand: () => status('Invalid command'),
  /** The hint after `[Invalid command]` for a known command with wrong arguments (docs/usage.md). */
  usage: (usage: string) => status(`Usage: ${usage}`),
  messageTooLong: (length: number, max: number) =>
    status(`Message too long: ${length} characters, maximum is ${max}. Not sent.`),
} as const;

/** Client lines (docs/usage.md "Client"). */
export const clientLines = {
  listening: (port: number) => status(`Listening for private messages on port ${port}`),
  welcome: () => status('Welcome, You are registered.'),
  nameOwned: (name: string) => status(`Name ${name} belongs to another identity.`),
  identityUnusable: (file: string, reason: string) => status(`Cannot use identity file ${file}: ${reason}`),
  tableUpdated: () => status('Client table updated.'),
  serverNotResponding: () => status('Server not responding'),
  // docs/usage.md "TLS": trust on first use, and the two ends disagreeing about TLS
  trustingServer: (address: string, fingerprint: string) =>
    status(`Trusting server ${address} with fingerprint ${fingerprint}`),
  serverIdentityChanged: (address: string) =>
    status(`Server identity for ${address} has changed. Refusing to connect.`),
  serverNotTls: (address: string) =>
    status(`Server ${address} does not speak TLS (is it running with --no-tls?). Refusing to connect.`),
  serverExpectsTls: (address: string) => status(`Server ${address} expects TLS; run the client without --no-tls.`),
  exiting: () => status('Exiting'),
  received: (name: string) => status(`Message received by ${name}.`),
  directMessage: (from: string, text: string) => `${from}: ${sanitize(text)}`,
  offline: (name: string) => status(`${name} is offline, message not delivered`),
  unknownClient: (name: string) => status(`Unknown client ${sanitize(name)}`),
  rejected: (name: string, reason: string) => status(`${name} rejected the message (${reason}), message not delivered`),
  cannotTakeMore: (name: string) => status(`${name} cannot take more messages now, message not delivered`),
  bye: () => status('You are Offline. Bye.'),
  onlySelf: () => status('You can only deregister yourself'),
  groupCreated: (group: string) => status(`Group ${group} created by Server.`),
  groupExists: (group: string) => status(`Group ${group} already exists.`),
  availableGroups: () => status('Available group chats:'),
  noGroups: () => status('No group chats available.'),
  entered: (group: string) => status(`Entered group ${group} successfully`),
  noSuchGroup: (group: string) => status(`Group ${group} does not exist`),
  receivedByServer: () => status('Message received by Server.'),
  groupMessage: (from: string, text: string) => `Group_Message ${from}: ${sanitize(text)}`,
  members: (group: string) => status(`Members in the group ${group}:`),
  left: (group: string) => status(`Leave group chat ${group}`),
  removed: (group: string) => status(`You were removed from group ${group}`),
  invalidGroupName: (group: string) => status(`Invalid group name: ${sanitize(group)}`),
  groupNameRule: () => status(`Group names are ${NAME_RULE}`),
  notInGroupMode: (command: string) => status(`${command} is not available in group mode. Type leave_group first.`),
  onlyInGroup: (command: string) => status(`${command} works only in a group. Type join_group <group> first.`),
  notConnected: () => status('Not connected to the server. Try again after reconnecting.'),
  onlineClients: () => status('Online clients:'),
  memberJoined: (name: string) => status(`${name} joined the group`),
  memberLeft: (name: string) => status(`${name} left the group`),
  connectionLost: () => status('Server connection lost'),
  reconnected: () => status('Reconnected to server'),
  rateLimited: () => status('Server is rate limiting this client, request not performed'),
  refused: (code: string) => status(`Server refused the request (${code})`),
  notInGroup: () => status('You are not in a group, message not delivered'),
  item: (value: string) => value,
  // docs/usage.md "Saved messages", "Group history", "Accounts"
  savedByServer: () => status('Messages received by the server and saved'),
  mailboxFull: (name: string) => status(`Mailbox of ${name} is full, message not delivered`),
  youHaveMessages: () => status('You have messages'),
  savedMessage: (from: string, ts: number, text: string) => `${from}: ${localTime(ts)} ${sanitize(text)}`,
  /** docs/usage.md "Files" `known_clients`: a pinned name now shows another key. */
  identityChanged: (name: string) => status(`Warning: the identity of ${name} has changed`),
  receipt: (name: string) => status(`${name} received your saved messages`),
  historyMessage: (from: string, at: number, text: string) =>
    `History_Message ${localTime(at)} ${from}: ${sanitize(text)}`,
  noHistory: (group: string) => status(`No messages in ${group} yet`),
  accountDeleted: (name: string) => status(`Account ${name} deleted. Bye.`),
  onlyOwnAccount: () => status('You can only delete your own account'),
  groupDeleted: (group: string) => status(`Group ${group} deleted.`),
  groupWasDeleted: (group: string) => status(`Group ${group} was deleted`),
  onlyCreator: (creator: string, group: string) => status(`Only ${creator} can delete group ${group}`),
} as const;

/** `YYYY-MM-DD HH:MM:SS` in local time (docs/usage.md: when a saved or history message was sent). */
export function localTime(ms: number): string {
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** Peer (mesh) lines (docs/usage.md "Peer mode"). */
export const peerLines = {
  started: (address: string) => status(`New chat started, reachable at ${address}`),
  joinedChat: (count: number) => status(`Joined the chat with ${count} other ${count === 1 ? 'peer' : 'peers'}`),
  noPeerAnswered: () => status('No peer answered'),
  youLeft: () => status('You left the chat'),
  peerJoined: (name: string) => status(`${name} has joined the chat`),
  peerLeft: (name: string) => status(`${name} has left the chat`),
  peerDisconnected: (name: string) => status(`${name} disconnected`),
  message: (from: string, text: string) => `${from}: ${sanitize(text)}`,
  item: (value: string) => value,
  /** A joined peer's own address(es), so the user can share them (port 0 shows the real port). */
  reachable: (address: string) => status(`Reachable at ${address}`),
  peersHeader: () => status('Peers in the chat:'),
  peerEntry: (name: string, address: string) => `${name} ${address}`,
  noPeers: () => status('No other peers in the chat'),
  noRecipients: () => status('No other peers in the chat, message not delivered'),
} as const;
