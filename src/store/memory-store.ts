import type { DmEnvelope } from '../protocol/dm-envelope';
import type { ClientEntry, HistoryEntry } from '../protocol/frames';
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
} from './chat-store';
import { ClientTable, encryptionOf, MAX_OFFLINE_ENTRIES, type Account, type AccountChange } from './client-table';
import { GroupTable, type GroupChange, type GroupRecord } from './group-table';
import { MemoryHistory, type HistoryLog } from './history-log';
import { MemoryMailbox, type Mailbox } from './mailbox';

/** Where a write-through store commits each change, inside the table's critical section. */
export interface Persistence {
  account(change: AccountChange): Promise<void>;
  group(change: GroupChange): Promise<void>;
}

/** How to build a MemoryStore: what it starts with and where it writes through to. */
export interface MemoryStoreOptions {
  /** Commits account and group changes (a database); default: none, state lives with the process. */
  readonly persistence?: Persistence;
  readonly history?: HistoryLog;
  readonly mailbox?: Mailbox;
  /** Messages kept per group when the history is in memory. */
  readonly historyLimit?: number;
  /** Accounts and groups loaded from durable storage. */
  readonly accounts?: Iterable<Account>;
  readonly groups?: Iterable<GroupRecord>;
  readonly now?: () => number;
  /** Release the durable backend (close the database). */
  readonly onClose?: () => Promise<void>;
}

/** Messages kept per group by default (docs/usage.md `--history-limit`). */
export const DEFAULT_HISTORY_LIMIT = 1000;

/**
 * The tables in memory — the client table with the accounts, and the group
 * table, each a small class with its own mutex — with the group history and
 * the mailboxes beside them. Alone it is the `--ephemeral` store; the
 * database store is this same class with `persistence` committing every
 * account and group change inside its critical section, and a history and a
 * mailbox kept in the database (sqlite-store.ts).
 */
export class MemoryStore implements ChatStore {
  private readonly clientTable: ClientTable;
  private readonly groupTable: GroupTable;
  private readonly historyLog: HistoryLog;
  private readonly mailboxes: Mailbox;

  constructor(private readonly options: MemoryStoreOptions = {}) {
    const { persistence, now = Date.now } = options;
    this.clientTable = new ClientTable(
      persistence && ((c) => persistence.account(c)),
      now,
      MAX_OFFLINE_ENTRIES,
      options.accounts,
    );
    this.groupTable = new GroupTable(persistence && ((c) => persistence.group(c)), now, options.groups);
    this.historyLog = options.history ?? new MemoryHistory(options.historyLimit ?? DEFAULT_HISTORY_LIMIT);
    this.mailboxes = options.mailbox ?? new MemoryMailbox();
  }

  register(reg: Registration, owner: Owner): Promise<RegisterResult> {
    return this.clientTable.register(reg, owner);
  }

  async disconnect(name: string, owner: Owner): Promise<DisconnectResult | null> {
    // Lock order: client table, then (nested) group table.
    const done = await this.clientTable.goOfflineThen(name, owner, () => this.groupTable.leaveAll(name));
    if (done === null) return null;
    return { entry: done.entry, leftGroups: done.inside };
  }

  async deleteAccount(name: string, owner: Owner): Promise<DeleteAccountResult> {
    const shown = this.clientTable.account(name)?.name ?? name;
    const done = await this.clientTable.deleteAccountThen(name, owner, async () => {
      await this.mailboxes.drop(shown);
      return this.groupTable.leaveAll(name);
    });
    if (done === null) return { ok: false, code: 'not_registered' };
    return { ok: true, leftGroups: done.inside };
  }

  async clients(): Promise<readonly ClientEntry[]> {
    return this.clientTable.snapshot();
  }

  async lookup(name: string): Promise<ClientEntry | null> {
    const entry = this.clientTable.get(name);
    if (entry !== undefined) return entry;
    const account = this.clientTable.account(name);
    if (account === undefined) return null;
    // Known but long offline (its table entry forgotten): no address, only the keys.
    return { name: account.name, host: '0.0.0.0', port: 0, online: false, key: account.key, ...encryptionOf(account) };
  }

  createGroup(group: string, creator: string, quota?: GroupQuota): Promise<CreateGroupResult> {
    return this.groupTable.create(group, creator, quota);
  }

  async deleteGroup(group: string, by: string): Promise<DeleteGroupResult> {
    const shown = this.groupTable.record(group)?.name ?? group;
    const result = await this.groupTable.delete(group, by);
    if (result.ok) await this.historyLog.drop(shown);
    return result;
  }

  async groups(): Promise<readonly string[]> {
    return this.groupTable.groupNames();
  }

  join(member: string, group: string, keep?: boolean): Promise<JoinResult> {
    return this.groupTable.join(member, group, keep);
  }

  leave(member: string, onlyFrom?: string): Promise<LeaveResult> {
    return this.groupTable.leave(member, onlyFrom);
  }

  async membersOf(group: string): Promise<readonly string[] | undefined> {
    return this.groupTable.membersOf(group);
  }

  async appendMessage(group: string, message: NewGroupMessage): Promise<number | null> {
    const record = this.groupTable.record(group);
    if (record === undefined) return null;
    return this.historyLog.append(record.name, message);
  }

  history(group: string, query: HistoryQuery): Promise<readonly HistoryEntry[]> {
    return this.historyLog.read(this.groupTable.record(group)?.name ?? group, query);
  }

  async saveMessage(message: DmEnvelope, limit: number): Promise<SaveResult> {
    const sender = this.clientTable.account(message.from);
    const receiver = this.clientTable.account(message.to);
    if (sender === undefined || receiver === undefined) return 'unknown_client';
    return (await this.mailboxes.save(receiver.name, message, sender.key, limit)) ? 'saved' : 'mailbox_full';
  }

  async counts(): Promise<StoreCounts> {
    return { accounts: this.clientTable.accountCount, saved: await this.mailboxes.total() };
  }

  mailbox(name: string): Promise<readonly SavedMessage[]> {
    return this.mailboxes.list(this.clientTable.account(name)?.name ?? name);
  }

  deleteSaved(name: string, ids: readonly string[]): Promise<void> {
    return this.mailboxes.delete(this.clientTable.account(name)?.name ?? name, ids);
  }

  async close(): Promise<void> {
    await this.options.onClose?.();
  }
}
