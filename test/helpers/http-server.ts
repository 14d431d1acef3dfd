import http from 'node:http';
import https from 'node:https';
import { startServer, type RoleOptions, type StartedServer } from '../../testkit/chat-roles';

const HTTP_ONLINE = /^>>> \[Web page, WebSocket and metrics on (HTTPS?) port (\d+)\]$/;

/** A server started with `--http-port 0`, and the HTTP port it printed. */
export interface StartedHttpServer extends StartedServer {
  readonly httpPort: number;
  /** The server said HTTPS (it has `--tls-cert`/`--tls-key`, docs/operations.md "HTTPS"). */
  readonly https: boolean;
}

/** Starts `chatapp -s 0 --http-port 0 ...args` and waits for both startup lines (docs/usage.md "Server"). */
export async function startHttpServer(
  args: readonly string[] = [],
  options: RoleOptions & { port?: number } = {},
): Promise<StartedHttpServer> {
  const started = await startServer(['--http-port', '0', ...args], options);
  const [, scheme, port] = HTTP_ONLINE.exec(await started.proc.waitForLine(HTTP_ONLINE))!;
  return { ...started, httpPort: Number(port), https: scheme === 'HTTPS' };
}

/**
 * One GET on 127.0.0.1 (or another method): status, content type and body.
 * With `ca` it is HTTPS, the server verified against that CA as `localhost`.
 */
export function httpGet(
  port: number,
  path: string,
  method = 'GET',
  ca?: string,
): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path, method, agent: false };
    const request = (done: (res: http.IncomingMessage) => void): http.ClientRequest =>
      ca === undefined ? http.request(options, done) : https.request({ ...options, ca, servername: 'localhost' }, done);
    const req = request((res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          type: String(res.headers['content-type'] ?? ''),
          body: Buffer.concat(chunks).toString('utf8'),
        }),
      );
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: \d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
const COMMENT = /^# (HELP|TYPE) [a-zA-Z_:][a-zA-Z0-9_:]* .+$/;

/**
 * Parses the Prometheus text format (version 0.0.4) strictly: every line is
 * a HELP/TYPE comment or a sample with a numeric value; anything else throws.
 */
export function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || COMMENT.test(line)) continue;
    const match = SAMPLE.exec(line);
    const value = match ? numberOf(match[3]!) : undefined;
    if (!match || value === undefined) throw new Error(`not an exposition line: ${line}`);
    const labels: Record<string, string> = {};
    for (const [, key, val] of (match[2] ?? '').matchAll(LABEL)) labels[key!] = val!;
    samples.push({ name: match[1]!, labels, value });
  }
  return samples;
}

/** A sample value as Prometheus reads it (Go's ParseFloat: NaN and Inf in any case), or undefined. */
function numberOf(text: string): number | undefined {
  if (/^nan$/i.test(text)) return NaN;
  if (/^[+-]?inf$/i.test(text)) return text.startsWith('-') ? -Infinity : Infinity;
  const value = Number(text);
  return text.trim() === '' || Number.isNaN(value) ? undefined : value;
}

/** The value of the sample `name` whose labels include `labels` (undefined when absent). */
export function sampleValue(
  samples: readonly Sample[],
  name: string,
  labels: Readonly<Record<string, string>> = {},
): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}
