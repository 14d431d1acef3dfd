/**
 * IRC over TLS (docs/irc.md "TLS"): `--ircs-port` serves the same gateway
 * with the server's certificate — the self-signed one a client must accept
 * (as irc-framework does with `rejectUnauthorized: false`, irssi with
 * `-tls_verify` off), or the `--tls-cert` one a CA vouches for.
 */
import tls from 'node:tls';
import { startClient, startServer, type StartedServer } from '../../testkit/chat-roles';
import { startCli } from '../../testkit/cli-process';
import { fingerprintOf } from '../../src/net/tls-cert';
import { createGroup, groupMessage, joinGroup, line, sendGroup } from '../helpers/e2e-chat';
import { closeIrcClients, IRC_ONLINE, IrcTestClient } from '../helpers/irc-framework-client';
import { removeTempDirs } from '../helpers/temp-dir';
import { makeTestCertificates } from '../helpers/test-ca';

const IRCS_ONLINE = /^>>> \[IRC gateway over TLS is online, listening on port (\d+)\]$/;
const FINGERPRINT = /^>>> \[TLS certificate fingerprint ([0-9a-f]{64})\]$/;
/** irc-framework over TLS, accepting whatever certificate the server shows (a self-signed one here). */
const OVER_TLS = { tls: true, rejectUnauthorized: false };

afterEach(() => closeIrcClients());
afterAll(() => removeTempDirs());

async function ircsServer(args: string[] = []): Promise<StartedServer & { ircs: number }> {
  const server = await startServer(['--ircs-port', '0', ...args]);
  const online = await server.proc.waitForLine(IRCS_ONLINE);
  return { ...server, ircs: Number(IRCS_ONLINE.exec(online)![1]) };
}

async function registeredClient(port: number, nick: string, options = {}): Promise<IrcTestClient> {
  const client = new IrcTestClient(port, nick, options);
  await client.waitEvent('registered');
  return client;
}

/** A raw TLS connection to `port` that registers `nick`; resolves with its socket once 001 arrived. */
function tlsRegistration(port: number, nick: string, options: tls.ConnectionOptions): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: '127.0.0.1', port, minVersion: 'TLSv1.2', ...options }, () => {
      socket.write(`NICK ${nick}\r\nUSER ${nick} 0 * :${nick}\r\n`);
    });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.includes(` 001 ${nick} `)) resolve(socket);
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`closed before 001; got: ${text}`)));
  });
}

describe('IRC over TLS (--ircs-port)', () => {
  test('an irc-framework client over TLS chats with a plain IRC client and a CLI client in one group', async () => {
    const server = await ircsServer(['--irc-port', '0']);
    const irc = Number(IRC_ONLINE.exec(await server.proc.waitForLine(IRC_ONLINE, { from: 0 }))![1]);
    const secure = await registeredClient(server.ircs, 'sec', OVER_TLS);
    const plain = await registeredClient(irc, 'pla');
    const carol = await startClient('carol', server.port);
    await createGroup(carol, 'room');
    await joinGroup(carol, 'room');
    for (const client of [secure, plain]) {
      client.client.join('#room');
      await client.waitEvent('userlist', (e) => e.channel === '#room');
    }
    await carol.proc.waitForLine(line('[pla joined the group]', 'room'));

    secure.client.say('#room', 'over tls');
    await carol.proc.waitForLine(groupMessage('room', 'sec', 'over tls'));
    await plain.waitEvent('privmsg', (e) => e.message === 'over tls' && e.nick === 'sec');

    await sendGroup(carol, 'room', 'from the terminal');
    const got = await secure.waitEvent('privmsg', (e) => e.message === 'from the terminal');
    expect([got.nick, got.target]).toEqual(['carol', '#room']);
    plain.client.say('#room', 'from plain irc');
    await secure.waitEvent('privmsg', (e) => e.message === 'from plain irc' && e.nick === 'pla');
  });

  test('the TLS port shows the certificate the server printed (self-signed, kept in its data directory)', async () => {
    const server = await ircsServer();
    const printed = FINGERPRINT.exec(await server.proc.waitForLine(FINGERPRINT, { from: 0 }))![1];
    const socket = await tlsRegistration(server.ircs, 'pin', { rejectUnauthorized: false });
    try {
      expect(fingerprintOf(socket.getPeerCertificate().raw)).toBe(printed);
    } finally {
      socket.destroy();
    }
  });

  test('with --tls-cert/--tls-key the TLS port verifies against the CA that signed them', async () => {
    const certs = await makeTestCertificates();
    const server = await ircsServer([...certs.serverArgs]);
    const socket = await tlsRegistration(server.ircs, 'verified', { ca: certs.caPem, servername: 'localhost' });
    try {
      expect(socket.authorized).toBe(true);
    } finally {
      socket.destroy();
    }
  });

  test('--ircs-port with --no-tls, or a bad port, is a usage error (exit 2) before anything starts', async () => {
    const cases: Array<[string[], string]> = [
      [['--no-tls', '--ircs-port', '0'], 'Invalid --ircs-port: 0 (it cannot be combined with --no-tls)'],
      [['--ircs-port', '70000'], 'Invalid --ircs-port: 70000'],
    ];
    for (const [args, expected] of cases) {
      const bad = startCli(['-s', '0', '--ephemeral', ...args]);
      expect(await bad.waitForExit()).toEqual({ code: 2, signal: null });
      expect(bad.lines('stderr')).toEqual([expected]);
      expect(bad.lines()).toEqual([]);
    }
  });
});
