import * as args from '../../src/cli/args';

/** The cluster options (docs/usage.md "Cluster"): checked before anything starts, exit 2 on a mistake. */
describe('--redis, --redis-prefix and --servers', () => {
  it.each([
    'redis://127.0.0.1:6379',
    'redis://localhost',
    'rediss://cache.example:6380/2',
    'redis://:pw@10.0.0.1:6379',
  ])('accepts %s', (url) => {
    expect(args.stateOption(undefined, false, url)).toEqual({ kind: 'redis', url, prefix: 'chatapp' });
  });

  it.each([
    'http://127.0.0.1:6379',
    'redis://',
    'redis://h:99999',
    'redis://h:6379/x',
    'redis://h?db=1',
    'nonsense',
    '',
  ])('refuses %j with Invalid --redis', (url) => {
    expect(() => args.stateOption(undefined, false, url)).toThrow(new args.UsageError(`Invalid --redis: ${url}`));
  });

  it('refuses --redis with --data or --ephemeral, and --redis-prefix without --redis or with odd characters', () => {
    expect(() => args.stateOption('/tmp/x', false, 'redis://h')).toThrow(/Invalid --redis/);
    expect(() => args.stateOption(undefined, true, 'redis://h')).toThrow(/Invalid --redis/);
    expect(() => args.stateOption(undefined, false, undefined, 'p')).toThrow('Invalid --redis-prefix: p');
    expect(() => args.stateOption(undefined, false, 'redis://h', 'a b')).toThrow('Invalid --redis-prefix: a b');
    expect(args.stateOption(undefined, false, 'redis://h', 'run-1')).toMatchObject({ prefix: 'run-1' });
  });

  it('parses --servers as host:port pairs, IPv6 in brackets', () => {
    expect(args.serverList('127.0.0.1:5001,node2.example:5002,[::1]:5003')).toEqual([
      { host: '127.0.0.1', port: 5001 },
      { host: 'node2.example', port: 5002 },
      { host: '::1', port: 5003 },
    ]);
  });

  it.each(['127.0.0.1', '127.0.0.1:0', '127.0.0.1:70000', '1.2.3:80', 'a:1,,b:2', ':80', 'h:80,'])(
    'refuses --servers %j',
    (value) => {
      expect(() => args.serverList(value)).toThrow(new args.UsageError(`Invalid --servers: ${value}`));
    },
  );
});
