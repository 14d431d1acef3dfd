import type { GroupLineCache } from './delivery-decoder';
import { GroupOrderCheck, LatencyHistogram } from './stats';

/** What BenchRun's heartbeat round calls on every live client. */
export interface HeartbeatClient {
  heartbeat(now: number): void;
}

/** How often the heartbeat round looks for clients that have been silent for a heartbeat interval. */
const HEARTBEAT_TICK_MS = 250;

/** Per-run state shared by every client of one scenario. */
export class BenchRun {
  readonly latency = new LatencyHistogram();
  /** send_group → its reply (the server's accept path only, no fan-out). */
  readonly replyLatency = new LatencyHistogram();
  /** paced: actual send time − scheduled send time (how far the load generator fell behind its schedule). */
  readonly sendLag = new LatencyHistogram();
  readonly order = new GroupOrderCheck();
  /** Error codes received, with counts. */
  readonly errors = new Map<string, number>();
  removals = 0;
  closes = 0;
  deliveries = 0;
  /** Deliveries whose `from` is not the sender named in their text. */
  fromMismatches = 0;
  /** When the last delivery was display-ready (load-generator ms clock). */
  lastDeliveryAt = 0;

  private readonly clients = new Set<HeartbeatClient>();
  private heartbeat: NodeJS.Timeout | null = null;

  constructor(
    readonly cache: GroupLineCache,
    readonly strictDecode: boolean,
  ) {}

  /** Adds a client to the heartbeat round (docs/protocol.md: a link silent for 3 intervals is dead). */
  track(client: HeartbeatClient): void {
    this.clients.add(client);
    this.heartbeat ??= setInterval(() => {
      const now = Date.now();
      for (const c of this.clients) c.heartbeat(now);
    }, HEARTBEAT_TICK_MS).unref();
  }

  untrack(client: HeartbeatClient): void {
    this.clients.delete(client);
    if (this.clients.size === 0 && this.heartbeat !== null) {
      clearInterval(this.heartbeat);
      this.heartbeat = null;
    }
  }

  countError(code: string): void {
    this.errors.set(code, (this.errors.get(code) ?? 0) + 1);
  }
}
