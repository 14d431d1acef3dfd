import net from 'node:net';
import { FramedConnection } from '../net/framed-connection';
import { listenTcp } from '../net/listen';
import type { DmEnvelope } from '../protocol/dm-envelope';
import type { DirectFrame, FrameOf } from '../protocol/frames';
import type { ErrorCode } from '../protocol/errors';
import type { Limits } from '../protocol/limits';
import { sameName } from '../protocol/names';
import { DIRECT_LINK } from '../protocol/link-frames';
import type { Clock } from '../util/clock';
import { toError } from '../util/errors';
import { TypedEmitter } from '../util/typed-emitter';
import { connectionLimits } from './connection-limits';
import { DmAdmission } from './dm-admission';
import type { OpenFailure } from './dm-crypto';
import type { Identity } from './identity';
import { InboundLinks, type DirectConnection, type InboundLink } from './inbound-links';
import { ReceivedLog } from './received-log';

/** A verified private message. */
export interface DirectMessage {
  readonly id: string;
  readonly from: string;
  readonly text: string;
}

/** Where the listener looks up senders' public keys: the client's copy of the server table. */
export interface KeyDirectory {
  keyOf(name: string): string | undefined;
  /** A message from `name`, signed by `key`, was accepted (the key is pinned, known-clients.ts). */
  exchanged(name: string, key: string): void;
  /** Resolves true at the next table update, false after `timeoutMs` without one. */
  nextUpdate(timeoutMs: number): Promise<boolean>;
}

/** Who takes accepted messages: the ChatClient shows them, or holds them in group mode. */
export interface Inbox {
  /** True when no message can be taken now (the held queue is full): the sender gets `inbox_full`. */
  readonly full: boolean;
  /** Takes one accepted message, each `(from, id)` once. */
  deliver(message: DirectMessage): void;
}

/** Faults of single links (and of the received-messages journal). */
export type PeerListenerEvents = {
  fault: [error: Error];
};

/** Who I am (dms must be addressed to `name`; acks are signed by `identity`), limits, clock, keys, inbox. */
export interface PeerListenerOptions {
  readonly name: string;
  readonly identity: Identity;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly keys: KeyDirectory;
  readonly inbox: Inbox;
  /** The received-messages journal (replays refused across restarts); null = memory only. */
  readonly journal: string | null;
  /** Interface to bind; undefined = every interface. */
  readonly host?: string;
}

type DmFrame = FrameOf<DirectFrame, 'dm'>;
/** What `verify` found: the link went away, a refusal code, or the opened text and the key that signed it. */
type Verified = typeof LINK_GONE | ErrorCode | { readonly key: string; readonly text: string };
/** Acks are never rate limited (FramedConnection `rateExempt`). */
const RATE_EXEMPT: ReadonlySet<DirectFrame['type']> = new Set(['dm_ack']);
/** Dms waiting for the table to learn their sender; past it `unknown_sender` at once. */
const MAX_KEY_WAITS = 64;
/** The link closed (or struck out) while its dm waited: no verdict is sent, and no signature checked. */
const LINK_GONE = 'link_gone';
/** The dm `error` code of each way an envelope fails to open. */
const OPEN_FAILURE_CODE: Record<OpenFailure, ErrorCode> = {
  malformed: 'bad_frame',
  bad_signature: 'bad_signature',
  wrong_recipient: 'wrong_recipient',
  undecryptable: 'undecryptable',
};
/** A text of this many characters seals to at most 4 bytes a character and the 16-byte tag. */
function sealedLimit(maxLength: number): number {
  return 4 * maxLength + 16;
}

/**
 * Accepts direct links from other clients and opens every `dm` envelope
 * (docs/protocol.md "Client ↔ client frames", docs/security.md). Cheap checks
 * run first and a dm failing one is never verified: length, recipient,
 * timestamp, the link's rate, a known sender, the sender's rate and the
 * verify budget; then the Ed25519 signature, the recipient it signs and the
 * decryption (dm-crypto.ts `openEnvelope`); then replay (the received log)
 * and room in the inbox. Relayed envelopes (`takeRelayed`) pass the same
 * checks, bar the link's. An accepted dm is acked with a signed `dm_ack` and
 * handed to the inbox once; a repeat is acked again, not handed over.
 */
export class PeerListener extends TypedEmitter<PeerListenerEvents> {
  private readonly server = net.createServer((socket) => this.accept(socket));
  private readonly links: InboundLinks;
  private readonly admission: DmAdmission;
  private readonly received: ReceivedLog;
  private keyWaits = 0;
  private listening = false;

  constructor(private readonly options: PeerListenerOptions) {
    super();
    const { limits, clock } = options;
    this.links = new InboundLinks(limits, clock);
    this.admission = new DmAdmission(limits, clock);
    this.received = new ReceivedLog({
      capacity: limits.seenIdsCapacity,
      windowMs: limits.directMessageMaxSkewMs,
      clock,
      file: options.journal,
      onFault: (error) => this.emit('fault', error),
    });
  }

  /** Binds the listen port (0 = OS picks); resolves with the bound port. Throws PortInUseError. */
  async listen(port: number): Promise<number> {
    const bound = await listenTcp(this.server, port, this.options.host);
    this.listening = true;
    return bound;
  }

  /** Stops listening and closes every direct link. */
  async close(): Promise<void> {
    const closing: Promise<unknown>[] = [this.links.closeAll()];
    if (this.listening) {
      this.listening = false;
      closing.push(new Promise<void>((resolve) => this.server.close(() => resolve())));
    }
    await Promise.all(closing);
  }

  private accept(socket: net.Socket): void {
    if (!this.listening) return void socket.destroy();
    const limits = connectionLimits(this.options.limits, true);
    const conn: DirectConnection = new FramedConnection(socket, DIRECT_LINK, limits, this.options.clock, RATE_EXEMPT);
    const link = this.links.add(conn);
    if (link === null) return;
    conn.on('fault', (error) => this.emit('fault', error));
    conn.on('frame', (frame) => {
      if (frame.type === 'dm') this.onDm(link, frame);
    });
  }

  /**
   * An envelope the server relayed (docs/protocol.md "Relayed private
   * messages"): null when it was taken (or is a repeat, taken before), else
   * the code the sender is told. Same checks and order as a direct dm.
   */
  async takeRelayed(envelope: DmEnvelope): Promise<ErrorCode | null> {
    const early = this.screen(envelope);
    if (early !== null) return early;
    const key = await this.keyOf(envelope.from);
    if (key === undefined) return 'unknown_sender';
    if (!this.admission.mayVerify(envelope.from, true)) return 'rate_limited';
    const opened = this.options.identity.open(this.options.name, key, envelope);
    if (!opened.ok) {
      this.admission.failed(envelope.from);
      return OPEN_FAILURE_CODE[opened.why];
    }
    return this.take(envelope, key, opened.text);
  }

  /** The checks that cost nothing run at once, in arrival order; an admitted dm then goes on to `verify`. */
  private onDm(link: InboundLink, frame: DmFrame): void {
    if (link.condemned !== null) return; // being closed: its frames are ignored
    const { conn } = link;
    const dm = frame.message;
    const early = this.screen(dm);
    if (early !== null) return conn.sendError(early, undefined, dm.id);
    if (!this.links.admit(link)) return conn.sendError('rate_limited', undefined, dm.id);
    this.links.begin(link);
    void this.verify(link, dm)
      .then((code) => this.answer(link, dm, code))
      .catch((err: unknown) => {
        this.emit('fault', toError(err));
        conn.close('internal_error');
      })
      .finally(() => this.links.settled(link));
  }

  /** Length (of the ciphertext), recipient, timestamp: the rejection code, or null. */
  private screen(dm: DmEnvelope): ErrorCode | null {
    const { name, limits, clock } = this.options;
    if (Buffer.byteLength(dm.ct, 'base64') > sealedLimit(limits.maxMessageLength)) return 'message_too_long';
    if (!sameName(dm.to, name)) return 'wrong_recipient'; // not addressed to me (names compare without case, docs/usage.md)
    if (Math.abs(clock.now() - dm.ts) > limits.directMessageMaxSkewMs) return 'stale_message';
    return null;
  }

  /** Known sender, the sender's rate and the verify budget, then the envelope: a code, or the text when it opened. */
  private async verify(link: InboundLink, dm: DmEnvelope): Promise<Verified> {
    const key = await this.keyOf(dm.from);
    // struck out by an earlier dm of the same read: the rest of its junk is not checked
    if (!link.conn.open || link.condemned === 'too_many_invalid') return LINK_GONE;
    if (key === undefined) return this.strike(link, 'unknown_sender');
    const proven = link.lastAcceptedAt !== null;
    // Over budget on a link that never delivered anything counts as a strike: under a flood of fresh
    // links, each is closed after three refusals instead of being read until its own bucket runs dry.
    if (!this.admission.mayVerify(dm.from, proven)) return proven ? 'rate_limited' : this.strike(link, 'rate_limited');
    const opened = this.options.identity.open(this.options.name, key, dm);
    if (opened.ok) {
      // Proven at once, so the rest of this read no longer draws on the verify budget.
      this.links.accepted(link);
      return { key, text: opened.text };
    }
    this.admission.failed(dm.from);
    return this.strike(link, OPEN_FAILURE_CODE[opened.why]); // docs/security.md: cannot be forged nor read
  }

  /** Counts a bad verdict against the link at once, so later dms of the same read see a struck-out link. */
  private strike<C extends ErrorCode>(link: InboundLink, code: C): C {
    this.links.strike(link);
    return code;
  }

  /** Sends the verdict on a checked dm; an accepted new one is recorded and handed to the inbox first. */
  private answer(link: InboundLink, dm: DmEnvelope, verified: Verified): void {
    const { conn } = link;
    if (verified === LINK_GONE || !conn.open) return;
    const code = typeof verified === 'string' ? verified : this.take(dm, verified.key, verified.text);
    if (code !== null) return conn.sendError(code, undefined, dm.id);
    conn.send({
      type: 'dm_ack',
      id: dm.id,
      sig: this.options.identity.signAck({ id: dm.id, from: dm.from, to: dm.to }),
    });
  }

  /**
   * An opened envelope: its text within the length, then replay (the
   * received log) and room in the inbox. Null when taken (a repeat is taken
   * again, not shown again), else the refusal code.
   */
  private take(dm: DmEnvelope, key: string, text: string): ErrorCode | null {
    if (text.length > this.options.limits.maxMessageLength) return 'message_too_long'; // docs/protocol.md Limits
    const verdict = this.received.check(dm.from, dm.id, dm.ts);
    if (verdict === 'too_old') return 'stale_message';
    if (verdict === 'seen') return null;
    if (this.options.inbox.full) return 'inbox_full';
    this.received.record(dm.from, dm.id, dm.ts); // written down before it is shown
    this.options.keys.exchanged(dm.from, key);
    this.options.inbox.deliver({ id: dm.id, from: dm.from, text });
    return null;
  }

  /** The sender's key; if unknown, waits (bounded) for table updates, since a push may be in flight. */
  private async keyOf(name: string): Promise<string | undefined> {
    const { keys, limits, clock } = this.options;
    let key = keys.keyOf(name);
    if (key !== undefined || this.keyWaits >= MAX_KEY_WAITS) return key;
    // Half the ack timeout, so the sender still hears the verdict before its own timeout.
    const deadline = clock.now() + Math.floor(limits.ackTimeoutMs / 2);
    this.keyWaits++;
    try {
      while (key === undefined) {
        const left = deadline - clock.now();
        if (left <= 0 || !(await keys.nextUpdate(left))) break;
        key = keys.keyOf(name);
      }
    } finally {
      this.keyWaits--;
    }
    return key;
  }
}
