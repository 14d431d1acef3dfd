/**
 * The server's HTTP side (docs/operations.md): `/healthz`, and `/metrics`
 * whose counters and ack histogram move with real traffic.
 */
import { RawClient, closeAllRawClients } from '../helpers/raw-client';
import { eventually } from '../helpers/eventually';
import { httpGet, parseExposition, sampleValue, startHttpServer, type Sample } from '../helpers/http-server';

afterEach(closeAllRawClients);

async function scrape(port: number): Promise<Sample[]> {
  const res = await httpGet(port, '/metrics');
  expect(res.status).toBe(200);
  expect(res.type).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.body);
}

describe('HTTP operations endpoints', () => {
  test('/healthz answers ok; unknown paths 404; only GET and HEAD', async () => {
    const { httpPort } = await startHttpServer();
    expect(await httpGet(httpPort, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
    expect((await httpGet(httpPort, '/nope')).status).toBe(404);
    expect((await httpGet(httpPort, '/metrics', 'POST')).status).toBe(405);
    expect(await httpGet(httpPort, '/healthz', 'HEAD')).toMatchObject({ status: 200, body: '' });
    const page = await httpGet(httpPort, '/');
    expect([page.status, page.type]).toEqual([200, 'text/html; charset=utf-8']);
    expect(page.body).toContain('<script type="module" src="/app.js"></script>');
    expect(await httpGet(httpPort, '/app.js')).toMatchObject({ status: 200, type: 'text/javascript; charset=utf-8' });
  });

  test('metrics move with traffic and the exposition parses', async () => {
    const { port, httpPort } = await startHttpServer();
    const before = await scrape(httpPort);
    expect(sampleValue(before, 'chatapp_connected_clients')).toBe(0);
    expect(sampleValue(before, 'chatapp_group_ack_latency_seconds_count')).toBe(0);
    expect(sampleValue(before, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);

    const alice = await RawClient.registered(port, 'alice');
    const bob = await RawClient.registered(port, 'bob');
    expect(await alice.request({ type: 'create_group', group: 'ops' })).toMatchObject({ type: 'reply' });
    expect(await alice.request({ type: 'join_group', group: 'ops' })).toMatchObject({ type: 'reply' });
    expect(await bob.request({ type: 'join_group', group: 'ops' })).toMatchObject({ type: 'reply' });
    for (const text of ['one', 'two', 'three']) {
      expect(await alice.request({ type: 'send_group', text })).toMatchObject({ type: 'reply' });
    }
    await bob.until(() => bob.groupMessages('ops').length === 3 || undefined, 'three group messages');
    expect(await bob.request({ type: 'join_group', group: 'nowhere' })).toMatchObject({ code: 'no_such_group' });
    await bob.sendRaw('{not json}\n');

    // Bob's acks arrive after his messages: the histogram moves once the server has read one.
    const after = await eventually(async () => {
      const samples = await scrape(httpPort);
      return (sampleValue(samples, 'chatapp_group_ack_latency_seconds_count') ?? 0) >= 1 &&
        (sampleValue(samples, 'chatapp_frames_rejected_total', { reason: 'invalid_json' }) ?? 0) >= 1
        ? samples
        : undefined;
    }, 'an ack and the bad frame counted');
    expect(sampleValue(after, 'chatapp_connected_clients')).toBe(2);
    expect(sampleValue(after, 'chatapp_online_clients')).toBe(2);
    expect(sampleValue(after, 'chatapp_registered_accounts')).toBe(2);
    expect(sampleValue(after, 'chatapp_groups')).toBe(1);
    expect(sampleValue(after, 'chatapp_saved_messages_waiting')).toBe(0);
    expect(sampleValue(after, 'chatapp_frames_received_total', { type: 'send_group' })).toBe(3);
    expect(sampleValue(after, 'chatapp_frames_received_total', { type: 'register' })).toBe(2);
    expect(sampleValue(after, 'chatapp_deliveries_total', { kind: 'group' })).toBe(3);
    expect(sampleValue(after, 'chatapp_frames_rejected_total', { reason: 'no_such_group' })).toBe(1);
    expect(sampleValue(after, 'chatapp_group_ack_latency_seconds_bucket', { le: '+Inf' })).toBeGreaterThanOrEqual(1);
    expect(sampleValue(after, 'chatapp_members_removed_total')).toBeUndefined(); // nobody removed yet
  });
});
