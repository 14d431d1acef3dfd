import type { ClientEntry } from '../protocol/frames';

/**
 * What one node of a cluster tells the others (docs/scaling.md "The cluster
 * feed"): the store publishes each event in the same atomic step as the
 * change it describes, so every node receives them in the one order the
 * store applied them. `node` is the node that made the change (for a node
 * that died, the dead node: the survivors all apply it).
 */
export type ClusterEvent =
  /** A group message, with its cluster-wide seq: every node, the sender's included, delivers it to its members. */
  | {
      readonly t: 'msg';
      readonly node: string;
      readonly group: string;
      readonly seq: number;
      readonly from: string;
      readonly text: string;
    }
  /** A client-table entry changed (registered, offline, account deleted). */
  | { readonly t: 'table'; readonly node: string; readonly entry: ClientEntry }
  /** `member` joined or left `group`. */
  | { readonly t: 'joined' | 'left'; readonly node: string; readonly group: string; readonly member: string }
  /** `group` was deleted; these were its members. */
  | { readonly t: 'groupDeleted'; readonly node: string; readonly group: string; readonly members: readonly string[] };

/** Where a clustered server gets the other nodes' changes from. */
export interface ClusterFeed {
  /** This node's id: events it made itself carry it. */
  readonly nodeId: string;
  /** Calls `listener` with every event, in the store's order. */
  onEvent(listener: (event: ClusterEvent) => void): void;
  /** Calls `listener` after the feed was interrupted and is back (events may have been missed meanwhile). */
  onResumed(listener: () => void): void;
  /**
   * After an outage: every name this node still holds in the store whose
   * connection is not in `live()` goes offline (its disconnect could not be
   * stored while the store was away). Done once the other nodes have had
   * time to be back on the feed too, so they see it.
   */
  reconcileSoon(live: () => readonly number[]): void;
}

const KINDS: ReadonlySet<string> = new Set(['msg', 'table', 'joined', 'left', 'groupDeleted']);

/** Parses one published event; null for anything malformed (it is ignored, never trusted). */
export function parseClusterEvent(json: string): ClusterEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const event = value as { t?: unknown; node?: unknown; members?: unknown };
  if (typeof event.t !== 'string' || !KINDS.has(event.t) || typeof event.node !== 'string') return null;
  // cjson encodes an empty Lua table as an object.
  if (event.t === 'groupDeleted' && !Array.isArray(event.members)) event.members = [];
  return value as ClusterEvent;
}
