import { isIP } from 'node:net';
import { RateLimiter } from '../net/rate-limit';
import type { Clock } from '../util/clock';

/** Per-address bounds (docs/security.md "Per-address limits"). */
export interface AddressLimitOptions {
  /** Open connections one address may have. */
  readonly maxConnections: number;
  /** Registrations one address may make per second (sustained), with a burst of 5 s worth. */
  readonly registrationsPerSec: number;
  /** Loopback addresses are not limited (as IRC servers exempt localhost), unless this is false. */
  readonly exemptLoopback: boolean;
}

interface AddressState {
  connections: number;
  readonly registrations: RateLimiter;
}

/** Burst of registrations, in seconds of the sustained rate. */
const REGISTRATION_BURST_SECONDS = 5;

/**
 * How long an address with no connection left is remembered: the time its
 * registration bucket takes to refill from empty. Forgotten at once, an
 * address could reconnect for each name and get a fresh burst every time
 * (test/hostile/registration-churn.hostile.test.ts).
 */
const REST_MS = REGISTRATION_BURST_SECONDS * 1000;

/** Addresses remembered without a connection at most (the oldest are forgotten early past it). */
export const MAX_RESTING_ADDRESSES = 65_536;

/**
 * Connections and registrations per remote address, as IRC servers limit
 * them: one address cannot hold the connection table or churn names at will.
 * An address is forgotten once it has had no connection for `REST_MS`, so
 * the map is bounded by the open connections and the addresses that closed
 * their last one in the last 5 s (at most MAX_RESTING_ADDRESSES of those).
 */
export class AddressLimits {
  private readonly byAddress = new Map<string, AddressState>();
  /** Addresses whose last connection closed, with when they may be forgotten, oldest first. */
  private readonly resting = new Map<string, number>();

  constructor(
    private readonly options: AddressLimitOptions,
    private readonly clock: Clock,
  ) {}

  /** A connection from `address` opens: false (and nothing counted) when the address is at its limit. */
  open(address: string | undefined): boolean {
    if (this.exempt(address)) return true;
    const state = this.state(address!);
    if (state.connections >= this.options.maxConnections) return false;
    state.connections++;
    return true;
  }

  /** A connection from `address` that `open` admitted closed. */
  close(address: string | undefined): void {
    if (this.exempt(address)) return;
    const state = this.byAddress.get(address!);
    if (state === undefined) return;
    state.connections--;
    if (state.connections > 0) return;
    this.resting.delete(address!); // re-inserted last: the map stays in expiry order
    this.resting.set(address!, this.clock.now() + REST_MS);
    this.forgetRested();
  }

  /** A connection from `address` registers: false when the address registers faster than allowed. */
  register(address: string | undefined): boolean {
    if (this.exempt(address)) return true;
    return this.state(address!).registrations.take();
  }

  private exempt(address: string | undefined): boolean {
    if (address === undefined) return true; // not a network stream (tests, in-process gateways)
    return this.options.exemptLoopback && isLoopback(address);
  }

  /** Forgets resting addresses whose time is up (and the oldest past MAX_RESTING_ADDRESSES), unless they came back. */
  private forgetRested(): void {
    const now = this.clock.now();
    for (const [address, until] of this.resting) {
      if (until > now && this.resting.size <= MAX_RESTING_ADDRESSES) break;
      this.resting.delete(address);
      if ((this.byAddress.get(address)?.connections ?? 0) <= 0) this.byAddress.delete(address);
    }
  }

  private state(address: string): AddressState {
    let state = this.byAddress.get(address);
    if (state === undefined) {
      this.forgetRested();
      const rate = this.options.registrationsPerSec;
      state = {
        connections: 0,
        registrations: new RateLimiter(rate, Math.max(1, rate * REGISTRATION_BURST_SECONDS), this.clock),
      };
      this.byAddress.set(address, state);
    }
    return state;
  }
}

/** 127.0.0.0/8, ::1 and their IPv4-mapped forms. */
export function isLoopback(address: string): boolean {
  const bare = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  return bare === '::1';
}
