import { MessageInbox } from '../../src/peer/message-inbox';

describe('MessageInbox (mesh receive-side dedupe)', () => {
  it('shows a message id once and treats repeats as duplicates', () => {
    const inbox = new MessageInbox(16, 100);
    expect(inbox.accept('m1', 'hi')).toBe('show');
    expect(inbox.accept('m1', 'hi')).toBe('duplicate');
    expect(inbox.accept('m2', 'hi')).toBe('show');
  });

  it('never shows our own messages back to us', () => {
    const inbox = new MessageInbox(16, 100);
    inbox.remember('mine');
    expect(inbox.accept('mine', 'hello')).toBe('duplicate');
  });

  it('refuses a message longer than the limit without remembering it', () => {
    const inbox = new MessageInbox(16, 5);
    expect(inbox.accept('m1', '123456')).toBe('too_long');
    expect(inbox.accept('m1', '12345')).toBe('show');
  });

  it('stays bounded: the oldest ids are forgotten past the capacity', () => {
    const inbox = new MessageInbox(2, 100);
    inbox.accept('a', 'x');
    inbox.accept('b', 'x');
    inbox.accept('c', 'x');
    expect(inbox.accept('c', 'x')).toBe('duplicate');
    expect(inbox.accept('a', 'x')).toBe('show');
  });
});
