import type { ScenarioResult } from './harness';

/**
 * The "every delivery acked" verdict of a group scenario, from the figures a
 * run reports. Pure, so test/unit/bench-verdict.test.ts can make each rule
 * fail on its own. A figure that is missing fails the verdict: a run that did
 * not measure something cannot claim it held.
 */

/** What the verdict looks at; null means the run did not measure it. */
export interface GroupOutcome {
  /** Accepted messages a member that stayed never got. */
  lost: number | null;
  /** Accepted messages owed to members that were removed or disconnected and that they never got. */
  lostToRemoved: number | null;
  duplicates: number | null;
  outOfOrder: number | null;
  /** Receivers that saw `seq` fall, or disagreed on which message a `seq` carried. */
  groupOrderViolations: number | null;
  /** Deliveries whose `from` is not the sender named in their text. */
  fromMismatches: number | null;
  /** `removed` frames the members got. */
  membersRemoved: number | null;
  /** Members the server says it removed as unresponsive. */
  serverMembersRemoved: number | null;
  /** Member connections that closed during the run. */
  connectionsClosed: number | null;
  /** send_group requests with neither a reply nor an error. */
  unanswered: number | null;
  /** send_group requests the server refused. */
  rejected: number | null;
  /** Senders that did not finish within the scenario's time limit. */
  sendersTimedOut: boolean | null;
  /** Deliveries the server still counted as unacked when the clients were closed. */
  serverUnacked: number | null;
}

export interface Verdict {
  /** True when every rule holds (ackVerdict: every accepted message reached every member and was acked). */
  ok: boolean;
  /** Why not (empty when ok). */
  reasons: string[];
}

/** Counts that must all be zero, with the label a failure is reported under. */
const MUST_BE_ZERO: ReadonlyArray<[keyof GroupOutcome, string]> = [
  ['lost', 'lost'],
  ['lostToRemoved', 'lost to removed members'],
  ['membersRemoved', 'members removed'],
  ['serverMembersRemoved', 'members removed (server)'],
  ['connectionsClosed', 'connections closed'],
  ['unanswered', 'unanswered sends'],
  ['rejected', 'rejected sends'],
  ['serverUnacked', 'unacked at the server'],
  ['duplicates', 'duplicates'],
  ['outOfOrder', 'out of order'],
  ['groupOrderViolations', 'group order violations'],
  ['fromMismatches', 'wrong from'],
];

/** Applies every rule; each one that does not hold adds a reason. */
export function ackVerdict(outcome: GroupOutcome): Verdict {
  const reasons: string[] = [];
  for (const [key, label] of MUST_BE_ZERO) {
    const value = outcome[key];
    if (value === null) reasons.push(`${label} not measured`);
    else if (value !== 0 && value !== false) reasons.push(`${label} ${String(value)}`);
  }
  if (outcome.sendersTimedOut === null) reasons.push('sender completion not measured');
  else if (outcome.sendersTimedOut) reasons.push('senders timed out');
  return { ok: reasons.length === 0, reasons };
}

/** Reads a group scenario's result into a GroupOutcome (absent or non-numeric figures become null). */
export function groupOutcome(result: ScenarioResult): GroupOutcome {
  const e = result.extra;
  const count = (value: unknown): number | null => (typeof value === 'number' && Number.isFinite(value) ? value : null);
  return {
    lost: result.lost,
    lostToRemoved: count(e['lostToRemoved']),
    duplicates: result.duplicates,
    outOfOrder: result.outOfOrder,
    groupOrderViolations: count(e['groupOrderViolations']),
    fromMismatches: count(e['fromMismatches']),
    membersRemoved: count(e['membersRemoved']),
    serverMembersRemoved: count(e['serverMembersRemoved']),
    connectionsClosed: count(e['connectionsClosed']),
    unanswered: count(e['unanswered']),
    rejected: count(e['rejected']),
    sendersTimedOut: typeof e['sendersTimedOut'] === 'boolean' ? e['sendersTimedOut'] : null,
    serverUnacked: count(e['serverUnacked']),
  };
}

/**
 * "Nothing lost silently" (the overload target): members may be removed, but
 * each removal must reach the member (`removed`) and match the server's count;
 * every send is answered; every member that stayed got every accepted message.
 */
export function silentLossVerdict(outcome: GroupOutcome): Verdict {
  const reasons: string[] = [];
  const zero = (value: number | null, label: string): void => {
    if (value === null) reasons.push(`${label} not measured`);
    else if (value !== 0) reasons.push(`${label} ${value}`);
  };
  zero(outcome.lost, 'lost');
  zero(outcome.unanswered, 'unanswered sends');
  zero(outcome.fromMismatches, 'wrong from');
  if (outcome.sendersTimedOut !== false)
    reasons.push(outcome.sendersTimedOut === null ? 'sender completion not measured' : 'senders timed out');
  if (outcome.membersRemoved === null || outcome.serverMembersRemoved === null) reasons.push('removals not measured');
  else if (outcome.membersRemoved !== outcome.serverMembersRemoved) {
    reasons.push(`${outcome.serverMembersRemoved} removed by the server, ${outcome.membersRemoved} told`);
  }
  return { ok: reasons.length === 0, reasons };
}
