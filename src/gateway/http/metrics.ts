import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { ChatServer } from '../../server/chat-server';
import type { ChatStore } from '../../store/chat-store';

/** Ack latency buckets (seconds): 1 ms to the default 500 ms ack timeout and past it. */
const ACK_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

/**
 * The Prometheus metrics of one server (docs/operations.md "Metrics"). The
 * counters are fed only by ChatServer's events (docs/events.md): no handler
 * knows about metrics. The gauges read the server's stats and the store when
 * scraped.
 */
export class ServerMetrics {
  readonly registry = new Registry();

  constructor(server: ChatServer, store: ChatStore) {
    collectDefaultMetrics({ register: this.registry });
    this.gauges(server, store);
    this.counters(server);
  }

  /** The exposition text and its content type, for `/metrics`. */
  async exposition(): Promise<{ readonly body: string; readonly contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }

  private gauges(server: ChatServer, store: ChatStore): void {
    const registers = [this.registry];
    new Gauge({
      name: 'chatapp_connected_clients',
      help: 'Open client connections, registered or not',
      registers,
      collect() {
        this.set(server.stats().connections);
      },
    });
    new Gauge({
      name: 'chatapp_online_clients',
      help: 'Connections bound to a registered name',
      registers,
      collect() {
        this.set(server.stats().registered);
      },
    });
    new Gauge({
      name: 'chatapp_unacked_deliveries',
      help: 'Group deliveries sent and not yet acked',
      registers,
      collect() {
        this.set(server.stats().unackedDeliveries);
      },
    });
    new Gauge({
      name: 'chatapp_registered_accounts',
      help: 'Accounts (names bound to a key), online or not',
      registers,
      async collect() {
        this.set((await store.counts()).accounts);
      },
    });
    new Gauge({
      name: 'chatapp_groups',
      help: 'Groups the server holds',
      registers,
      async collect() {
        this.set((await store.groups()).length);
      },
    });
    new Gauge({
      name: 'chatapp_saved_messages_waiting',
      help: 'Saved messages not yet acknowledged by their receiver',
      registers,
      async collect() {
        this.set((await store.counts()).saved);
      },
    });
  }

  private counters(server: ChatServer): void {
    const registers = [this.registry];
    const framesIn = new Counter({
      name: 'chatapp_frames_received_total',
      help: 'Frames received from clients, by frame type',
      labelNames: ['type'],
      registers,
    });
    const deliveries = new Counter({
      name: 'chatapp_deliveries_total',
      help: 'Messages queued to clients, by kind (group: live and catch-up; saved)',
      labelNames: ['kind'],
      registers,
    });
    const rejected = new Counter({
      name: 'chatapp_frames_rejected_total',
      help: 'Frames refused, by error code',
      labelNames: ['reason'],
      registers,
    });
    const removed = new Counter({
      name: 'chatapp_members_removed_total',
      help: 'Members removed from a group for not acking in time (unresponsive) or falling too far behind (slow)',
      labelNames: ['reason'],
      registers,
    });
    const slowDropped = new Counter({
      name: 'chatapp_slow_readers_dropped_total',
      help: 'Connections dropped because their outbound queue stayed full (slow_consumer)',
      registers,
    });
    const ackLatency = new Histogram({
      name: 'chatapp_group_ack_latency_seconds',
      help: 'Time from a group delivery to the ack that covered it (the oldest delivery of each ack)',
      buckets: ACK_BUCKETS,
      registers,
    });
    server.on('frameReceived', (type) => framesIn.inc({ type }));
    server.on('delivered', (kind, count) => deliveries.inc({ kind }, count));
    server.on('frameRejected', (reason) => rejected.inc({ reason }));
    server.on('groupLeft', (_name, _group, reason) => {
      if (reason === 'unresponsive' || reason === 'slow') removed.inc({ reason });
    });
    server.on('connectionClosed', (code) => {
      if (code === 'slow_consumer') slowDropped.inc();
    });
    server.on('groupAcked', (ms) => ackLatency.observe(ms / 1000));
  }
}
