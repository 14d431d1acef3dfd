import { MAX_GOSSIP_MEMBERS } from '../protocol/mesh-frames';

/**
 * The members a mesh peer is linked to, keyed by name, and the rules that keep
 * the mesh consistent when links cross (docs/usage.md "Peer mode"). Pure: it never touches a
 * socket or prints; it returns what the caller must do with each link.
 */

/** Who a member is and where it listens. `instance` is its UUID v7 instance id. */
export interface MemberInfo {
  readonly name: string;
  readonly instance: string;
  readonly host: string;
  readonly port: number;
}

/** A member with the link currently used to reach it. */
export interface Member<L> extends MemberInfo {
  readonly link: L;
  /** Name of the peer that opened the link (decides ties). */
  readonly initiator: string;
  /** Still joining (it has not sent `joined`): only then can it lose its name to an earlier instance. */
  readonly joining: boolean;
}

/** What to do with a freshly greeted link (see `MemberTable.admit`). */
export type AdmitResult<L> =
  /** A new member: announce it, gossip the new member list. */
  | { readonly kind: 'added' }
  /**
   * A second link to the same member: stop using `drop` (it may be the new one).
   * Only the peer with the smaller name closes it (`close`): it closes it once it
   * holds the kept link, which the other end then already holds too — so the
   * other end never sees its current link close before the kept one is up.
   */
  | { readonly kind: 'tie'; readonly drop: L; readonly close: boolean }
  /** Same name, both joining, and the new one started first: tell `drop` its name is in use. */
  | { readonly kind: 'replaced'; readonly drop: L }
  /** The name is held (by a member or by us) and the holder keeps it: tell the new one. */
  | { readonly kind: 'refused' }
  /** We are still joining and an earlier process uses our name: we must leave with "name in use". */
  | { readonly kind: 'self_loses' }
  /** The link leads back to ourselves. */
  | { readonly kind: 'self' }
  /** A new member, but this peer already links as many as it allows (`maxMembers`). */
  | { readonly kind: 'full' };

/**
 * Name conflicts (docs/usage.md "Peer mode"). A holder that has finished joining always keeps its
 * name, so nobody can push an established member out by claiming its name.
 * Between two processes that are both still joining, the one with the smaller
 * instance id (UUID v7: the one that started first) keeps it — every member
 * applies the same comparison, so the verdict does not depend on timing.
 */
export function instanceWins(a: string, b: string): boolean {
  return a < b;
}

/**
 * Name → member, each with exactly one current link. Every peer applies the
 * same rules to the same pair of links, so both ends keep the same one.
 */
export class MemberTable<L> {
  private readonly members = new Map<string, Member<L>>();
  private selfJoining = true;

  constructor(
    private readonly self: { readonly name: string; readonly instance: string },
    /** Most members held at once: a member list names at most MAX_GOSSIP_MEMBERS, so a mesh can hold one more. */
    private readonly maxMembers = MAX_GOSSIP_MEMBERS,
  ) {}

  /** This peer finished joining: from now on it never gives up its name. */
  selfJoined(): void {
    this.selfJoining = false;
  }

  /** Member `name` (process `instance`) finished joining; returns true if it was joining until now. */
  markJoined(name: string, instance: string): boolean {
    const member = this.members.get(name);
    if (!member || member.instance !== instance || !member.joining) return false;
    this.members.set(name, { ...member, joining: false });
    return true;
  }

  get size(): number {
    return this.members.size;
  }

  get(name: string): Member<L> | undefined {
    return this.members.get(name);
  }

  /** Members sorted by name (a readonly snapshot). */
  list(): readonly Member<L>[] {
    return [...this.members.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /**
   * Records a link that has completed hello/welcome with `info`, opened by
   * `initiator`, and says what to do with it or with the link it displaces.
   * Ties (two links between the same pair): keep the one opened by the
   * lexicographically smaller name — both ends compute the same answer, and
   * the smaller name's end closes the other link.
   */
  admit(info: MemberInfo, link: L, initiator: string, joining: boolean): AdmitResult<L> {
    if (info.instance === this.self.instance) return { kind: 'self' };
    if (info.name === this.self.name) {
      return this.selfJoining && instanceWins(info.instance, this.self.instance)
        ? { kind: 'self_loses' }
        : { kind: 'refused' };
    }
    const existing = this.members.get(info.name);
    const entry: Member<L> = { ...info, link, initiator, joining };
    if (!existing) {
      if (this.members.size >= this.maxMembers) return { kind: 'full' };
      this.members.set(info.name, entry);
      return { kind: 'added' };
    }
    if (existing.instance !== info.instance) {
      if (!existing.joining || !instanceWins(info.instance, existing.instance)) return { kind: 'refused' };
      this.members.set(info.name, entry);
      return { kind: 'replaced', drop: existing.link };
    }
    const close = this.self.name < info.name;
    const preferred = close ? this.self.name : info.name;
    if (initiator === preferred && existing.initiator !== preferred) {
      this.members.set(info.name, { ...entry, joining: existing.joining && joining });
      return { kind: 'tie', drop: existing.link, close };
    }
    return { kind: 'tie', drop: link, close };
  }

  /** Removes `name` if `link` is its current link; returns the removed member. */
  remove(name: string, link: L): Member<L> | undefined {
    const member = this.members.get(name);
    if (!member || member.link !== link) return undefined;
    this.members.delete(name);
    return member;
  }

  /**
   * Should a member learned from gossip be dialled? Yes unless it is this
   * process or exactly the member already linked under that name. A different
   * instance under a known name is dialled too: the link's `admit` then
   * settles the conflict against a live process, never against stale gossip.
   */
  shouldDial(info: Pick<MemberInfo, 'name' | 'instance'>): boolean {
    if (info.instance === this.self.instance) return false;
    return this.members.get(info.name)?.instance !== info.instance;
  }
}
