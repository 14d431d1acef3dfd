import { HeldInbox } from '../../src/client/held-messages';
import type { DirectMessage } from '../../src/client/client-results';

/** docs/usage.md "Group mode": private messages held while in a group, bounded. */

function setup(capacity: number) {
  const shown: string[] = [];
  const state = { inGroup: false };
  const inbox = new HeldInbox(
    capacity,
    () => state.inGroup,
    (m) => shown.push(m.text),
  );
  return { inbox, shown, state };
}

const msg = (text: string): DirectMessage => ({ id: text, from: 'alice', text });

describe('HeldInbox', () => {
  it('shows at once in normal mode; never full there', () => {
    const { inbox, shown } = setup(0);
    expect(inbox.full).toBe(false);
    inbox.deliver(msg('a'));
    expect(shown).toEqual(['a']);
  });

  it('holds in group mode up to capacity, then is full; release hands them over in order and empties', () => {
    const { inbox, shown, state } = setup(2);
    state.inGroup = true;
    inbox.deliver(msg('a'));
    expect(inbox.full).toBe(false);
    inbox.deliver(msg('b'));
    expect([inbox.full, inbox.size, shown]).toEqual([true, 2, []]);
    expect(inbox.release().map((m) => m.text)).toEqual(['a', 'b']);
    expect([inbox.full, inbox.size]).toEqual([false, 0]);
  });

  it('a message in normal mode shows what is still held first', () => {
    const { inbox, shown, state } = setup(5);
    state.inGroup = true;
    inbox.deliver(msg('a'));
    state.inGroup = false;
    inbox.deliver(msg('b'));
    expect(shown).toEqual(['a', 'b']);
    expect(inbox.size).toBe(0);
  });
});
