import { $, button, el } from './dom.js';
import { wire } from './forms.js';
import { identityFor } from './identity.js';
import { ServerLink, type Frame, type LinkState } from './link.js';
import { PrivateChat, type PeerEntry } from './private-chat.js';
import { PrivateView } from './private-view.js';
import { KnownKeys } from './pins.js';
import { ReceivedIds } from './received.js';

/**
 * The chat page (docs/usage.md "The browser"). Untrusted text (names,
 * messages, group names) reaches the document only through `textContent`,
 * each inside an element isolated for bidi (`<bdi>`, `dir="auto"`), never
 * through innerHTML.
 */

const MAX_MESSAGE_LENGTH = 4096;
const NAME_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;
const STATE_TEXT: Record<LinkState, string> = {
  connecting: 'Connecting…',
  online: 'Online',
  reconnecting: 'Connection lost, reconnecting…',
  offline: 'Not connected',
};

export class ChatPage {
  private link!: ServerLink;
  private readonly table = new Map<string, PeerEntry>();
  private privateChat!: PrivateChat;
  readonly privateView = new PrivateView((n) => {
    const entry = this.table.get(n.toLowerCase());
    return entry === undefined ? null : PrivateChat.encrypts(entry);
  });
  private group: string | null = null;
  private lastSeq = 0;
  private ackTimer: ReturnType<typeof setTimeout> | null = null;
  private members: string[] = [];

  constructor(private readonly name: string) {}

  async start(): Promise<string | null> {
    const [identity, received, pins] = await Promise.all([
      identityFor(this.name),
      ReceivedIds.load(this.name),
      KnownKeys.load(this.name),
    ]);
    this.link = new ServerLink(this.name, identity, {
      state: (state) => this.showState(state),
      push: (frame) => this.onPush(frame),
      registered: (first) => void this.onRegistered(first),
    });
    const peer = (n: string): PeerEntry | undefined => this.table.get(n.toLowerCase());
    const stores = { received, pins };
    this.privateChat = new PrivateChat(this.name, identity, this.link, peer, stores, this.privateView);
    return this.link.start();
  }

  private showState(state: LinkState): void {
    const status = $('status');
    status.dataset['state'] = state;
    status.textContent = state === 'online' ? `${STATE_TEXT.online} as ${this.name}` : STATE_TEXT[state];
  }

  private async onRegistered(first: boolean): Promise<void> {
    if (!first && this.group !== null) {
      // Re-join after a reconnect and catch up from the last message seen (docs/protocol.md "Group history").
      const answer = await this.link.request({ type: 'join_group', group: this.group, since: this.lastSeq });
      if (answer?.type !== 'reply') this.leftRoom(`You were removed from group ${this.group}`);
      else await this.refreshMembers();
    }
    await this.refreshGroups();
  }

  private onPush(frame: Frame): void {
    switch (frame.type) {
      case 'table':
        return this.applyTable(frame);
      case 'group_msg':
        return this.onGroupMessage(frame);
      case 'presence':
        return this.onPresence(frame);
      case 'removed':
      case 'group_deleted':
        if (frame['group'] === this.group) this.leftRoom(`You left group ${String(frame['group'])}`);
        return void this.refreshGroups();
      case 'relayed_dm':
      case 'saved':
        return this.privateChat.receive(frame);
      case 'receipt':
        return this.privateChat.onReceipt(frame);
      default:
        return undefined;
    }
  }

  private applyTable(frame: Frame): void {
    if (frame['full'] === true) this.table.clear();
    for (const c of frame['clients'] as PeerEntry[]) this.table.set(c.name.toLowerCase(), c);
    if (frame['more'] === true) return;
    // Each name online opens a private conversation with it.
    const online = [...this.table.values()].filter((c) => c.online);
    $('online').replaceChildren(
      ...online.map((c) => {
        const li = document.createElement('li');
        if (c.name.toLowerCase() === this.name.toLowerCase()) li.append(el('span', `${c.name} (you)`));
        else li.append(button(c.name, () => this.privateView.open(c.name), `Private message to ${c.name}`));
        return li;
      }),
    );
  }

  /** Sends a private message to the open conversation; it shows as sending, then where it ended up. */
  async sendPrivate(text: string): Promise<string> {
    const to = this.privateView.peer;
    if (to === null) return 'Choose someone to write to first.';
    if (text.length > MAX_MESSAGE_LENGTH) {
      return `Message too long: ${text.length} characters, maximum is ${MAX_MESSAGE_LENGTH}. Not sent.`;
    }
    const show = this.privateView.sending(to, this.name, text);
    show(await this.privateChat.send(to, text));
    return '';
  }

  private onGroupMessage(frame: Frame): void {
    const seq = Number(frame['seq']);
    if (frame['group'] !== this.group || seq <= this.lastSeq) return this.scheduleAck(frame);
    this.lastSeq = seq;
    this.showMessage(String(frame['from']), String(frame['text']));
    this.scheduleAck(frame);
  }

  /** Group messages are acked with one cumulative group_ack per batch (docs/protocol.md "Group delivery"). */
  private scheduleAck(frame: Frame): void {
    const group = String(frame['group']);
    if (this.ackTimer !== null) return;
    this.ackTimer = setTimeout(() => {
      this.ackTimer = null;
      this.link.notify({ type: 'group_ack', group, seq: this.lastSeq });
    }, 0);
  }

  private onPresence(frame: Frame): void {
    if (frame['group'] !== this.group) return;
    const who = String(frame['name']);
    const joined = frame['state'] === 'joined';
    this.members = joined ? [...this.members.filter((m) => m !== who), who] : this.members.filter((m) => m !== who);
    this.showMembers();
    this.showNotice(`${who} ${joined ? 'joined' : 'left'} the group`);
  }

  private showMessage(from: string, text: string, className?: string): HTMLElement {
    const li = document.createElement('li');
    if (className) li.className = className;
    li.append(el('bdi', from, 'from'), ': ', el('span', text, 'text'));
    $('messages').append(li);
    li.scrollIntoView({ block: 'nearest' });
    return li;
  }

  private showNotice(text: string): void {
    $('messages').append(el('li', text, 'notice'));
  }

  private showMembers(): void {
    $('members').textContent = this.members.length > 0 ? `Members: ${this.members.join(', ')}` : '';
  }

  async refreshGroups(): Promise<void> {
    const answer = await this.link.request({ type: 'list_groups' });
    if (answer?.type !== 'reply') return;
    const items = (answer['groups'] as string[]).map((g) => {
      const li = document.createElement('li');
      li.append(button(g, () => void this.join(g)));
      return li;
    });
    $('groups').replaceChildren(...items);
  }

  async createGroup(group: string): Promise<string> {
    const answer = await this.link.request({ type: 'create_group', group });
    if (answer === null) return 'The server did not answer. Try again.';
    if (answer.type === 'error')
      return answer.code === 'group_exists' ? `Group ${group} already exists` : `Refused (${answer.code})`;
    await this.refreshGroups();
    await this.join(group);
    return '';
  }

  async join(group: string): Promise<void> {
    const answer = await this.link.request({ type: 'join_group', group });
    if (answer?.type !== 'reply')
      return this.showError(answer === null ? 'No answer from the server' : `Cannot join ${group}`);
    this.group = typeof answer['group'] === 'string' ? answer['group'] : group;
    this.lastSeq = Number(answer['seq'] ?? 0);
    $('room-title').textContent = this.group;
    $('leave').hidden = false;
    $('messages').replaceChildren();
    for (const m of (answer['history'] as Array<{ from: string; text: string }> | undefined) ?? []) {
      this.showMessage(m.from, m.text, 'history');
    }
    await this.refreshMembers();
  }

  private async refreshMembers(): Promise<void> {
    const answer = await this.link.request({ type: 'list_members' });
    this.members = answer?.type === 'reply' ? (answer['members'] as string[]) : [];
    this.showMembers();
  }

  async leave(): Promise<void> {
    const answer = await this.link.request({ type: 'leave_group' });
    if (answer !== null) this.leftRoom(`You left group ${this.group ?? ''}`);
  }

  private leftRoom(notice: string): void {
    this.group = null;
    this.members = [];
    $('room-title').textContent = 'No group';
    $('leave').hidden = true;
    this.showMembers();
    this.showNotice(notice);
  }

  /** Sends a group message; it shows as sending, then delivered (the server acked) or not delivered. */
  async send(text: string): Promise<string> {
    if (text.length > MAX_MESSAGE_LENGTH) {
      return `Message too long: ${text.length} characters, maximum is ${MAX_MESSAGE_LENGTH}. Not sent.`;
    }
    if (this.group === null) return 'Join a group first.';
    const li = this.showMessage(this.name, text, 'mine sending');
    const state = el('span', 'sending…', 'state');
    li.append(state);
    const answer = await this.link.request({ type: 'send_group', text });
    if (answer?.type === 'reply') {
      li.className = 'mine';
      state.remove();
    } else {
      li.className = 'mine not-delivered';
      state.textContent = answer === null ? 'not delivered (no answer)' : `not delivered (${answer.code ?? 'error'})`;
    }
    return '';
  }

  private showError(text: string): void {
    $('compose-error').textContent = text;
  }
}

function refusal(code: string): string {
  if (code === 'name_in_use') return 'That name is in use by someone online. Choose another.';
  if (code === 'name_owned')
    return 'That name belongs to another identity (registered from another browser or client).';
  return `The server refused the name (${code}).`;
}

function main(): void {
  const login = $<HTMLFormElement>('login');
  login.addEventListener('submit', (event) => {
    event.preventDefault();
    const name = $<HTMLInputElement>('name').value.trim();
    if (!NAME_PATTERN.test(name)) {
      $('login-error').textContent = 'Names are 1 to 32 letters, digits, - or _.';
      return;
    }
    const page = new ChatPage(name);
    login.querySelector('button')!.disabled = true;
    void page.start().then((code) => {
      if (code !== null) {
        $('login-error').textContent = refusal(code);
        login.querySelector('button')!.disabled = false;
        return;
      }
      login.hidden = true;
      $('chat').hidden = false;
      wire(page);
    });
  });
}

main();
