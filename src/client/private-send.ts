import type { ErrorCode } from '../protocol/errors';
import type { ClientEntry } from '../protocol/frames';
import { newId } from '../protocol/ids';
import type { Limits } from '../protocol/limits';
import type { Clock } from '../util/clock';
import * as R from './client-results';
import type { DirectSender } from './direct-sender';
import { entryEncryption } from './entry-keys';
import type { Identity } from './identity';
import type { TableCopy } from './table-copy';
import type { ServerLink } from './server-link';

/** A table entry with this port cannot be dialled (an IRC session, a browser page): messages to it go through the server's relay. */
export const RELAY_PORT = 0;

/** Where sending reports the keys it meets: an entry the server showed, and a key a message went to. */
export interface SendKeys {
  /** An entry from a `lookup` reply (table entries are checked as they arrive). */
  seen(entry: ClientEntry): void;
  /** A message to `name` under `key` was received or saved (the key is pinned, known-clients.ts). */
  exchanged(name: string, key: string): void;
}

/** What sending a private message needs of the client around it. */
export interface PrivateSendParts {
  readonly name: string;
  readonly identity: Identity;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly link: ServerLink;
  readonly table: TableCopy;
  readonly sender: DirectSender;
  readonly keys: SendKeys;
}

/** Codes the server answers `relay_dm` with that mean what the receiver did, not what the server did. */
const RECEIVER_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'bad_signature',
  'unknown_sender',
  'wrong_recipient',
  'stale_message',
  'undecryptable',
  'inbox_full',
  'bad_frame',
]);

/**
 * `send <name> <message>` (docs/usage.md): sealed for the receiver's
 * published X25519 key and signed (docs/security.md "End-to-end
 * encryption"), then to an online receiver straight over its listen port
 * (DirectSender), or through the server's relay when it cannot be dialled;
 * to one that is offline — in the table, or known to the server by
 * `lookup` — through the server, which keeps the envelope until the receiver
 * comes back. Readable text goes only to an IRC session (an entry without a
 * key), through the relay; an entry whose key its owner did not sign gets
 * nothing.
 */
export class PrivateSend {
  constructor(private readonly parts: PrivateSendParts) {}

  async send(name: string, text: string): Promise<R.SendDirectResult> {
    if (text.length > this.parts.limits.maxMessageLength) return 'too_long'; // docs/protocol.md limits
    const entry = this.parts.table.get(name) ?? (await this.lookup(name));
    if (typeof entry === 'string' || !('key' in entry)) return entry;
    const result = await this.sendTo(entry, text);
    if (result === 'received' || result === 'saved') this.parts.keys.exchanged(entry.name, entry.key);
    return result;
  }

  private async sendTo(entry: ClientEntry, text: string): Promise<R.SendDirectResult> {
    const encryption = entryEncryption(entry);
    if (encryption === 'forged') return { rejected: 'bad_signature' }; // docs/security.md: a swapped key
    const ekey = encryption === 'none' ? null : encryption.ekey;
    if (entry.online && entry.port === RELAY_PORT) return this.relay(entry, ekey, text);
    if (ekey === null) return entry.online ? { rejected: 'e2e_required' } : 'offline'; // nothing to seal for
    if (entry.online) return this.parts.sender.send(entry, ekey, text);
    return this.save(entry.name, ekey, text);
  }

  /** Not in the table: maybe an account long offline. */
  private async lookup(name: string): Promise<ClientEntry | R.SendDirectResult> {
    const outcome = await this.parts.link.request({ type: 'lookup', id: newId(), name });
    if (outcome.type === 'error' && outcome.code === 'unknown_client') return 'unknown';
    if (outcome.type !== 'reply') return R.toFailure(outcome);
    if (outcome.entry === undefined) return 'unknown';
    this.parts.keys.seen(outcome.entry);
    return outcome.entry;
  }

  /**
   * docs/protocol.md "Relayed private messages": sealed when the receiver
   * has a key, readable only to an IRC session. The server's reply comes once
   * the receiver has it, or carries the receiver's refusal.
   */
  private async relay(entry: ClientEntry, ekey: string | null, text: string): Promise<R.SendDirectResult> {
    const { link, identity, clock, name } = this.parts;
    const id = newId();
    const body =
      ekey === null ? { text } : { enc: identity.seal(name, { id, to: entry.name, ts: clock.now() }, ekey, text) };
    const outcome = await link.request({ type: 'relay_dm', id, to: entry.name, body });
    if (outcome.type === 'reply') return 'received';
    if (outcome.type !== 'error') return R.toFailure(outcome);
    if (outcome.code === 'receiver_offline') return ekey === null ? 'offline' : this.save(entry.name, ekey, text);
    if (outcome.code === 'no_ack') return 'no_ack';
    if (outcome.code === 'unknown_client') return 'unknown';
    if (outcome.code === 'inbox_full') return 'receiver_full';
    if (RECEIVER_CODES.has(outcome.code)) return { rejected: outcome.code };
    return R.toFailure(outcome);
  }

  /** Hands a sealed private message for an offline `to` to the server, which keeps it until `to` comes back. */
  private async save(to: string, ekey: string, text: string): Promise<R.SendDirectResult> {
    const { link, identity, clock, name } = this.parts;
    if (link.reconnecting) return 'offline'; // nobody to keep it now
    const id = newId();
    const message = identity.seal(name, { id, to, ts: clock.now() }, ekey, text);
    const outcome = await link.request({ type: 'save_message', id, message });
    if (outcome.type === 'reply') return 'saved';
    if (outcome.type === 'error' && outcome.code === 'mailbox_full') return 'mailbox_full';
    if (outcome.type === 'error' && outcome.code === 'unknown_client') return 'unknown';
    return R.toFailure(outcome);
  }
}
