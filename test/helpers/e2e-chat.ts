/**
 * Small chat-level helpers for the end-to-end tests, on top of testkit's
 * process driver. Expected lines are written out literally from docs/usage.md "Server"–§5
 * (never imported from src/cli/lines.ts), so a drift in the implementation
 * fails the tests.
 */
import { startedProcesses, type CliProcess, type LineMatcher } from '../../testkit/cli-process';
import { startClient, type RoleOptions, type StartedClient } from '../../testkit/chat-roles';

/** docs/usage.md "How output looks": `>>> ` normally, `>>> (<group>) ` in group mode. */
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
export async function expectAfter(
  proc: CliProcess,
  command: string,
  expected: readonly LineMatcher[],
  timeoutMs?: number,
): Promise<number> {
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
export async function linesUntilSentinel(
  proc: CliProcess,
  from: number,
  group: string | null = null,
): Promise<string[]> {
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
export async function listing(
  proc: CliProcess,
  command: string,
  header: string,
  group: string | null = null,
): Promise<string[]> {
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
export async function sendPrivate(
  from: StartedClient,
  to: StartedClient,
  text: string,
  group: string | null = null,
): Promise<void> {
  const receiverFrom = to.proc.mark();
  await expectAfter(from.proc, `send ${to.name} ${text}`, [line(`[Message received by ${to.name}.]`, group)]);
  await to.proc.waitForLine(line(`${from.name}: ${text}`), { from: receiverFrom });
}

/** `send_group <text>` expecting `[Message received by Server.]` at the sender. */
export async function sendGroup(from: StartedClient, group: string, text: string): Promise<void> {
  await expectAfter(from.proc, `send_group ${text}`, [line('[Message received by Server.]', group)]);
}

/** The group message line a member shows (docs/usage.md "Client"). */
export function groupMessage(group: string, sender: string, text: string): string {
  return line(`Group_Message ${sender}: ${text}`, group);
}

/**
 * docs/usage.md "How output looks": stderr is for usage errors and internal faults only, so in a normal
 * run (and in every expected failure) no process started by this test printed
 * anything there: no warning, no stack trace.
 */
export function expectCleanStderr(processes: readonly CliProcess[] = startedProcesses()): void {
  const dirty = processes
    .filter((p) => p.lines('stderr').length > 0)
    .map((p) => ({ process: p.label, stderr: p.lines('stderr') }));
  expect(dirty).toEqual([]);
}

/** A table-update line, in either mode. */
export const TABLE_UPDATED = /^>>> (\([^)]*\) )?\[Client table updated\.\]$/;

/**
 * Waits until `proc` has printed `total` table-update lines since it started.
 * Counting from the start (never from a mark) is what makes it race-free: a
 * push from an earlier event that the process has not printed yet cannot be
 * mistaken for the awaited one. Use it where each table change is separated
 * from the next by awaited steps, so the number of pushes is known.
 */
export function waitForTableUpdates(proc: CliProcess, total: number, timeoutMs?: number): Promise<string[]> {
  return proc.waitForCount(TABLE_UPDATED, total, { from: 0, timeoutMs });
}

/**
 * Starts clients one after another (each as `startClient`) and waits until
 * every one knows every other: client i has printed its own table plus one
 * push per later registration. Without this, a `send` right after start could
 * race the table push and get `[Unknown client …]`.
 *
 * Clients print `[Client table updated.]` at most once a second, merging the
 * pushes of that second (docs/usage.md). So each registration waits until
 * every earlier client has printed its line: the registrations stay apart,
 * each push gets a line of its own, and later `waitForTableUpdates` counts
 * stay exact.
 */
export async function startChat(
  names: readonly string[],
  serverPort: number,
  extraArgs: readonly string[] = [],
  options: RoleOptions = {},
): Promise<StartedClient[]> {
  const clients: StartedClient[] = [];
  for (const name of names) {
    clients.push(await startClient(name, serverPort, extraArgs, options));
    await Promise.all(clients.map((c, i) => waitForTableUpdates(c.proc, clients.length - i)));
  }
  return clients;
}

/**
 * Waits until `proc`'s table lists every one of `names` as online, asking
 * `who` (docs/usage.md) and, after each miss, waiting for the next table
 * line. For steps whose number of pushes is not known (registrations in
 * parallel, reconnects).
 */
export async function waitUntilOnline(
  proc: CliProcess,
  names: readonly string[],
  group: string | null = null,
): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const from = proc.mark();
    const online = await listing(proc, 'who', line('[Online clients:]', group), group);
    if (names.every((n) => online.includes(line(n, group)))) return;
    if (attempt >= 20) throw new Error(`${names.join(', ')} never all online:\n${proc.describe()}`);
    await proc.waitForIndex(TABLE_UPDATED, { from, timeoutMs: SLOW_EVENT_MS });
  }
}

/**
 * `send` after a reconnect, when the order of the re-registrations is
 * unknown: first waits until `from`'s table shows `to` online (a send to an
 * offline account would be saved by the server, docs/usage.md "Saved
 * messages"), then sends and waits for the direct delivery.
 */
export async function sendPrivateEventually(from: StartedClient, to: StartedClient, text: string): Promise<void> {
  await waitUntilOnline(from.proc, [to.name]);
  await sendPrivate(from, to, text);
}
