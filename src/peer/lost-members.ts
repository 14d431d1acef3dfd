import type { MemberInfo } from './member-table';

/**
 * Members that vanished without a goodbye (connection lost or heartbeat
 * missed), kept for a while so the mesh can heal after a network partition:
 * the peer re-dials them every retry interval until they answer or the
 * window passes (docs/protocol-mesh.md, "Partitions"). Pure: time is passed in.
 */
export class LostMembers {
  private readonly entries = new Map<string, { readonly info: MemberInfo; readonly since: number }>();

  constructor(private readonly windowMs: number) {}

  get size(): number {
    return this.entries.size;
  }

  /** Remembers a member lost at `now` (keyed by instance: a restarted process is a new member). */
  add(info: MemberInfo, now: number): void {
    this.entries.set(info.instance, { info, since: now });
  }

  /** Forgets an instance (it is linked again, or lost its name). */
  delete(instance: string): void {
    this.entries.delete(instance);
  }

  /** The members still worth re-dialling at `now`; those lost longer than the window are forgotten. */
  due(now: number): MemberInfo[] {
    const due: MemberInfo[] = [];
    for (const [instance, entry] of this.entries) {
      if (now - entry.since > this.windowMs) this.entries.delete(instance);
      else due.push(entry.info);
    }
    return due;
  }
}
