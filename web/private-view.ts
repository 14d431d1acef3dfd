import { $, button, el } from './dom.js';
import type { PrivateEvents, SendState } from './private-chat.js';

/** Conversations kept on the page; past it the least recently used one (not the open one) is dropped. */
const MAX_CONVERSATIONS = 100;
/** Lines kept per conversation; past it the oldest go. */
const MAX_LINES = 500;

interface Conversation {
  readonly name: string;
  readonly list: HTMLOListElement;
  unread: number;
  /** False once a message went or came as readable text (an IRC user). */
  e2e: boolean | null;
}

/**
 * The private conversations on the page (docs/usage.md "The browser"): a
 * list of conversations in the sidebar, one open conversation with its
 * messages (a live region), its encryption status and its compose box.
 * Each sent message shows where it is: sending, received by <name>, saved
 * for <name> (offline), or not delivered (why).
 */
export class PrivateView implements PrivateEvents {
  private readonly conversations = new Map<string, Conversation>();
  private current: Conversation | null = null;

  /** `encrypts(name)`: true/false from the table entry, null when unknown. */
  constructor(private readonly encrypts: (name: string) => boolean | null) {}

  /** Opens (or switches to) the conversation with `name`. */
  open(name: string): void {
    const conv = this.conversation(name);
    this.current = conv;
    conv.unread = 0;
    for (const c of this.conversations.values()) c.list.hidden = c !== conv;
    $('private').hidden = false;
    $('peer').textContent = conv.name;
    this.showEncryption(conv);
    this.showConversations();
  }

  /** The open conversation's name. */
  get peer(): string | null {
    return this.current?.name ?? null;
  }

  message(peer: string, text: string, how: { e2e: boolean; saved: boolean }): void {
    const conv = this.conversation(peer);
    if (!how.e2e) this.markReadable(conv);
    const li = this.line(conv, peer, text, how.saved ? 'saved' : undefined);
    if (how.saved) li.append(el('span', 'left while you were away', 'state'));
    if (conv !== this.current) {
      conv.unread += 1;
      $('private-notice').textContent = `New private message from ${conv.name}`;
      this.showConversations();
    }
  }

  refused(peer: string, why: string): void {
    const conv = this.conversation(peer);
    this.append(conv, el('li', `A message from ${peer} was refused (${why}) and not shown`, 'notice'));
  }

  identityChanged(peer: string): void {
    const text = `Warning: the identity of ${peer} has changed`;
    this.append(this.conversation(peer), el('li', text, 'notice'));
    $('private-notice').textContent = text;
  }

  receipt(peer: string): void {
    for (const li of this.conversation(peer).list.querySelectorAll<HTMLElement>('li[data-state="saved"]')) {
      li.dataset['state'] = 'received';
      li.querySelector('.state')!.textContent = `received by ${peer}`;
    }
  }

  /** Shows a message this page sends to `peer` as sending; returns how to show where it ended up. */
  sending(peer: string, from: string, text: string): (state: SendState) => void {
    const conv = this.conversation(peer);
    const readable = this.encrypts(peer) === false;
    if (readable) this.markReadable(conv);
    const li = this.line(conv, from, text, 'mine');
    li.dataset['state'] = 'sending';
    const state = el('span', 'sending…', 'state');
    li.append(state);
    return (s) => {
      li.dataset['state'] = s.kind;
      if (s.kind === 'received') state.textContent = `received by ${s.by}`;
      else if (s.kind === 'saved') state.textContent = `saved for ${s.by} (offline), not yet received`;
      else state.textContent = `not delivered (${s.reason})`;
      if (s.kind === 'failed') li.classList.add('not-delivered');
      if (s.kind !== 'failed' && readable) state.textContent += ', not end-to-end encrypted';
    };
  }

  private line(conv: Conversation, from: string, text: string, className?: string): HTMLLIElement {
    const li = document.createElement('li');
    if (className) li.className = className;
    li.append(el('bdi', from, 'from'), ': ', el('span', text, 'text'));
    this.append(conv, li);
    return li;
  }

  private append(conv: Conversation, li: HTMLElement): void {
    conv.list.append(li);
    while (conv.list.childElementCount > MAX_LINES) conv.list.firstElementChild!.remove();
    if (conv === this.current) li.scrollIntoView({ block: 'nearest' });
  }

  private markReadable(conv: Conversation): void {
    conv.e2e = false;
    if (conv === this.current) this.showEncryption(conv);
  }

  private showEncryption(conv: Conversation): void {
    const e2e = conv.e2e ?? this.encrypts(conv.name);
    const status = $('private-e2e');
    status.dataset['e2e'] = String(e2e);
    status.textContent =
      e2e === false
        ? `Not end-to-end encrypted: ${conv.name} is an IRC user, so the server can read this conversation.`
        : `End-to-end encrypted: only ${conv.name} can read these messages, not the server.`;
  }

  private conversation(name: string): Conversation {
    const key = name.toLowerCase();
    let conv = this.conversations.get(key);
    if (conv !== undefined) {
      this.conversations.delete(key); // most recently used last
      this.conversations.set(key, conv);
      return conv;
    }
    const list = document.createElement('ol');
    list.className = 'private-messages';
    list.setAttribute('aria-live', 'polite');
    list.hidden = true;
    $('private-log').append(list);
    conv = { name, list, unread: 0, e2e: null };
    this.conversations.set(key, conv);
    for (const [k, c] of this.conversations) {
      if (this.conversations.size <= MAX_CONVERSATIONS) break;
      if (c === this.current) continue;
      c.list.remove();
      this.conversations.delete(k);
    }
    this.showConversations();
    return conv;
  }

  private showConversations(): void {
    $('conversations').replaceChildren(
      ...[...this.conversations.values()].reverse().map((c) => {
        const li = document.createElement('li');
        const b = button(c.name, () => this.open(c.name), `Private conversation with ${c.name}`);
        if (c === this.current) b.setAttribute('aria-current', 'true');
        li.append(b);
        if (c.unread > 0) li.append(el('span', ` (${c.unread} new)`, 'unread'));
        return li;
      }),
    );
  }
}
