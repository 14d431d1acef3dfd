/**
 * Addresses a peer dials on gossip (docs/protocol-mesh.md, "Dialling gossiped
 * members"): at most one dial in flight per `host:port`, and an address whose
 * dial failed is not dialled again on gossip for `FAILED_ADDRESS_BACKOFF_MS`.
 * However many fake members a liar names at one address, and however often,
 * that address gets at most one connection per peer per backoff period.
 * Pure: time is passed in.
 */

/** How long an address whose gossip dial failed is left alone. */
export const FAILED_ADDRESS_BACKOFF_MS = 30_000;
/** Failed addresses remembered at once; the oldest is forgotten first. */
export const MAX_FAILED_ADDRESSES = 1024;

/** Where an address stands: free to dial, being dialled, or failed recently. */
export type AddressState = 'free' | 'busy' | 'failed';

/** The `host:port` key of an address. */
export function addressKey(address: { readonly host: string; readonly port: number }): string {
  return `${address.host}:${address.port}`;
}

/** Dials in flight and recent failures, per address. */
export class AddressBackoff {
  private readonly busy = new Set<string>();
  /** Address → time until which it is left alone; insertion order is age order. */
  private readonly failed = new Map<string, number>();

  constructor(
    private readonly backoffMs = FAILED_ADDRESS_BACKOFF_MS,
    private readonly capacity = MAX_FAILED_ADDRESSES,
  ) {}

  /** Failed addresses remembered now. */
  get size(): number {
    return this.failed.size;
  }

  state(key: string, now: number): AddressState {
    if (this.busy.has(key)) return 'busy';
    const until = this.failed.get(key);
    if (until === undefined) return 'free';
    if (now < until) return 'failed';
    this.failed.delete(key);
    return 'free';
  }

  /** A dial to `key` starts. */
  begin(key: string): void {
    this.busy.add(key);
  }

  /** The dial to `key` ended; a failure is remembered until `now + backoffMs`. */
  end(key: string, ok: boolean, now: number): void {
    this.busy.delete(key);
    this.failed.delete(key); // re-inserted last: the map stays in age order
    if (ok) return;
    if (this.failed.size >= this.capacity) this.failed.delete(this.failed.keys().next().value!);
    this.failed.set(key, now + this.backoffMs);
  }
}
