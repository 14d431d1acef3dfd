import type { ScenarioResult } from './harness';
import { ackVerdict, groupOutcome, silentLossVerdict } from './verdict';

/**
 * Output of the bench: one JSON line per scenario (`--json`), or a table of all
 * scenarios with the targets checked underneath.
 */

/** The JSON line: the documented fields first, scenario extras after them. */
export function jsonLine(result: ScenarioResult): string {
  const { extra, ...fields } = result;
  return JSON.stringify({ ...fields, ...extra });
}

/** The figure a scenario is judged by, which picks the median of repeated runs. */
export function headline(result: ScenarioResult): number | null {
  switch (result.scenario) {
    case 'paced':
      return result.latencyMs.p99;
    case 'idle':
      return result.serverRssPerIdleClientKB;
    case 'join':
      return typeof result.extra['registered'] === 'number' ? result.extra['registered'] : null;
    default:
      return result.deliveriesPerSec;
  }
}

/**
 * Of several runs of one scenario, the median one by its headline figure (the
 * lower middle one for an even count; runs without the figure sort first), with
 * every run's figure attached, so a quiet moment's best run is never what is reported.
 */
export function medianRun(runs: readonly ScenarioResult[]): ScenarioResult {
  if (runs.length === 0) throw new Error('medianRun needs at least one run');
  if (runs.length === 1) return runs[0]!;
  const key = (r: ScenarioResult): number => headline(r) ?? -Infinity;
  const sorted = [...runs].sort((a, b) => key(a) - key(b));
  const chosen = sorted[Math.floor((sorted.length - 1) / 2)]!;
  return { ...chosen, extra: { ...chosen.extra, medianOf: runs.length, runHeadlines: runs.map(headline) } };
}

const COLUMNS = [
  'scenario',
  'clients',
  'msgs',
  'rate',
  'win',
  'delivered',
  'expected',
  'lost',
  'dup',
  'ooo',
  'wall s',
  'deliveries/s',
  'p50 ms',
  'p99 ms',
  'max ms',
  'peak RSS',
  'KiB/idle',
  'acked',
  'notes',
] as const;

export function table(results: readonly ScenarioResult[]): string {
  const rows = results.map((r) => [
    r.tls ? `${r.scenario}/tls` : r.scenario,
    num(r.clients),
    num(r.messagesPerClient),
    num(r.rate),
    typeof r.extra['window'] === 'number' ? num(r.extra['window']) : '-',
    num(r.delivered),
    num(r.expectedDeliveries),
    num(r.lost),
    num(r.duplicates),
    num(r.outOfOrder),
    num(r.wallSeconds),
    num(r.deliveriesPerSec),
    num(r.latencyMs.p50),
    num(r.latencyMs.p99),
    num(r.latencyMs.max),
    r.serverPeakRssKB === null ? '-' : `${(r.serverPeakRssKB / 1024).toFixed(1)} MiB`,
    num(r.serverRssPerIdleClientKB),
    acked(r),
    notes(r),
  ]);
  const widths = COLUMNS.map((c, i) => Math.max(c.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((cell, i) => (i === 0 || i === cells.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(COLUMNS), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

function num(value: number | null): string {
  if (value === null) return '-';
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return value < 10 ? value.toFixed(2) : value.toFixed(1);
}

/** 'all' when the "every delivery acked" verdict holds, 'NO' when not, '-' for scenarios without group deliveries. */
function acked(r: ScenarioResult): string {
  if (!isGroupScenario(r)) return '-';
  return ackVerdict(groupOutcome(r)).ok ? 'all' : 'NO';
}

function isGroupScenario(r: ScenarioResult): boolean {
  return r.scenario === 'fanout' || r.scenario === 'overload' || r.scenario === 'paced';
}

function notes(r: ScenarioResult): string {
  const e = r.extra;
  const parts: string[] = [];
  const add = (key: string, label: string): void => {
    const value = e[key];
    if (value !== undefined && value !== 0 && value !== false)
      parts.push(`${label}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  };
  add('medianOf', 'median of');
  add('lostToRemoved', 'lost to removed');
  add('membersRemoved', 'removed');
  add('connectionsClosed', 'closed');
  add('serverUnacked', 'UNACKED at server');
  add('fromMismatches', 'WRONG FROM');
  add('rejected', 'rejected');
  add('achievedRate', 'achieved msg/s');
  add('rssLowKB', 'RSS low KiB');
  add('rssHighKB', 'RSS high KiB');
  add('groupOrderViolations', 'orderViolations');
  add('registeredSeconds', 'registered s');
  add('tableBytesPerClient', 'table B/client');
  add('registered', 'registered');
  add('tablesComplete', 'tables ok');
  add('unanswered', 'UNANSWERED');
  add('otherCpuPct', 'other CPU %');
  add('sendersTimedOut', 'TIMEOUT');
  add('timedOut', 'TIMEOUT');
  const errors = e['errors'];
  if (errors && typeof errors === 'object' && Object.keys(errors).length > 0)
    parts.push(`errors=${JSON.stringify(errors)}`);
  const anchor = ircAnchor(r);
  if (anchor !== null) parts.push(`${anchor.server}: ${num(anchor.deliveriesPerSec)}/s lost=${num(anchor.lost)}`);
  else if (typeof e['anchor'] === 'string') parts.push(e['anchor']);
  return parts.join(' ');
}

/** The IRC server `irc-fanout` also ran, as it reported it (null if it did not run). */
interface IrcAnchor {
  readonly server: string;
  readonly deliveriesPerSec: number | null;
  readonly lost: number | null;
  readonly duplicates: number | null;
}

function ircAnchor(r: ScenarioResult): IrcAnchor | null {
  const anchor = r.extra['anchor'];
  return typeof anchor === 'object' && anchor !== null ? (anchor as IrcAnchor) : null;
}

/** One line per target of the issue, saying whether this run met it. */
export function targets(results: readonly ScenarioResult[]): string[] {
  const find = (name: string, tls = false): ScenarioResult | undefined =>
    results.find((r) => r.scenario === name && r.tls === tls);
  const lines: string[] = [];
  const check = (label: string, ok: boolean | null, detail: string): void => {
    lines.push(`${ok === null ? 'n/a ' : ok ? 'MET ' : 'MISS'}  ${label}: ${detail}`);
  };
  // The suite's headline fan-out row (its first), not the best of the fan-out rows.
  const fanout = find('fanout');
  if (fanout) {
    const verdict = ackVerdict(groupOutcome(fanout));
    check(
      'fan-out ≥ 2.3M deliveries/s, every delivery acked, none lost',
      (fanout.deliveriesPerSec ?? 0) >= 2_300_000 && verdict.ok,
      `${num(fanout.deliveriesPerSec)}/s at N=${fanout.clients} (window ${String(fanout.extra['window'])}${medianNote(fanout)})${because(verdict.reasons)}`,
    );
  }
  const paced = find('paced');
  if (paced) {
    const verdict = ackVerdict(groupOutcome(paced));
    check(
      'paced p99 ≤ 5 ms',
      (paced.latencyMs.p99 ?? Infinity) <= 5 && verdict.ok,
      `p99 ${num(paced.latencyMs.p99)} ms at N=${paced.clients}, ${num(paced.rate)} msg/s scheduled, ${num(numberOr(paced.extra['achievedRate']))} achieved${because(verdict.reasons)}`,
    );
  }
  const idle = find('idle');
  if (idle) {
    check(
      '≤ 16 KiB RSS per idle client',
      (idle.serverRssPerIdleClientKB ?? Infinity) <= 16,
      `${num(idle.serverRssPerIdleClientKB)} KiB (slope from ${num(numberOr(idle.extra['lowClients']))} to ${num(idle.clients)} clients in a group)`,
    );
  }
  const overload = find('overload');
  if (overload) {
    const verdict = silentLossVerdict(groupOutcome(overload));
    check(
      '500 members saturating: peak RSS ≤ 256 MiB, nothing lost silently',
      (overload.serverPeakRssKB ?? Infinity) <= 256 * 1024 && verdict.ok,
      `${((overload.serverPeakRssKB ?? 0) / 1024).toFixed(1)} MiB, lost ${num(overload.lost)}, removed ${String(overload.extra['membersRemoved'])}, lost to removed ${String(overload.extra['lostToRemoved'])}${because(verdict.reasons)}`,
    );
  }
  const join = find('join');
  if (join) {
    const seconds = Number(join.extra['registeredSeconds']);
    const registered = Number(join.extra['registered']);
    check(
      '10,000 clients registered within 10 s',
      join.clients >= 10_000 ? seconds <= 10 && registered === join.clients : null,
      `${registered} of ${join.clients} registered in ${seconds} s, ${num(Number(join.extra['tableBytesPerClient']))} table bytes per client`,
    );
  }
  const irc = find('irc-fanout');
  if (irc) {
    const anchor = ircAnchor(irc);
    const clean = irc.lost === 0 && irc.duplicates === 0 && irc.delivered === irc.expectedDeliveries;
    const rate = irc.deliveriesPerSec ?? 0;
    check(
      `IRC fan-out ${num(irc.clients)} × ${num(irc.messagesPerClient)}: no loss, no duplicates, ≥ InspIRCd's deliveries/s`,
      anchor === null ? null : clean && rate >= (anchor.deliveriesPerSec ?? Infinity),
      `${num(irc.deliveriesPerSec)}/s, lost ${num(irc.lost)}, duplicates ${num(irc.duplicates)}; ` +
        (anchor === null
          ? typeof irc.extra['anchor'] === 'string'
            ? irc.extra['anchor']
            : 'no anchor run'
          : `${anchor.server} ${num(anchor.deliveriesPerSec)}/s, lost ${num(anchor.lost)}, duplicates ${num(anchor.duplicates)}`),
    );
  }
  const priv = find('private');
  if (priv)
    check(
      'private messages acked',
      priv.lost === 0,
      `${num(priv.deliveriesPerSec)} acked dm/s between ${String(priv.extra['pairs'])} pairs`,
    );
  tlsTargets(find, check);
  return lines;
}

/** The TLS figures (docs/benchmarks.md "TLS"): fan-out against the plain run of the same suite, handshakes, dms. */
function tlsTargets(
  find: (name: string, tls?: boolean) => ScenarioResult | undefined,
  check: (label: string, ok: boolean | null, detail: string) => void,
): void {
  const plain = find('fanout');
  const secure = find('fanout', true);
  if (secure) {
    const ratio = plain?.deliveriesPerSec ? (secure.deliveriesPerSec ?? 0) / plain.deliveriesPerSec : null;
    const verdict = ackVerdict(groupOutcome(secure));
    check(
      'fan-out over TLS ≥ 60 % of plain deliveries/s',
      ratio === null ? null : ratio >= 0.6 && verdict.ok,
      `${num(secure.deliveriesPerSec)}/s over TLS at N=${secure.clients}${medianNote(secure)}` +
        (ratio === null
          ? ', no plain run to compare'
          : ` = ${(ratio * 100).toFixed(0)} % of ${num(plain!.deliveriesPerSec)}/s plain`) +
        because(verdict.reasons),
    );
  }
  const join = find('join', true);
  if (join)
    check(
      'registrations with TLS handshakes',
      Number(join.extra['registered']) === join.clients,
      `${num(numberOr(join.extra['registrationsPerSec']))} registrations/s (${String(join.extra['registered'])} of ${num(join.clients)} in ${String(join.extra['registeredSeconds'])} s)`,
    );
  const priv = find('private', true);
  if (priv)
    check(
      'private messages acked, clients registered over TLS',
      priv.lost === 0,
      `${num(priv.deliveriesPerSec)} acked dm/s between ${String(priv.extra['pairs'])} pairs`,
    );
}

function numberOr(value: unknown): number | null {
  return typeof value === 'number' ? value : null;
}

function medianNote(r: ScenarioResult): string {
  const runs = r.extra['runHeadlines'];
  return Array.isArray(runs) ? `, median of ${runs.map((v) => num(numberOr(v))).join(' / ')}` : '';
}

function because(reasons: readonly string[]): string {
  return reasons.length === 0 ? '' : ` — ${reasons.join(', ')}`;
}
