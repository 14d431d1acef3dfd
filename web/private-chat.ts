import { openEnvelope, sealEnvelope, verifyEncryptionKey, type DmEnvelope, type OpenFailure } from './e2e-crypto.js';
import type { Identity } from './identity.js';
import type { Frame } from './link.js';
import type { KnownKeys } from './pins.js';
import type { ReceivedIds } from './received.js';

/**
 * The page's private messages (docs/usage.md "The browser", docs/protocol.md
 * "Relayed private messages"): a page cannot take direct connections, so
 * every private message goes through the server — sealed by the page into
 * the end-to-end envelope (web/e2e-crypto.ts) for anyone who published a
 * signed X25519 key, as readable text only to an IRC session (a table entry
 * without one), and saved on the server, still sealed, for an offline
 * receiver. No DOM here: the view hears what happened through PrivateEvents.
 */

/** A client table entry as the server sends it (docs/protocol.md `table`, `lookup`). */
export interface PeerEntry {
  readonly name: string;
  readonly online: boolean;
  readonly port: number;
  readonly key: string;
  readonly ekey?: string;
  readonly ekeySig?: string;
}

/** Where a sent message is: shown next to it. */
export type SendState =
  | { readonly kind: 'received'; readonly by: string }
  | { readonly kind: 'saved'; readonly by: string }
  | { readonly kind: 'failed'; readonly reason: string };

/** What the view is told. */
export interface PrivateEvents {
  /** A message to show in the conversation with `peer`; `e2e` false for an IRC user's readable text. */
  message(peer: string, text: string, how: { e2e: boolean; saved: boolean }): void;
  /** A message from `peer` that failed its checks was not shown. */
  refused(peer: string, why: string): void;
  /** `peer` got the messages saved for it. */
  receipt(peer: string): void;
  /** The server's table shows another identity key for `peer` than the one pinned (now re-pinned). */
  identityChanged(peer: string): void;
}

/** What the page keeps per identity in IndexedDB for its private messages. */
export interface PrivateStores {
  readonly received: ReceivedIds;
  readonly pins: KnownKeys;
}

/** What the page's server link offers (web/link.ts). */
export interface RequestLink {
  request(frame: Record<string, unknown>): Promise<Frame | null>;
  notify(frame: Record<string, unknown>): void;
}

/** The relayed message timestamp window, as the CLI's for a direct message (`directMessageMaxSkewMs`). */
const MAX_SKEW_MS = 5 * 60_000;
/** The relay port of a table entry that cannot be dialled (docs/protocol.md). */
const RELAY_PORT = 0;
/** Verified (key, ekey, ekeySig) triples remembered, so a send does not verify again. */
const MAX_VERIFIED = 1_000;

/** A checked message: its text, or why it is not shown. */
type Verdict =
  { text: string; saved: boolean } | OpenFailure | 'seen' | 'stale_message' | 'unknown_sender' | 'e2e_required';

export class PrivateChat {
  private readonly verified = new Set<string>();

  constructor(
    private readonly me: string,
    private readonly identity: Identity,
    private readonly link: RequestLink,
    private readonly table: (name: string) => PeerEntry | undefined,
    private readonly stores: PrivateStores,
    private readonly events: PrivateEvents,
    private readonly now: () => number = Date.now,
  ) {}

  /** True when messages to `entry` are end-to-end encrypted (it published a key); false for an IRC user. */
  static encrypts(entry: PeerEntry): boolean {
    return entry.ekey !== undefined;
  }

  /** Sends `text` to `name`; resolves with where it ended up. */
  async send(name: string, text: string): Promise<SendState> {
    const entry = await this.entryOf(name);
    if (entry === null) return failed(`no one is called ${name}`);
    if (typeof entry === 'string') return failed(entry);
    this.pin(entry.name, entry.key);
    if (entry.ekey === undefined || entry.ekeySig === undefined) return this.sendReadable(entry, text);
    if (!(await this.keyHolds(entry)))
      return failed(`the encryption key of ${entry.name} is not signed by its identity`);
    const header = { id: crypto.randomUUID(), from: this.me, to: entry.name, ts: this.now() };
    const enc = await sealEnvelope(this.identity.privateKey, header, entry.ekey, text);
    if (!entry.online) return this.save(entry.name, enc);
    const answer = await this.link.request({ type: 'relay_dm', id: enc.id, to: entry.name, body: { enc } });
    if (answer?.type === 'error' && answer.code === 'receiver_offline') return this.save(entry.name, enc);
    return outcome(entry.name, answer);
  }

  /** To an IRC session (no encryption key): readable text through the relay, as the server allows only there. */
  private async sendReadable(entry: PeerEntry, text: string): Promise<SendState> {
    if (entry.port !== RELAY_PORT) return failed(`${entry.name} has no encryption key`);
    if (!entry.online) return failed(`${entry.name} is offline`);
    const answer = await this.link.request({
      type: 'relay_dm',
      id: crypto.randomUUID(),
      to: entry.name,
      body: { text },
    });
    return outcome(entry.name, answer);
  }

  /** Leaves the sealed envelope on the server for an offline receiver (docs/protocol.md "Saved messages"). */
  private async save(to: string, enc: DmEnvelope): Promise<SendState> {
    const answer = await this.link.request({ type: 'save_message', id: enc.id, message: enc });
    if (answer?.type === 'reply') return { kind: 'saved', by: to };
    if (answer?.code === 'mailbox_full') return failed(`the mailbox of ${to} is full`);
    return outcome(to, answer);
  }

  /**
   * The table's entry for `name`, else the server's (an account long
   * offline); null for no such name, or why the server could not say.
   */
  private async entryOf(name: string): Promise<PeerEntry | null | string> {
    const known = this.table(name);
    if (known !== undefined) return known;
    const answer = await this.link.request({ type: 'lookup', name });
    if (answer === null) return 'no answer from the server';
    if (answer.type === 'reply') return (answer['entry'] as PeerEntry | undefined) ?? null;
    return answer.code === 'unknown_client' ? null : `refused: ${answer.code ?? 'error'}`;
  }

  /** Its `ekeySig` proves the entry's own identity published its `ekey`: a server cannot swap it. */
  private async keyHolds(entry: PeerEntry): Promise<boolean> {
    const triple = `${entry.name}|${entry.key}|${entry.ekey}|${entry.ekeySig}`;
    if (this.verified.has(triple)) return true;
    const ok = await verifyEncryptionKey(entry.key, entry.name, entry.ekey ?? '', entry.ekeySig ?? '');
    if (ok) {
      if (this.verified.size >= MAX_VERIFIED) this.verified.clear();
      this.verified.add(triple);
    }
    return ok;
  }

  /**
   * Incoming private messages are handled one at a time, in arrival order:
   * their checks are asynchronous (WebCrypto, IndexedDB), and a later short
   * one must not overtake an earlier long one.
   */
  private inbound: Promise<void> = Promise.resolve();

  /** Queues a pushed `relayed_dm` or `saved` frame for `handle`. */
  receive(frame: Frame): void {
    const handle = (): Promise<void> => (frame.type === 'saved' ? this.onSaved(frame) : this.onRelayed(frame));
    this.inbound = this.inbound.then(handle).catch((err: unknown) => reportError(err)); // seen as a page error, not lost
  }

  /** A `relayed_dm`: opened and checked (or an IRC user's text), shown once, then acked. */
  private async onRelayed(frame: Frame): Promise<void> {
    const id = String(frame.id);
    const from = String(frame['from']);
    const body = (frame['body'] ?? {}) as { enc?: unknown; text?: unknown };
    const { verdict, key } =
      typeof body.text === 'string'
        ? await this.checkReadable(from, body.text)
        : await this.checkRelayed(from, body.enc);
    if (typeof verdict !== 'string') {
      this.pin(from, key);
      this.events.message(from, verdict.text, { e2e: typeof body.text !== 'string', saved: verdict.saved });
      return this.link.notify({ type: 'relayed_ack', id });
    }
    if (verdict === 'seen') return this.link.notify({ type: 'relayed_ack', id }); // shown already: ack again
    this.events.refused(from, verdict);
    // The refusal goes back to the sender as its reply (docs/protocol.md "Relayed private messages").
    this.link.notify({ type: 'relayed_ack', id, code: verdict === 'malformed' ? 'bad_frame' : verdict });
  }

  /**
   * Readable text is for IRC users only: from a sender that publishes an
   * encryption key it is refused (`e2e_required`), so a server cannot put
   * words in an encrypting sender's mouth (docs/protocol.md "Relayed private
   * messages").
   */
  private async checkReadable(from: string, text: string): Promise<{ verdict: Verdict; key: string }> {
    const sender = await this.entryOf(from);
    if (sender === null || typeof sender === 'string') return { verdict: 'unknown_sender', key: '' };
    if (PrivateChat.encrypts(sender)) return { verdict: 'e2e_required', key: sender.key };
    return { verdict: { text, saved: false }, key: sender.key };
  }

  /**
   * Checks a relayed envelope with the sender's key from the table. A sender
   * that registered again with another key may write before the table
   * update reaches this page: on a bad signature the page asks the server
   * for the sender's entry once, and checks again if the key changed.
   */
  private async checkRelayed(from: string, enc: unknown): Promise<{ verdict: Verdict; key: string }> {
    const sender = await this.entryOf(from);
    if (sender === null || typeof sender === 'string') return { verdict: 'unknown_sender', key: '' };
    const verdict = await this.check(from, sender.key, enc, true);
    if (verdict !== 'bad_signature' || this.table(from) === undefined) return { verdict, key: sender.key };
    const fresh = await this.link.request({ type: 'lookup', name: from });
    const entry = fresh?.type === 'reply' ? (fresh['entry'] as PeerEntry | undefined) : undefined;
    if (entry === undefined || entry.key === sender.key) return { verdict, key: sender.key };
    return { verdict: await this.check(from, entry.key, enc, true), key: entry.key };
  }

  /** A `saved` message (left while this page was away): shown once if it holds, acked either way. */
  private async onSaved(frame: Frame): Promise<void> {
    const message = frame['message'] as { id?: unknown; from?: unknown } | undefined;
    const from = String(message?.from);
    const key = String(frame['key']);
    const verdict = await this.check(from, key, message, false);
    if (typeof verdict !== 'string') {
      this.pin(from, key);
      this.events.message(from, verdict.text, { e2e: true, saved: true });
    } else if (verdict !== 'seen') this.events.refused(from, verdict);
    this.link.notify({ type: 'saved_ack', id: String(message?.id) });
  }

  /**
   * The receiver's checks in docs/protocol.md's order — shape, signature,
   * `to` is me, the AES-GCM tag — then, for a relayed message, the
   * timestamp window, and for every message the replay memory, written
   * before the message is shown.
   */
  private async check(from: string, senderKey: string, input: unknown, live: boolean): Promise<Verdict> {
    const me = { name: this.me, encryptionKey: this.identity.encryptionKey, ekey: this.identity.ekey };
    const opened = await openEnvelope(me, senderKey, input);
    if (!opened.ok) return opened.why;
    const enc = input as DmEnvelope;
    if (enc.from.toLowerCase() !== from.toLowerCase()) return 'bad_signature';
    if (live && Math.abs(this.now() - enc.ts) > MAX_SKEW_MS) return 'stale_message';
    const replay = this.stores.received.check(enc.from, enc.id, enc.ts);
    if (replay === 'seen') return 'seen';
    if (replay === 'too_old') return 'stale_message';
    await this.stores.received.record(enc.from, enc.id, enc.ts);
    return { text: opened.text, saved: !live };
  }

  /** Pins `name`'s identity key on first exchange; another key later is announced once and re-pinned. */
  private pin(name: string, key: string): void {
    if (this.stores.pins.see(name, key) === 'changed') this.events.identityChanged(name);
  }

  /** `receipt{name}`: the messages saved for `name` reached it. */
  onReceipt(frame: Frame): void {
    this.events.receipt(String(frame['name']));
  }
}

function failed(reason: string): SendState {
  return { kind: 'failed', reason };
}

/** The server's answer to a relay or save, as a state the page shows. */
function outcome(to: string, answer: Frame | null): SendState {
  if (answer === null) return failed('no answer from the server');
  if (answer.type === 'reply') return { kind: 'received', by: to };
  switch (answer.code) {
    case 'unknown_client':
      return failed(`no one is called ${to}`);
    case 'receiver_offline':
      return failed(`${to} is offline`);
    case 'no_ack':
      return failed(`no answer from ${to}`);
    case 'message_too_long':
      return failed('too long');
    case 'bad_signature':
    case 'wrong_recipient':
    case 'stale_message':
    case 'undecryptable':
    case 'unknown_sender':
    case 'e2e_required':
    case 'inbox_full':
    case 'bad_frame':
      return failed(`${to} rejected the message (${answer.code})`);
    default:
      return failed(`refused: ${answer.code ?? 'error'}`);
  }
}
