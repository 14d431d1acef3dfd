/**
 * How far a member's word is taken (docs/protocol-mesh.md, "Dialling gossiped
 * members"). A member that lists another in `welcome` or `members` vouches for
 * having reached it; dialling a member we only know from gossip is paid for by
 * one of the members that vouched for it. Each voucher has `CLAIM_CREDIT`
 * credits: a dial it pays for holds one while in flight; a claim that held
 * (the dialled member answered) gives it back and forgives one earlier strike,
 * a false one (nobody answered as that member) keeps it as a strike for good.
 * So the dials a lying member can cause, in flight and failed together, never
 * exceed `CLAIM_CREDIT` for as long as its link lives; honest members, whose
 * claims hold, never run out. Pure: no socket, no clock.
 */

/** Unconfirmed claims (in flight plus failed) a member may have: the most connections its lies can open from one peer. */
export const CLAIM_CREDIT = 8;
/** Members whose accounts are kept (one per linked member; a peer links at most 1,024). */
export const MAX_VOUCHERS = 2048;

interface Account {
  /** Dials this voucher pays for that are still in flight. */
  outstanding: number;
  /** Its claims that turned out false (less those forgiven by true ones). */
  strikes: number;
}

/** Per-voucher credit for dials made on its word. Vouchers are member instance ids. */
export class VouchLedger {
  private readonly accounts = new Map<string, Account>();

  constructor(
    private readonly credit = CLAIM_CREDIT,
    private readonly capacity = MAX_VOUCHERS,
  ) {}

  /** Vouchers with an account. */
  get size(): number {
    return this.accounts.size;
  }

  /**
   * Opens an account for `voucher` if it has none. Returns false when its
   * word is no longer taken (it has used up its credit on false claims).
   */
  open(voucher: string): boolean {
    const account = this.accounts.get(voucher);
    if (account) return account.strikes < this.credit;
    if (this.accounts.size >= this.capacity) this.evictIdle();
    this.accounts.set(voucher, { outstanding: 0, strikes: 0 });
    return true;
  }

  /** The first of `vouchers` with a credit free now, or null when none can pay now. */
  payer(vouchers: Iterable<string>): string | null {
    for (const voucher of vouchers) {
      const account = this.accounts.get(voucher);
      if (account && account.outstanding + account.strikes < this.credit) return voucher;
    }
    return null;
  }

  /** `voucher` pays for one dial (see `payer`); `settle` ends it. */
  charge(voucher: string): void {
    const account = this.accounts.get(voucher);
    if (account) account.outstanding++;
  }

  /** Could one of `vouchers` pay later? Only if one still has a dial in flight (its outcome may free a credit). */
  mayPayLater(vouchers: Iterable<string>): boolean {
    for (const voucher of vouchers) {
      const account = this.accounts.get(voucher);
      if (account && account.outstanding > 0 && account.strikes < this.credit) return true;
    }
    return false;
  }

  /** The dial `voucher` paid for ended: `held` when the member it named answered. */
  settle(voucher: string, held: boolean): void {
    const account = this.accounts.get(voucher);
    if (!account) return; // forgotten while the dial was in flight
    account.outstanding = Math.max(0, account.outstanding - 1);
    if (held) account.strikes = Math.max(0, account.strikes - 1);
    else account.strikes++;
  }

  /** The member is gone: its claims go with it. */
  forget(voucher: string): void {
    this.accounts.delete(voucher);
  }

  /** Makes room: drops the oldest account with nothing in flight (the table never gets here in practice). */
  private evictIdle(): void {
    for (const [voucher, account] of this.accounts) {
      if (account.outstanding === 0) {
        this.accounts.delete(voucher);
        return;
      }
    }
  }
}
