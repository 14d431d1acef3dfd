import type { ClientEntry } from '../protocol/frames';
import type {
  ChatStore, CreateGroupResult, DisconnectResult, GroupQuota, JoinResult, LeaveResult, Owner, RegisterResult, Registration,
} from './chat-store';
import { ClientTable } from './client-table';
import { GroupTable, type GroupChange } from './group-table';

/** Where a write-through store commits each change, inside the table's critical section. */
export interface Persistence {
  client(change: ClientEntry): Promise<void>;
  group(change: GroupChange): Promise<void>;
}

/**
 * The in-memory ChatStore: the client table and the group table, each a small
 * class with its own mutex. With `persistence`, every change is handed to it
 * inside the critical section that made it (how a store that writes through
 * to a database keeps the lock discipline of chat-store.ts); without, state
 * lives as long as the process.
 */
export class MemoryStore implements ChatStore {
  private readonly clientTable: ClientTable;
  private readonly groupTable: GroupTable;

  constructor(persistence?: Persistence) {
    this.clientTable = new ClientTable(persistence && ((c) => persistence.client(c)));
    this.groupTable = new GroupTable(persistence && ((c) => persistence.group(c)));
  }

  register(reg: Registration, owner: Owner): Promise<RegisterResult> {
    return this.clientTable.register(reg, owner);
  }

  async disconnect(name: string, owner: Owner): Promise<DisconnectResult | null> {
    // Lock order: client table, then (nested) group table.
    const done = await this.clientTable.goOfflineThen(name, owner, () => this.groupTable.leave(name));
    if (done === null) return null;
    return { entry: done.entry, leftGroup: done.inside.ok ? done.inside.group : null };
  }

  async clients(): Promise<readonly ClientEntry[]> {
    return this.clientTable.snapshot();
  }

  createGroup(group: string, creator: string, quota?: GroupQuota): Promise<CreateGroupResult> {
    return this.groupTable.create(group, creator, quota);
  }

  async groups(): Promise<readonly string[]> {
    return this.groupTable.groupNames();
  }

  join(member: string, group: string): Promise<JoinResult> {
    return this.groupTable.join(member, group);
  }

  leave(member: string, onlyFrom?: string): Promise<LeaveResult> {
    return this.groupTable.leave(member, onlyFrom);
  }

  async membersOf(group: string): Promise<readonly string[] | undefined> {
    return this.groupTable.membersOf(group);
  }

  async close(): Promise<void> {
    // Nothing to release: the tables go with the process.
  }
}
