import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import type { DmEnvelope } from '../../protocol/dm-envelope';
import type { ClientEntry, HistoryEntry } from '../../protocol/frames';
import { foldName } from '../../protocol/names';
import type {
  ChatStore,
  CreateGroupResult,
  DeleteAccountResult,
  DeleteGroupResult,
  DisconnectResult,
  GroupQuota,
  HistoryQuery,
  JoinResult,
  LeaveResult,
  NewGroupMessage,
  Owner,
  RegisterResult,
  Registration,
  SavedMessage,
  SaveResult,
  StoreCounts,
} from '../chat-store';
import { encryptionOf, MAX_OFFLINE_ENTRIES } from '../client-table';
import { selectHistory } from '../history-log';
import { DEFAULT_HISTORY_LIMIT } from '../memory-store';
import * as scripts from './scripts';
import { StoreUnavailableError } from '../store-errors';

/** The `holder` a name_in_use result carries when the name is held on another node (no local connection has it). */
export const REMOTE_HOLDER: Owner = -1;

/** How to open a RedisStore. */
export interface RedisStoreOptions {
  /** redis://host:port[/db] */
  readonly url: string;
  /** Key prefix: every key of this cluster starts with it (default `chatapp`). */
  readonly prefix?: string;
  /** This node's id (default a fresh UUID). */
  readonly nodeId?: string;
  readonly historyLimit?: number;
  readonly now?: () => number;
  /** Extra ioredis options (tests). */
  readonly redis?: RedisOptions;
}

type ScriptName = keyof typeof scripts;
/** A script defined on the connection (ioredis defineCommand: EVALSHA, EVAL when Redis lacks it). */
type ScriptCommand = (this: Redis, ...args: Array<string | number>) => Promise<unknown>;

/**
 * The cluster store (docs/scaling.md "Data in Redis"): accounts, the client
 * table of every node, groups, membership, history and mailboxes live in
 * Redis, and each method is one Lua script — one atomic step, as the lock
 * discipline of chat-store.ts asks. An online name's owner is `node:owner`,
 * so only the connection that holds it (on its own node) can take it
 * offline. Commands are not queued while Redis is unreachable: a call fails
 * at once with StoreUnavailableError, and the server refuses the request
 * (docs/protocol.md `store_unavailable`).
 */
export class RedisStore implements ChatStore {
  readonly nodeId: string;
  readonly prefix: string;
  /** The command connection (the feed has its own: a subscribed connection cannot run commands). */
  readonly redis: Redis;
  private readonly historyLimit: number;
  private readonly now: () => number;
  private closed = false;

  constructor(private readonly options: RedisStoreOptions) {
    this.nodeId = options.nodeId ?? randomUUID();
    this.prefix = options.prefix ?? 'chatapp';
    this.historyLimit = options.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    this.now = options.now ?? Date.now;
    this.redis = new Redis(options.url, redisOptions(options.redis));
    this.redis.on('error', () => undefined); // reported through 'close'/'ready' by the node (redis-node.ts)
    for (const [name, lua] of Object.entries(scripts)) this.redis.defineCommand(name, { numberOfKeys: 0, lua });
  }

  /** Resolves once the first connection is up (rejects if Redis does not answer). */
  async ready(): Promise<void> {
    if (this.redis.status === 'ready') return;
    await new Promise<void>((resolve, reject) => {
      this.redis.once('ready', resolve);
      this.redis.once('end', () => reject(new Error(`cannot connect to ${this.options.url}`)));
    });
  }

  async register(reg: Registration, owner: Owner): Promise<RegisterResult> {
    const published = encryptionOf(reg);
    const account = JSON.stringify({ name: reg.name, key: reg.key, createdAt: this.now(), ...published });
    const { ekey = '', ekeySig = '' } = published;
    const args = [foldName(reg.name), reg.name, reg.host, reg.port, reg.key, this.tag(owner), account, ekey, ekeySig];
    const [code, value] = (await this.run('REGISTER', ...args)) as [string, string];
    if (code === 'ok') return { ok: true, entry: JSON.parse(value) as ClientEntry };
    if (code === 'name_owned') return { ok: false, code };
    return { ok: false, code: 'name_in_use', holder: this.ownerOf(value) };
  }

  async disconnect(name: string, owner: Owner): Promise<DisconnectResult | null> {
    const result = (await this.run('DISCONNECT', foldName(name), this.tag(owner), MAX_OFFLINE_ENTRIES)) as
      [string, ...string[]] | null;
    if (result === null) return null;
    return { entry: JSON.parse(result[0]) as ClientEntry, leftGroups: result.slice(1) };
  }

  async deleteAccount(name: string, owner: Owner): Promise<DeleteAccountResult> {
    const result = (await this.run('DELETE_ACCOUNT', foldName(name), this.tag(owner))) as string[] | null;
    if (result === null) return { ok: false, code: 'not_registered' };
    return { ok: true, leftGroups: result.slice(1) };
  }

  async clients(): Promise<readonly ClientEntry[]> {
    return ((await this.run('CLIENTS')) as string[]).map((e) => JSON.parse(e) as ClientEntry);
  }

  async lookup(name: string): Promise<ClientEntry | null> {
    const folded = foldName(name);
    const [entry, account] = await this.call(() =>
      Promise.all([this.redis.hget(this.key('entry'), folded), this.redis.hget(this.key('acct'), folded)]),
    );
    if (entry !== null) return JSON.parse(entry) as ClientEntry;
    if (account === null) return null;
    const parsed = JSON.parse(account) as { name: string; key: string; ekey?: string; ekeySig?: string };
    return { name: parsed.name, host: '0.0.0.0', port: 0, online: false, key: parsed.key, ...encryptionOf(parsed) };
  }

  async createGroup(group: string, creator: string, quota?: GroupQuota): Promise<CreateGroupResult> {
    const record = JSON.stringify({ name: group, creator, createdAt: this.now() });
    const code = (await this.run(
      'CREATE_GROUP',
      foldName(group),
      record,
      foldName(creator),
      quota?.maxGroups ?? '',
      quota?.maxPerCreator ?? '',
    )) as string;
    return code === 'ok' ? { ok: true } : { ok: false, code: code as 'group_exists' };
  }

  async deleteGroup(group: string, by: string): Promise<DeleteGroupResult> {
    const [code, value] = (await this.run('DELETE_GROUP', foldName(group), foldName(by))) as [string, string?];
    if (code === 'no_such_group') return { ok: false, code };
    if (code === 'not_creator') return { ok: false, code, creator: value! };
    return { ok: true, members: jsonList(value!) };
  }

  async groups(): Promise<readonly string[]> {
    return Object.freeze((await this.run('GROUPS')) as string[]);
  }

  async join(member: string, group: string, keep = false): Promise<JoinResult> {
    const args = [foldName(member), member, foldName(group), keep ? '1' : ''];
    const [code, left, shown] = (await this.run('JOIN', ...args)) as [string, string | null, string];
    if (code !== 'ok') return { ok: false, code: 'no_such_group' };
    return { ok: true, left: left ?? null, ...(shown === group ? {} : { group: shown }) };
  }

  async leave(member: string, onlyFrom?: string): Promise<LeaveResult> {
    const group = (await this.run('LEAVE', foldName(member), onlyFrom === undefined ? '' : foldName(onlyFrom))) as
      string | null;
    return group === null ? { ok: false, code: 'not_in_group' } : { ok: true, group };
  }

  async membersOf(group: string): Promise<readonly string[] | undefined> {
    const members = (await this.run('MEMBERS', foldName(group))) as string[] | null;
    return members === null ? undefined : Object.freeze(members);
  }

  async appendMessage(group: string, message: NewGroupMessage): Promise<number | null> {
    const args = [foldName(group), JSON.stringify(message.from), JSON.stringify(message.text), message.at];
    return (await this.run('APPEND', ...args, this.historyLimit)) as number | null;
  }

  async history(group: string, query: HistoryQuery): Promise<readonly HistoryEntry[]> {
    const raw = await this.call(() => this.redis.lrange(this.key('hist', foldName(group)), 0, -1));
    return selectHistory(
      raw.map((e) => JSON.parse(e) as HistoryEntry),
      query,
    );
  }

  async saveMessage(message: DmEnvelope, limit: number): Promise<SaveResult> {
    const args = [foldName(message.from), foldName(message.to), message.id, JSON.stringify(message), limit];
    return (await this.run('SAVE', ...args)) as SaveResult;
  }

  async mailbox(name: string): Promise<readonly SavedMessage[]> {
    const raw = await this.call(() => this.redis.lrange(this.key('mbox', foldName(name)), 0, -1));
    return raw.map((e) => JSON.parse(e) as SavedMessage);
  }

  /** HLEN of the accounts; the mailboxes' lengths by SCAN (an operator's scrape, not a hot path). */
  async counts(): Promise<StoreCounts> {
    return this.call(async () => {
      const accounts = await this.redis.hlen(this.key('acct'));
      let saved = 0;
      let cursor = '0';
      do {
        const [next, keys] = await this.redis.scan(cursor, 'MATCH', this.key('mbox', '*'), 'COUNT', 1000);
        cursor = next;
        const lengths = await Promise.all(keys.map((k) => this.redis.llen(k)));
        saved += lengths.reduce((a, b) => a + b, 0);
      } while (cursor !== '0');
      return { accounts, saved };
    });
  }

  async deleteSaved(name: string, ids: readonly string[]): Promise<void> {
    if (ids.length > 0) await this.run('DELETE_SAVED', foldName(name), ...ids);
  }

  /**
   * Takes every client that `node` held offline and out of its group, once
   * (the caller whose step removed the node from the node set); this node's
   * own goodbye passes its own id. Resolves how many went offline, or null
   * when another node did it or the node is alive after all.
   */
  async reap(node: string): Promise<number | null> {
    return (await this.run('REAP', node, MAX_OFFLINE_ENTRIES)) as number | null;
  }

  /**
   * After an outage: the names this node holds in Redis whose connection is
   * not among `live` any more go offline (their disconnect failed while Redis
   * was away). Resolves how many.
   */
  async reconcile(live: readonly Owner[]): Promise<number> {
    return (await this.run('RECONCILE', MAX_OFFLINE_ENTRIES, ...live.map((o) => this.tag(o)))) as number;
  }

  /** Says goodbye (this node's clients go offline at once), then closes the connection. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reap(this.nodeId).catch(() => undefined); // Redis gone: the survivors reap us
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  /** `prefix:part:part…`, the key layout of scripts.ts. */
  key(...parts: string[]): string {
    return [this.prefix, ...parts].join(':');
  }

  private tag(owner: Owner): string {
    return `${this.nodeId}:${owner}`;
  }

  /** The local owner token of a holder tag, or REMOTE_HOLDER when another node holds the name. */
  private ownerOf(tag: string): Owner {
    const mine = `${this.nodeId}:`;
    return tag.startsWith(mine) ? Number(tag.slice(mine.length)) : REMOTE_HOLDER;
  }

  private run(script: ScriptName, ...args: Array<string | number>): Promise<unknown> {
    const command = (this.redis as unknown as Record<ScriptName, ScriptCommand>)[script];
    return this.call(() => command.call(this.redis, this.prefix, this.nodeId, ...args));
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      // A ReplyError is Redis answering (a script bug): not an outage.
      if (err instanceof Error && err.name === 'ReplyError') throw err;
      throw new StoreUnavailableError(err);
    }
  }
}

/** A JSON array from a Lua script (cjson encodes an empty table as `{}`). */
function jsonList(json: string): string[] {
  const value: unknown = JSON.parse(json);
  return Array.isArray(value) ? (value as string[]) : [];
}

/**
 * Fail fast while Redis is unreachable (no offline queue, no resend of a
 * command whose answer was lost), and keep reconnecting, at most a second apart.
 */
export function redisOptions(extra: RedisOptions = {}): RedisOptions {
  return {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    retryStrategy: (times) => Math.min(100 * times, 1000),
    lazyConnect: false,
    ...extra,
  };
}
