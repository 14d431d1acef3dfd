import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { ScenarioOptions, ScenarioResult } from './harness';
import { jsonLine, medianRun, table, targets } from './report';
import { openFileLimit } from './server-process';
import { runIdle, runJoin } from './scenarios/clients';
import { runFanout, runOverload } from './scenarios/group';
import { runPaced } from './scenarios/paced';
import { runPrivate } from './scenarios/private';
import { runPrivateLibrary } from './scenarios/private-library';
import { runIrcFanout } from './scenarios/irc-fanout';
import { runHistory, runSaved, runStartup } from './scenarios/store';

/**
 * `npm run bench [-- options]`: starts the real server (`node dist/src/main.js
 * -s 0`) per scenario and drives it from this one load-generator process.
 * Without --scenario it runs the default suite and prints a table; with
 * --scenario … --json it prints exactly one JSON line. docs/benchmarks.md
 * describes the method and the results.
 */

const SCENARIOS = {
  fanout: runFanout,
  paced: runPaced,
  idle: runIdle,
  overload: runOverload,
  join: runJoin,
  history: runHistory,
  saved: runSaved,
  startup: runStartup,
  private: (options: ScenarioOptions) =>
    options.dmClient === 'lean' ? runPrivate(options) : runPrivateLibrary(options),
  'irc-fanout': runIrcFanout,
} as const;
type ScenarioName = keyof typeof SCENARIOS;

/** The default suite: about two minutes on 2 cores, plus two to three for the IRC run (chatapp, then InspIRCd). */
interface SuiteEntry {
  scenario: ScenarioName;
  clients: number;
  messages: number;
  rate?: number;
  window?: number;
  timeoutSeconds?: number;
  /** Runs whose median is reported (--repeat overrides). */
  repeat?: number;
  /** Over TLS (docs/benchmarks.md "TLS"); otherwise as --tls says. */
  tls?: boolean;
}
const SUITE: readonly SuiteEntry[] = [
  // Window 8: the headline fan-out figure, the median of 3 runs (docs/benchmarks.md).
  { scenario: 'fanout', clients: 100, messages: 500, window: 8, repeat: 3 },
  // The example window: shows what happens when senders outrun the members.
  { scenario: 'fanout', clients: 100, messages: 200, window: 64 },
  { scenario: 'paced', clients: 100, messages: 160, rate: 20 },
  // RSS per idle client: the slope between 400 and 2,000 clients, all in one group, as in the IRC runs
  // (5,000 clients cost ~1.4 GB of table pushes: too slow for the suite on a shared machine).
  { scenario: 'idle', clients: 2_000, messages: 0 },
  { scenario: 'overload', clients: 500, messages: 20, window: 64 },
  { scenario: 'join', clients: 10_000, messages: 0, timeoutSeconds: 20 },
  { scenario: 'private', clients: 200, messages: 100, window: 4 },
  // TLS (docs/benchmarks.md "TLS"): the headline fan-out again over TLS in the same run, judged against the
  // plain one; registrations with a TLS handshake each; direct messages between ChatClients over TLS.
  { scenario: 'fanout', clients: 100, messages: 500, window: 8, repeat: 3, tls: true },
  // 1,000 clients: the handshakes, not the O(N²) table pushes of 10,000, are what this row measures.
  { scenario: 'join', clients: 1_000, messages: 0, timeoutSeconds: 30, tls: true },
  { scenario: 'private', clients: 200, messages: 100, window: 4, tls: true },
  // The IRC run: 100 IRC clients × 1,000 PRIVMSGs on one channel, then the same against InspIRCd.
  { scenario: 'irc-fanout', clients: 100, messages: 1_000, window: 8, timeoutSeconds: 120 },
];

/** Defaults of a scenario run alone (`--scenario`) where they are not the generic ones: the IRC run. */
const ALONE: Partial<Record<ScenarioName, Omit<SuiteEntry, 'scenario'>>> = {
  'irc-fanout': { clients: 100, messages: 1_000, window: 8, timeoutSeconds: 120 },
};

const USAGE = `usage: npm run bench -- [--scenario fanout|paced|idle|overload|join|private|history|saved|startup|irc-fanout] [--clients N]
  [--messages M] [--rate R] [--size BYTES] [--window W] [--json] [--strict] [--dm-client library|lean] [--profile DIR]
  [--server-arg ARG]... [--server-node-arg ARG]... [--timeout SECONDS] [--repeat K] [--verbose]
  [--nodes N --redis URL]  (the server as N cluster nodes over that Redis; clients spread over the nodes) [--tls]
  --tls runs the server with TLS (its default) and the clients over it; without it the server runs --no-tls.
  --repeat K runs each scenario K times and reports the median run (by its headline figure).`;

interface Parsed {
  options: ScenarioOptions;
  scenario: ScenarioName | null;
  json: boolean;
  explicit: Set<string>;
  /** Runs per scenario (null: the suite's own count, else 1); the median run is reported. */
  repeat: number | null;
}

function parse(argv: string[]): Parsed {
  const { values } = parseArgs({
    args: argv,
    options: {
      scenario: { type: 'string' },
      clients: { type: 'string' },
      messages: { type: 'string' },
      rate: { type: 'string' },
      size: { type: 'string' },
      window: { type: 'string' },
      json: { type: 'boolean', default: false },
      strict: { type: 'boolean', default: false },
      profile: { type: 'string' },
      'server-arg': { type: 'string', multiple: true },
      'server-node-arg': { type: 'string', multiple: true },
      'dm-client': { type: 'string' },
      timeout: { type: 'string' },
      repeat: { type: 'string' },
      nodes: { type: 'string' },
      redis: { type: 'string' },
      tls: { type: 'boolean', default: false },
      verbose: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const scenario = values.scenario ?? null;
  if (scenario !== null && !(scenario in SCENARIOS)) throw new Error(`unknown scenario ${scenario}\n${USAGE}`);
  const int = (value: string | undefined, fallback: number, name: string): number => {
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value)) throw new Error(`--${name} wants a non-negative integer, got ${value}`);
    return Number(value);
  };
  const options: ScenarioOptions = {
    clients: int(values.clients, 100, 'clients'),
    messages: int(values.messages, 200, 'messages'),
    rate: values.rate === undefined ? null : int(values.rate, 20, 'rate'),
    size: int(values.size, 16, 'size'),
    window: int(values.window, 64, 'window'),
    strict: values.strict,
    dmClient: values['dm-client'] === 'lean' ? 'lean' : 'library',
    serverArgs: values['server-arg'] ?? [],
    serverNodeArgs: values['server-node-arg'] ?? [],
    profileDir: values.profile === undefined ? null : path.resolve(values.profile),
    logDir: path.resolve(__dirname, '..', '..', 'bench', 'results'),
    timeoutMs: int(values.timeout, 60, 'timeout') * 1000,
    verbose: values.verbose || !values.json,
    nodes: int(values.nodes, 1, 'nodes'),
    redis: values.redis ?? null,
    tls: values.tls,
  };
  if (options.nodes < 1 || (options.nodes > 1 && options.redis === null))
    throw new Error(`--nodes ${options.nodes} needs --redis <url> (and at least 1 node)\n${USAGE}`);
  const explicit = new Set(Object.keys(values).filter((k) => values[k as keyof typeof values] !== undefined));
  const repeat = values.repeat === undefined ? null : Math.max(1, int(values.repeat, 1, 'repeat'));
  return { options, scenario: scenario as ScenarioName | null, json: values.json, explicit, repeat };
}

/**
 * 10,000 clients need 10,000 fds here and as many in the server (which inherits
 * our limit). If the soft limit is too low, re-run under `ulimit -n 65536`.
 */
function ensureFileLimit(needed: number): void {
  if (openFileLimit() >= needed || process.env['CHATAPP_BENCH_ULIMIT'] === '1') return;
  const child = spawnSync(
    'bash',
    ['-c', 'ulimit -n 65536 && exec "$0" "$@"', process.execPath, ...process.execArgv, ...process.argv.slice(1)],
    {
      stdio: 'inherit',
      env: { ...process.env, CHATAPP_BENCH_ULIMIT: '1' },
    },
  );
  process.exit(child.status ?? 1);
}

/** Hard stop for one scenario run: every wait inside is bounded, this catches what is not. */
const WATCHDOG_MS = 5 * 60_000;

/** Runs `run`, exiting the process (which kills the server) if it exceeds WATCHDOG_MS. */
async function guarded<T>(name: string, run: () => Promise<T>): Promise<T> {
  const timer = setTimeout(() => {
    process.stderr.write(`bench: ${name} exceeded ${WATCHDOG_MS / 1000} s, giving up\n`);
    process.exit(1);
  }, WATCHDOG_MS);
  try {
    return await run();
  } finally {
    clearTimeout(timer);
  }
}

async function main(): Promise<void> {
  const { options, scenario, json, explicit, repeat } = parse(process.argv.slice(2));
  const runs: SuiteEntry[] =
    scenario !== null
      ? [
          {
            ...ALONE[scenario],
            scenario,
            clients: explicit.has('clients') ? options.clients : (ALONE[scenario]?.clients ?? options.clients),
            messages: explicit.has('messages') ? options.messages : (ALONE[scenario]?.messages ?? options.messages),
            tls: options.tls,
          },
        ]
      : SUITE.map((s) => ({
          ...s,
          clients: explicit.has('clients') ? options.clients : s.clients,
          messages: explicit.has('messages') ? options.messages : s.messages,
        }));
  ensureFileLimit(Math.max(...runs.map((r) => (r.scenario === 'private' ? 3 : 1) * r.clients)) + 1_000);
  const results: ScenarioResult[] = [];
  for (const spec of runs) {
    const started = Date.now();
    const runOnce = (): Promise<ScenarioResult> =>
      SCENARIOS[spec.scenario]({
        ...options,
        clients: spec.clients,
        messages: spec.messages,
        rate: spec.rate ?? options.rate,
        tls: spec.tls ?? options.tls,
        window: explicit.has('window') ? options.window : (spec.window ?? options.window),
        timeoutMs: explicit.has('timeout')
          ? options.timeoutMs
          : (spec.timeoutSeconds ?? options.timeoutMs / 1000) * 1000,
      });
    const attempts: ScenarioResult[] = [];
    for (let i = 0; i < (repeat ?? spec.repeat ?? 1); i++) attempts.push(await guarded(spec.scenario, runOnce));
    const result = medianRun(attempts);
    results.push(result);
    if (json) process.stdout.write(`${jsonLine(result)}\n`);
    else process.stderr.write(`[bench] ${spec.scenario} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  }
  if (!json) process.stdout.write(`\n${table(results)}\n\n${targets(results).join('\n')}\n`);
}

// A signal would end the process without its 'exit' hooks, leaving servers running: exit normally instead.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(1));

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
