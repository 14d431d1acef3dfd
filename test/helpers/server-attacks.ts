import { BulkLink } from './bulk-link';
import { nextId, RawClient } from './raw-client';

/**
 * The attacks on the server of issue 9 (findings 1, 2, 3, 4, 7, 8, 9), as
 * functions for the hostile tests (test/hostile/*.hostile.test.ts), which
 * also record the figures of docs/security.md ("Measured", with
 * CHATAPP_FIGURES_FILE: bystanders.ts). Each reproduces the review's attack at a size bounded in
 * count, and returns what the attacker saw; the callers look at the
 * bystanders. Every wait is bounded by a safety net; none asserts on speed.
 */

/** Answers by kind (`reply`, `error:<code>`), summed over links. */
export type Tally = Record<string, number>;

/** Adds every count of `link` to `tally`. */
export function addCounts(tally: Tally, link: BulkLink): Tally {
  for (const [kind, n] of link.counts) tally[kind] = (tally[kind] ?? 0) + n;
  return tally;
}

/**
 * Registers `creator` and creates `groups` from it, `batch` create_group
 * requests per write, each batch's last answer awaited before the next
 * (so the server is never buried under unread input). Returns the answers.
 */
export async function createGroups(
  port: number,
  creator: string,
  groups: readonly string[],
  batch = 1000,
): Promise<Tally> {
  const { link, answer } = await BulkLink.registered(port, creator);
  if (answer !== 'reply') throw new Error(`${creator} not registered: ${answer}`);
  for (let at = 0; at < groups.length && !link.closed; at += batch) {
    const frames = groups
      .slice(at, at + batch)
      .map((group, i) => ({ type: 'create_group', id: `cg-${creator}-${at + i}`, group }));
    await link.request(frames, `cg-${creator}-${at + frames.length - 1}`);
  }
  const tally = addCounts({}, link);
  link.close();
  await link.done;
  return tally;
}

/** `count` distinct valid group names, `<prefix>00000`, `<prefix>00001`, ... */
export function groupNames(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(5, '0')}`);
}

/**
 * Finding 1: registers `name`, writes `listings` list_groups requests in one
 * write and closes the socket at once (FIN after the requests, then the
 * socket is destroyed, so nobody reads the answers).
 */
export async function listAndVanish(port: number, name: string, listings: number): Promise<void> {
  const { link, answer } = await BulkLink.registered(port, name);
  if (answer !== 'reply') throw new Error(`${name} not registered: ${answer}`);
  await link.write(Array.from({ length: listings }, (_, i) => ({ type: 'list_groups', id: `list-${name}-${i}` })));
  await new Promise<void>((resolve) => link.socket.end(() => resolve()));
  link.close();
  await link.done;
}

/** Options of `replyCacheChurn`. */
export interface ChurnOptions {
  /** Names registered in all, each on a fresh connection. */
  readonly names: number;
  /** Requests per name, each with its own id (the review: 3,900, under the 4,096 a cache keeps per name). */
  readonly requestsPerName: number;
  /** Connections working at once. */
  readonly parallel: number;
  /** Name prefix (names are `<prefix><n>`). */
  readonly prefix: string;
}

/** A request id of the longest length the protocol allows (64, docs/protocol.md "Ids and retries"). */
function longId(prefix: string, n: number): string {
  return `${prefix}-${n}-`.padEnd(64, 'x');
}

/**
 * Finding 2: for each name, a fresh connection registers it, sends
 * `requestsPerName` requests with 64-character ids (`leave_group` outside a
 * group: refused, and its refusal cached for duplicate suppression), waits
 * for the last answer, deregisters and closes — then the next name.
 */
export async function replyCacheChurn(port: number, options: ChurnOptions): Promise<Tally> {
  const tally: Tally = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let n = next++; n < options.names; n = next++) {
      const name = `${options.prefix}${n}`;
      const { link, answer } = await BulkLink.registered(port, name);
      if (answer !== 'reply') throw new Error(`${name} not registered: ${answer}`);
      const frames = Array.from({ length: options.requestsPerName }, (_, i) => ({
        type: 'leave_group',
        id: longId(name, i),
      }));
      await link.request(frames, longId(name, options.requestsPerName - 1));
      await link.request({ type: 'dereg', id: `dereg-${name}`, name }, `dereg-${name}`);
      addCounts(tally, link);
      link.close();
      await link.done;
    }
  };
  await Promise.all(Array.from({ length: options.parallel }, worker));
  return tally;
}

/**
 * Finding 3: `connections` clients (`<prefix>0`, ...) each create groups as
 * fast as the server answers — `perConnection` create_group requests,
 * `batch` per write — all at once. Returns the answers.
 */
export async function groupFlood(
  port: number,
  options: { connections: number; perConnection: number; prefix: string; batch?: number },
): Promise<Tally> {
  const all = await Promise.all(
    Array.from({ length: options.connections }, (_, c) =>
      createGroups(
        port,
        `${options.prefix}${c}`,
        groupNames(`${options.prefix}${c}g`, options.perConnection),
        options.batch,
      ),
    ),
  );
  const tally: Tally = {};
  for (const t of all) for (const [kind, n] of Object.entries(t)) tally[kind] = (tally[kind] ?? 0) + n;
  return tally;
}

/**
 * Finding 3: `connections` registered clients each ask `list_groups`
 * `listings` times, one after another (each waits for its answer, paced out
 * in `list_part` chunks). Returns the answers.
 */
export async function listingLoop(
  port: number,
  options: { connections: number; listings: number; prefix: string },
): Promise<Tally> {
  const tally: Tally = {};
  await Promise.all(
    Array.from({ length: options.connections }, async (_, c) => {
      const { link, answer } = await BulkLink.registered(port, `${options.prefix}${c}`);
      if (answer !== 'reply') throw new Error(`${options.prefix}${c} not registered: ${answer}`);
      for (let i = 0; i < options.listings && !link.closed; i++) {
        const id = `ls-${options.prefix}${c}-${i}`;
        await link.request({ type: 'list_groups', id }, id, 60_000);
      }
      addCounts(tally, link);
      link.close();
      await link.done;
    }),
  );
  return tally;
}

/** What one connection of `invalidFrameFlood` saw. */
export interface InvalidFloodResult {
  /** Frames written before the link closed (or all of them). */
  readonly written: number;
  readonly closed: boolean;
  /** Error frames received, by code. */
  readonly errors: Tally;
}

/**
 * Finding 4: `connections` unregistered connections each write schema-invalid
 * frames with a valid `ping` after every eighth (which used to reset the
 * invalid count), `rounds` writes of `perWrite` such groups of nine, until
 * the server closes them. Returns what each saw once it closed or wrote all.
 */
export async function invalidFrameFlood(
  port: number,
  options: { connections: number; rounds: number; perWrite: number },
): Promise<InvalidFloodResult[]> {
  const group = `${'{"type":"launch_missiles"}\n'.repeat(8)}{"type":"ping"}\n`;
  const text = group.repeat(options.perWrite);
  return Promise.all(
    Array.from({ length: options.connections }, async () => {
      const link = await BulkLink.open(port);
      let written = 0;
      for (let r = 0; r < options.rounds && !link.closed; r++) {
        if (await link.write(text)) written += 9 * options.perWrite;
      }
      // Let the answers to what was written arrive: the server closes the link, or a ping after it is answered.
      if (!link.closed)
        await link.request('{"type":"list_groups","id":"flood-end"}\n', 'flood-end').catch(() => undefined);
      const result = { written, closed: link.closed, errors: link.errors() };
      link.close();
      await link.done;
      return result;
    }),
  );
}

/** A group member of finding 7 and what it did. */
export interface LateMember {
  readonly client: RawClient;
  /** Acks it has sent so far. */
  readonly acksSent: () => number;
}

/**
 * Finding 7: a group member (a raw client registered as `name`, in
 * `group`) that acks every group message `delayMs` after it arrived — just
 * under the server's ack timeout, so it is not removed as unresponsive — or,
 * with `delayMs` null, never acks and joins again whenever it is removed.
 */
export async function lateMember(
  port: number,
  name: string,
  group: string,
  delayMs: number | null,
): Promise<LateMember> {
  const client = await RawClient.registered(port, name, { autoAck: false });
  const joined = await client.request({ type: 'join_group', group });
  if (joined.type !== 'reply') throw new Error(`${name} could not join ${group}: ${JSON.stringify(joined)}`);
  // docs/protocol.md "Heartbeat": a side that has sent nothing for an interval pings. Its acks are late
  // or never come, so it pings on its own, twice an interval, or the heartbeat would close it as dead.
  const pings = setInterval(() => client.send({ type: 'ping' }), 500).unref();
  void client.closed.then(() => clearInterval(pings));
  let seen = 0;
  let acks = 0;
  client.stream.on('data', () => {
    // RawLink's own listener (added first) has decoded this chunk's frames.
    for (; seen < client.frames.length; seen++) {
      const frame = client.frames[seen]!;
      if (frame.type === 'group_msg' && delayMs !== null) {
        const ack = { type: 'group_ack', group: frame.group, seq: frame.seq };
        // unref: a closed member sends nothing, and its timers must not keep jest waiting
        setTimeout(() => {
          client.send(ack);
          acks++;
        }, delayMs).unref();
      } else if (frame.type === 'removed' && delayMs === null) {
        client.send({ type: 'join_group', id: nextId('rejoin'), group });
      }
    }
  });
  return { client, acksSent: () => acks };
}

/**
 * Finding 8: from each of `addresses` (127.x.y.z, so a test's real clients
 * on 127.0.0.1 are another address), `namesPerAddress` distinct names are
 * registered in turn, each deregistered at once after it is accepted, as
 * fast as the server answers: all on one connection per address, or with
 * `connectionPerName` each on a fresh connection closed after it (so no
 * per-connection state can be what limits them). Returns the answers to the
 * registrations (`reply`, `error:rate_limited`, ...).
 */
export async function registrationChurn(
  port: number,
  options: { addresses: readonly string[]; namesPerAddress: number; prefix: string; connectionPerName?: boolean },
): Promise<Tally> {
  const tally: Tally = {};
  const churn = async (link: BulkLink, name: string): Promise<void> => {
    const answer = await link.register(name);
    tally[answer] = (tally[answer] ?? 0) + 1;
    if (answer === 'reply') await link.request({ type: 'dereg', id: `dereg-${name}`, name }, `dereg-${name}`);
  };
  const close = async (link: BulkLink): Promise<void> => {
    link.close();
    await link.done;
  };
  await Promise.all(
    options.addresses.map(async (address, a) => {
      const name = (n: number): string => `${options.prefix}${a}x${n}`;
      if (options.connectionPerName === true) {
        for (let n = 0; n < options.namesPerAddress; n++) {
          const link = await BulkLink.open(port, address);
          await churn(link, name(n));
          await close(link);
        }
        return;
      }
      const link = await BulkLink.open(port, address);
      for (let n = 0; n < options.namesPerAddress && !link.closed; n++) await churn(link, name(n));
      await close(link);
    }),
  );
  return tally;
}

/** `count` loopback addresses from 127.0.<block>.1 on (any 127.x.y.z reaches the server on Linux). */
export function loopbackAddresses(block: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.${block}.${i + 1}`);
}

/**
 * Finding 9: opens `count` connections that never register (they answer
 * pings, so only the register deadline or shedding closes them), `parallel`
 * connects at a time, from `localAddress` if given. A connect the server
 * refuses or resets is counted as failed, not thrown.
 */
export async function idleConnections(
  port: number,
  count: number,
  options: { parallel?: number; localAddress?: string } = {},
): Promise<{ links: BulkLink[]; failed: number }> {
  const links: BulkLink[] = [];
  let failed = 0;
  const parallel = options.parallel ?? 50;
  for (let at = 0; at < count; at += parallel) {
    const batch = await Promise.all(
      Array.from({ length: Math.min(parallel, count - at) }, () =>
        BulkLink.open(port, options.localAddress).catch(() => null),
      ),
    );
    for (const link of batch) {
      if (link === null) failed++;
      else links.push(link);
    }
  }
  return { links, failed };
}
