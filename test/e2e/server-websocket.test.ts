/**
 * `/ws` (docs/protocol.md "Transport and framing"): a WebSocket carries the
 * same frames as a TCP connection, one per message, through the same
 * server core — registration, groups and acks with a TCP client, the same
 * refusals, and the frame limit.
 */
import WebSocket from 'ws';
import { RawClient, closeAllRawClients } from '../helpers/raw-client';
import { signedRegister } from '../helpers/test-identity';
import { startHttpServer } from '../helpers/http-server';
import { Waiters } from '../../testkit/waiters';

const opened = new Set<WebSocket>();
afterEach(async () => {
  for (const ws of opened) ws.terminate();
  opened.clear();
  await closeAllRawClients();
});

type Frame = { type: string; id?: string; code?: string } & Record<string, unknown>;

/** A test WebSocket client: every message must be exactly one JSON frame. */
class WsClient {
  readonly frames: Frame[] = [];
  closeCode: number | null = null;
  private readonly waiters = new Waiters(() => JSON.stringify(this.frames.slice(-3)));

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      this.frames.push(JSON.parse(data.toString('utf8')) as Frame);
      this.waiters.notify();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.waiters.notify();
    });
  }

  static open(port: number): Promise<WsClient> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    opened.add(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new WsClient(ws)));
      ws.once('error', reject);
    });
  }

  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  until<T>(probe: () => T | undefined, what: string): Promise<T> {
    return this.waiters.wait({
      what,
      timeoutMs: 10_000,
      probe: () => {
        const value = probe();
        return value === undefined ? null : { value };
      },
      hopeless: () => (this.closeCode !== null ? `closed ${this.closeCode}` : null),
    });
  }

  answerTo(id: string): Promise<Frame> {
    return this.until(() => this.frames.find((f) => (f.type === 'reply' || f.type === 'error') && f.id === id), id);
  }

  async request(frame: Frame & { id: string }): Promise<Frame> {
    this.send(frame);
    return this.answerTo(frame.id);
  }

  closed(): Promise<number> {
    return this.waiters.wait({
      what: 'close',
      timeoutMs: 10_000,
      probe: () => (this.closeCode === null ? null : { value: this.closeCode }),
    });
  }
}

describe('/ws', () => {
  test('a WebSocket client registers, joins and chats with a TCP client through the same core', async () => {
    const { port, httpPort } = await startHttpServer();
    const web = await WsClient.open(httpPort);
    const hello = await web.until(() => web.frames.find((f) => f.type === 'hello'), 'hello');
    const register = signedRegister(hello['challenge'] as string, { name: 'webby', port: 0 });
    expect(await web.request(register)).toMatchObject({ type: 'reply' });
    const tcp = await RawClient.registered(port, 'tcpy');
    expect(await tcp.request({ type: 'create_group', group: 'mixed' })).toMatchObject({ type: 'reply' });
    expect(await tcp.request({ type: 'join_group', group: 'mixed' })).toMatchObject({ type: 'reply' });
    expect(await web.request({ type: 'join_group', id: 'j1', group: 'mixed' })).toMatchObject({ type: 'reply' });

    expect(await tcp.request({ type: 'send_group', text: 'from tcp' })).toMatchObject({ type: 'reply' });
    const msg = await web.until(() => web.frames.find((f) => f.type === 'group_msg'), 'group message');
    expect(msg).toMatchObject({ group: 'mixed', from: 'tcpy', text: 'from tcp' });
    web.send({ type: 'group_ack', group: 'mixed', seq: msg['seq'] });
    expect(await web.request({ type: 'send_group', id: 's1', text: 'from the web' })).toMatchObject({ type: 'reply' });
    await tcp.until(() => tcp.groupMessages('mixed').find((m) => m.text === 'from the web'), 'web message');

    // A message that is not a frame gets the same refusal as on TCP; pretty-printed JSON is still one frame.
    web.send({ type: 'no_such_type', id: 'x1' });
    expect(await web.answerTo('x1')).toMatchObject({ type: 'error', code: 'bad_frame' });
    web.ws.send('{\n"type": "list_groups",\n"id": "l1"\n}');
    expect(await web.answerTo('l1')).toMatchObject({ type: 'reply', groups: ['mixed'] });
    // Still a member: not dropped as unresponsive while it acked.
    expect(await tcp.request({ type: 'list_members' })).toMatchObject({ members: ['tcpy', 'webby'] });
  });

  test('a message over the frame limit closes the WebSocket (1009); others are unaffected', async () => {
    const { httpPort } = await startHttpServer(['--max-frame-bytes', '1024']);
    const bystander = await WsClient.open(httpPort);
    const big = await WsClient.open(httpPort);
    big.ws.send('x'.repeat(4096));
    expect(await big.closed()).toBe(1009);
    await bystander.until(() => bystander.frames.find((f) => f.type === 'hello'), 'hello');
    expect(await bystander.request({ type: 'list_groups', id: 'l2' })).toMatchObject({ code: 'not_registered' });
  });
});
