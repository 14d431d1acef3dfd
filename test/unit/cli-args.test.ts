import { PassThrough } from 'node:stream';
import * as args from '../../src/cli/args';
import { runCli } from '../../src/cli/program';
import { DEFAULT_LIMITS } from '../../src/protocol/limits';

const BAD_PORTS = ['65536', '666a', '-1', '6.5', '', ' 80', '+80', '1e3', '0x10', '99999999999', '80 '];
const GOOD_PORTS: Array<[string, number]> = [
  ['0', 0],
  ['1', 1],
  ['8080', 8080],
  ['65535', 65535],
];
const BAD_HOSTS = [
  '127.0.9999.1',
  '1.2.3',
  '256.1.1.1',
  '1.2.3.4.5',
  '',
  'a..b',
  '-lead.example',
  'trail-.example',
  'under_score.example',
  'sp ace',
  'x'.repeat(64) + '.example',
  'a'.repeat(254),
  '[::1',
  '::g',
  'host:80',
];
const GOOD_HOSTS = [
  '127.0.0.1',
  '0.0.0.0',
  'localhost',
  'localhost.',
  'example.com',
  'my-host.lan',
  'a1.b2.c3',
  '::1',
  '[::1]',
  'fe80::1',
  '2001:db8::42',
  '::ffff:127.0.0.1',
  'x'.repeat(63) + '.example',
];
const BAD_NAMES = ['roomB;', 'a'.repeat(33), '', 'two words', 'émile', 'a/b', 'tab\t', 'semi;colon', '-', '{}'].filter(
  (n) => n !== '-', // '-' is a valid name: 1 char of the allowed set
);
/** docs/usage.md "Names": the line after `Invalid name: <value>`, written out here so a drift fails. */
const NAME_RULE_LINE = 'Names are 1 to 32 characters: letters A-Z a-z, digits 0-9, _ . -';
const GOOD_NAMES = ['a', 'alice', 'Bob_2', 'room.B-1', 'a'.repeat(32), '-', '...', '0'];

describe('argument validators (docs/usage.md "Command-line mistakes")', () => {
  it.each(BAD_PORTS)('rejects server port %j with the exact message', (value) => {
    expect(() => args.serverPort(value)).toThrow(new args.UsageError(`Invalid server port number: ${value}`));
    expect(() => args.clientPort(value)).toThrow(new args.UsageError(`Invalid client port number: ${value}`));
  });

  it.each(GOOD_PORTS)('accepts port %j', (value, port) => {
    expect(args.serverPort(value)).toBe(port);
    expect(args.clientPort(value)).toBe(port);
  });

  it.each(BAD_HOSTS)('rejects server host %j', (value) => {
    expect(() => args.serverHost(value)).toThrow(new args.UsageError(`Invalid server IP address: ${value}`));
  });

  it.each(GOOD_HOSTS)('accepts server host %j', (value) => {
    expect(args.serverHost(value)).toBe(value.replace(/^\[(.*)\]$/, '$1'));
  });

  it.each(BAD_NAMES)('rejects name %j, stating the rule on a second line', (value) => {
    expect(() => args.name(value)).toThrow(new args.UsageError(`Invalid name: ${value}\n${NAME_RULE_LINE}`));
  });

  it.each(GOOD_NAMES)('accepts name %j', (value) => {
    expect(args.name(value)).toBe(value);
  });

  it('parses peer addresses, IPv6 in brackets, and rejects port 0 or bad parts', () => {
    expect(args.peerAddress('127.0.0.1:5000')).toEqual({ host: '127.0.0.1', port: 5000 });
    expect(args.peerAddress('[::1]:5000')).toEqual({ host: '::1', port: 5000 });
    expect(args.peerAddress('example.com:1')).toEqual({ host: 'example.com', port: 1 });
    for (const bad of ['127.0.0.1', '127.0.0.1:0', '127.0.0.1:65536', '1.2.3:80', '::1:5000', ':80', 'h:']) {
      expect(() => args.peerAddress(bad)).toThrow(args.UsageError);
    }
  });

  it('applies limit options over the defaults and rejects non-integers', () => {
    expect(args.limits({})).toEqual({ ...DEFAULT_LIMITS });
    expect(args.limits({ ackTimeout: '250', retries: '1' })).toMatchObject({ ackTimeoutMs: 250, retries: 1 });
    expect(() => args.limits({ retries: '0' })).toThrow('Invalid --retries: 0');
    expect(() => args.limits({ maxFrameBytes: '0' })).toThrow('Invalid --max-frame-bytes: 0');
    for (const bad of ['-1', '1.5', 'abc', '', '1e3', '99999999999999999999']) {
      expect(() => args.limits({ heartbeat: bad })).toThrow(args.UsageError);
    }
  });

  it('names every limit option in kebab-case without the Ms suffix', () => {
    expect(args.optionName('ackTimeoutMs')).toBe('ack-timeout');
    expect(args.optionName('maxFrameBytes')).toBe('max-frame-bytes');
    expect(args.optionName('directMessageMaxSkewMs')).toBe('direct-message-max-skew');
  });
});

/** Runs the CLI with fake streams and mode runners that record what they were given. */
async function run(argv: string[]): Promise<{ code: number; stderr: string; stdout: string; calls: unknown[] }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const calls: unknown[] = [];
  const record = async (options: unknown): Promise<number> => {
    calls.push(options);
    return 0;
  };
  const io = { stdin: new PassThrough(), stdout, stderr, onSignal: () => () => undefined };
  const code = await runCli(argv, io, { server: record, client: record, peer: record }, '9.9.9');
  return { code, stderr: err, stdout: out, calls };
}

describe('runCli validation before any network use (docs/usage.md "Command-line mistakes")', () => {
  it.each(['65536', '666a', '-1', '6.5'])(
    'server mode: -s %s → exit 2, exact stderr line, no server started',
    async (port) => {
      const r = await run(['-s', port]);
      expect([r.code, r.stderr, r.calls]).toEqual([2, `Invalid server port number: ${port}\n`, []]);
    },
  );

  it.each(['65536', 'x', '-1'])('server mode: --irc-port %s → exit 2, no server started', async (port) => {
    const r = await run(['-s', '0', '--irc-port', port]);
    expect([r.code, r.stderr, r.calls]).toEqual([2, `Invalid --irc-port: ${port}\n`, []]);
  });

  it.each(['127.0.0.1', '127.0.0.1:0', 'host:65536', '1.2.3:80', ':80'])(
    'client mode: --advertise %s → exit 2, nothing started',
    async (value) => {
      const r = await run(['-c', 'alice', '127.0.0.1', '5000', '0', '--advertise', value]);
      expect([r.code, r.stderr, r.calls]).toEqual([2, `Invalid --advertise: ${value}\n`, []]);
    },
  );

  it('client mode: --advertise reaches the client options; elsewhere it is refused as a client option', async () => {
    const c = await run(['-c', 'alice', '127.0.0.1', '5000', '0', '--advertise', 'gw.example.org:4000']);
    expect(c.calls).toEqual([expect.objectContaining({ advertise: { host: 'gw.example.org', port: 4000 } })]);
    const s = await run(['-s', '0', '--advertise', '10.0.0.1:4000']);
    expect([s.code, s.stderr, s.calls]).toEqual([2, 'Invalid --advertise: 10.0.0.1:4000 (a client option)\n', []]);
  });

  it('server mode: --irc-port reaches the server options', async () => {
    const r = await run(['-s', '0', '--irc-port', '6667', '--ephemeral']);
    expect(r.calls).toEqual([expect.objectContaining({ port: 0, ircPort: 6667 })]);
  });

  it.each(['65536', '666a', '-1', '6.5'])('client mode: server port %s', async (port) => {
    const r = await run(['-c', 'alice', '127.0.0.1', port, '0']);
    expect([r.code, r.stderr, r.calls]).toEqual([2, `Invalid server port number: ${port}\n`, []]);
  });

  it.each(['65536', '666a', '-1', '6.5'])('client mode: listen port %s', async (port) => {
    const r = await run(['-c', 'alice', '127.0.0.1', '5000', port]);
    expect([r.code, r.stderr, r.calls]).toEqual([2, `Invalid client port number: ${port}\n`, []]);
  });

  it.each(['127.0.9999.1', '1.2.3'])('client mode: server host %s', async (host) => {
    const r = await run(['-c', 'alice', host, '5000', '0']);
    expect([r.code, r.stderr, r.calls]).toEqual([2, `Invalid server IP address: ${host}\n`, []]);
  });

  it.each(['roomB;', 'a'.repeat(33)])('client and peer mode: name %s', async (name) => {
    const c = await run(['-c', name, '127.0.0.1', '5000', '0']);
    expect([c.code, c.stderr, c.calls]).toEqual([2, `Invalid name: ${name}\n${NAME_RULE_LINE}\n`, []]);
    const p = await run(['-p', name, '0']);
    expect([p.code, p.stderr, p.calls]).toEqual([2, `Invalid name: ${name}\n${NAME_RULE_LINE}\n`, []]);
  });

  it('passes valid arguments to the mode runner, IPv6 and hostnames included', async () => {
    for (const host of ['::1', '[::1]', 'localhost']) {
      const r = await run(['-c', 'alice', host, '5000', '0', '--ack-timeout', '200']);
      expect(r.code).toBe(0);
      expect(r.calls).toEqual([
        expect.objectContaining({
          name: 'alice',
          serverHost: host.replace(/[[\]]/g, ''),
          serverPort: 5000,
          listenPort: 0,
        }),
      ]);
      expect((r.calls[0] as { limits: { ackTimeoutMs: number } }).limits.ackTimeoutMs).toBe(200);
    }
    const s = await run(['-s', '0', '--max-clients', '5']);
    expect(s.calls).toEqual([expect.objectContaining({ port: 0 })]);
  });

  it('server: --log-level takes one of the levels, --http-port a port (docs/usage.md "Options")', async () => {
    const ok = await run(['-s', '0', '--log-level', 'debug', '--http-port', '0']);
    expect(ok.calls).toEqual([expect.objectContaining({ logLevel: 'debug', httpPort: 0 })]);
    const level = await run(['-s', '0', '--log-level', 'loud']);
    expect([level.code, level.calls]).toEqual([2, []]);
    expect(level.stderr).toMatch(
      /^Invalid --log-level: loud \(one of trace, debug, info, warn, error, fatal, silent\)\n$/,
    );
    const port = await run(['-s', '0', '--http-port', '70000']);
    expect([port.code, port.stderr, port.calls]).toEqual([2, 'Invalid --http-port: 70000\n', []]);
  });

  it('refuses no mode, two modes, and missing client arguments with exit 2', async () => {
    for (const argv of [[], ['-s', '0', '-p', 'a', '0'], ['-c', 'alice', '127.0.0.1', '5000'], ['-s', '0', 'extra']]) {
      const r = await run(argv);
      expect([r.code, r.calls]).toEqual([2, []]);
      expect(r.stderr).not.toBe('');
    }
  });

  it('refuses an invalid limit option value with exit 2', async () => {
    const r = await run(['-s', '0', '--heartbeat', 'soon']);
    expect([r.code, r.stderr, r.calls]).toEqual([2, 'Invalid --heartbeat: soon\n', []]);
  });

  it('prints the version and help with exit 0', async () => {
    expect(await run(['--version'])).toMatchObject({ code: 0, stdout: '9.9.9\n' });
    const help = await run(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--max-frame-bytes');
  });
});
