import { newId } from '../protocol/ids';
import type { Limits } from '../protocol/limits';
import type { Clock } from '../util/clock';
import * as R from './client-results';
import type { DirectSender } from './direct-sender';
import type { Identity } from './identity';
import type { TableCopy } from './table-copy';
import type { ServerLink } from './server-link';

/** A table entry with this port cannot be dialled (an IRC session): messages to it go through the server's relay. */
export const RELAY_PORT = 0;

/** What sending a private message needs of the client around it. */
export interface PrivateSendParts {
  readonly name: string;
  readonly identity: Identity;
  readonly limits: Limits;
  readonly clock: Clock;
  readonly link: ServerLink;
  readonly table: TableCopy;
  readonly sender: DirectSender;
}

/**
 * `send <name> <message>` (docs/usage.md): to an online receiver straight
 * over its listen port (DirectSender); to one that is offline — in the table,
 * or known to the server by `lookup` — through the server, which keeps it,
 * signed as a direct message, until the receiver comes back.
 */
export class PrivateSend {
  constructor(private readonly parts: PrivateSendParts) {}

  async send(name: string, text: string): Promise<R.SendDirectResult> {
    if (text.length > this.parts.limits.maxMessageLength) return 'too_long'; // docs/protocol.md limits
    let entry = this.parts.table.get(name);
    if (entry === undefined) {
      // Not in the table: maybe an account long offline.
      const outcome = await this.parts.link.request({ type: 'lookup', id: newId(), name });
      if (outcome.type === 'error' && outcome.code === 'unknown_client') return 'unknown';
      if (outcome.type !== 'reply') return R.toFailure(outcome);
      if (outcome.entry === undefined) return 'unknown';
      entry = outcome.entry;
    }
    if (entry.online && entry.port === RELAY_PORT) return this.relay(entry.name, text);
    if (entry.online) return this.parts.sender.send(entry, text);
    return this.save(entry.name, text);
  }

  /** docs/protocol.md "Relayed private messages": the server's reply comes once the receiver has it. */
  private async relay(to: string, text: string): Promise<R.SendDirectResult> {
    const outcome = await this.parts.link.request({ type: 'relay_dm', id: newId(), to, body: { text } });
    if (outcome.type === 'reply') return 'received';
    if (outcome.type === 'error' && outcome.code === 'receiver_offline') return this.save(to, text);
    if (outcome.type === 'error' && outcome.code === 'no_ack') return 'no_ack';
    if (outcome.type === 'error' && outcome.code === 'unknown_client') return 'unknown';
    return R.toFailure(outcome);
  }

  /** Hands a signed private message for an offline `to` to the server, which keeps it until `to` comes back. */
  private async save(to: string, text: string): Promise<R.SendDirectResult> {
    const { link, identity, clock, name } = this.parts;
    if (link.reconnecting) return 'offline'; // nobody to keep it now
    const id = newId();
    const fields = { id, from: name, to, text, ts: clock.now() };
    const outcome = await link.request({
      type: 'save_message',
      id,
      message: { ...fields, sig: identity.sign(fields) },
    });
    if (outcome.type === 'reply') return 'saved';
    if (outcome.type === 'error' && outcome.code === 'mailbox_full') return 'mailbox_full';
    if (outcome.type === 'error' && outcome.code === 'unknown_client') return 'unknown';
    return R.toFailure(outcome);
  }
}
