/**
 * HTTPS on `--http-port` (docs/operations.md "HTTPS"): with `--tls-cert`/
 * `--tls-key` the page, `/ws`, `/metrics` and `/healthz` are served over TLS
 * with that certificate, verified here against the test's own CA; with the
 * self-signed certificate the HTTP side stays plain HTTP.
 */
import WebSocket from 'ws';
import { RawClient, closeAllRawClients } from '../helpers/raw-client';
import { eventually } from '../helpers/eventually';
import { httpGet, parseExposition, sampleValue, startHttpServer } from '../helpers/http-server';
import { removeTempDirs } from '../helpers/temp-dir';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-ca';

let certs: TestCertificates;

beforeAll(async () => {
  certs = await makeTestCertificates();
});
afterEach(closeAllRawClients);
afterAll(() => removeTempDirs());

/** The first WebSocket message from `wss://127.0.0.1:<port>/ws`, the server verified against `ca`. */
function firstWssMessage(port: number, ca: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/ws`, { ca }); // the certificate names 127.0.0.1 too
    ws.once('message', (data: Buffer) => {
      resolve(JSON.parse(data.toString('utf8')));
      ws.close();
    });
    ws.once('error', reject);
    ws.once('close', () => reject(new Error('closed before a message')));
  });
}

describe('HTTPS with --tls-cert/--tls-key', () => {
  test('/healthz, /metrics and the page are served over TLS with that certificate', async () => {
    const { port, httpPort, https } = await startHttpServer([...certs.serverArgs]);
    expect(https).toBe(true);
    expect(await httpGet(httpPort, '/healthz', 'GET', certs.caPem)).toMatchObject({ status: 200, body: 'ok\n' });
    const page = await httpGet(httpPort, '/', 'GET', certs.caPem);
    expect([page.status, page.type]).toEqual([200, 'text/html; charset=utf-8']);

    await RawClient.registered(port, 'alice');
    const samples = await eventually(async () => {
      const res = await httpGet(httpPort, '/metrics', 'GET', certs.caPem);
      expect(res.status).toBe(200);
      const parsed = parseExposition(res.body);
      return sampleValue(parsed, 'chatapp_online_clients') === 1 ? parsed : undefined;
    }, 'alice counted online');
    expect(sampleValue(samples, 'chatapp_connected_clients')).toBe(1);
  });

  test('/ws is wss: the same frames, starting with the hello challenge', async () => {
    const { httpPort } = await startHttpServer([...certs.serverArgs]);
    expect(await firstWssMessage(httpPort, certs.caPem)).toMatchObject({ type: 'hello' });
  });

  test('plain HTTP at the HTTPS port gets no answer, and the port goes on serving HTTPS', async () => {
    const { httpPort } = await startHttpServer([...certs.serverArgs]);
    await expect(httpGet(httpPort, '/healthz')).rejects.toThrow();
    expect(await httpGet(httpPort, '/healthz', 'GET', certs.caPem)).toMatchObject({ status: 200 });
  });
});

describe('without --tls-cert', () => {
  test('the HTTP side stays plain HTTP (a self-signed certificate would only show a browser warning)', async () => {
    const { httpPort, https } = await startHttpServer();
    expect(https).toBe(false);
    expect(await httpGet(httpPort, '/healthz')).toMatchObject({ status: 200, body: 'ok\n' });
  });
});
