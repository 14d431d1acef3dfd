/**
 * Small chat-level helpers for the end-to-end tests, on top of cli-process.
 * Expected lines are written out literally from SPEC §4–§5 (never imported
 * from src/cli/lines.ts), so a drift in the implementation fails the tests.
 */
import { startedProcesses, type CliProcess, type LineMatcher, type StartedClient } from './cli-process';

/** SPEC §2: `>>> ` normally, `>>> (<group>) ` in group mode. */
export function line(body: string, group: string | null = null): string {
  return group === null ? `>>> ${body}` : `>>> (${group}) ${body}`;
}

/** A command no mode knows: its `[Invalid command]` answer marks "everything before has been printed". */
export const SENTINEL_COMMAND = 'zz_not_a_command';

/** Every waiting helper's default safety net for slow-but-bounded events (heartbeat, reconnect). */
export const SLOW_EVENT_MS = 20_000;

/**
 * Sends `command` and waits for `expected` lines, in order, printed after the
 * command was sent. Resolves with the index of the last one.
 */
export async function expectAfter(proc: CliProcess, command: string, expected: readonly LineMatcher[], timeoutMs?: number): Promise<number> {
  let from = proc.mark();
  proc.send(command);
  let index = -1;
  for (const matcher of expected) {
    index = await proc.waitForIndex(matcher, { from, timeoutMs });
    from = index + 1;
  }
  return index;
}

/**
 * Sends a sentinel command and resolves with every stdout line printed from
 * `from` up to its `[Invalid command]` answer, without table-update lines
 * (those may arrive at any time).
 */
export async function linesUntilSentinel(proc: CliProcess, from: number, group: string | null = null): Promise<string[]> {
  const sentinelFrom = proc.mark();
  proc.send(SENTINEL_COMMAND);
  const end = await proc.waitForIndex(line('[Invalid command]', group), { from: Math.max(from, sentinelFrom) });
  return proc
    .lines()
    .slice(from, end)
    .filter((l) => l !== line('[Client table updated.]', group));
}

/**
 * Runs a listing command (`list_groups`, `list_members`): waits for `header`
 * and returns the item lines printed after it (up to a sentinel).
 */
export async function listing(proc: CliProcess, command: string, header: string, group: string | null = null): Promise<string[]> {
  const from = proc.mark();
  proc.send(command);
  const headerIndex = await proc.waitForIndex(header, { from });
  return linesUntilSentinel(proc, headerIndex + 1, group);
}

/** `create_group` expecting success. */
export async function createGroup(client: StartedClient, group: string): Promise<void> {
  await expectAfter(client.proc, `create_group ${group}`, [line(`[Group ${group} created by Server.]`)]);
}

/** `join_group` expecting success (client in normal mode). */
export async function joinGroup(client: StartedClient, group: string): Promise<void> {
  await expectAfter(client.proc, `join_group ${group}`, [line(`[Entered group ${group} successfully]`)]);
}

/** `send <to> <text>` expecting `[Message received by <to>.]`; waits for the receiver's line when given. */
export async function sendPrivate(from: StartedClient, to: StartedClient, text: string, group: string | null = null): Promise<void> {
  const receiverFrom = to.proc.mark();
  await expectAfter(from.proc, `send ${to.name} ${text}`, [line(`[Message received by ${to.name}.]`, group)]);
  await to.proc.waitForLine(line(`${from.name}: ${text}`), { from: receiverFrom });
}

/** `send_group <text>` expecting `[Message received by Server.]` at the sender. */
export async function sendGroup(from: StartedClient, group: string, text: string): Promise<void> {
  await expectAfter(from.proc, `send_group ${text}`, [line('[Message received by Server.]', group)]);
}

/** The group message line a member shows (SPEC §5). */
export function groupMessage(group: string, sender: string, text: string): string {
  return line(`Group_Message ${sender}: ${text}`, group);
}

/**
 * SPEC §2: stderr is for usage errors and internal faults only, so in a normal
 * run (and in every expected failure) no process started by this test printed
 * anything there: no warning, no stack trace.
 */
export function expectCleanStderr(processes: readonly CliProcess[] = startedProcesses()): void {
  const dirty = processes.filter((p) => p.lines('stderr').length > 0).map((p) => ({ process: p.label, stderr: p.lines('stderr') }));
  expect(dirty).toEqual([]);
}
