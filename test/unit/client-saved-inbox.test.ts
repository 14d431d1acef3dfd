import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Identity } from '../../src/client/identity';
import { SavedInbox, type SavedOpener } from '../../src/client/saved-messages';
import type { DmEnvelope } from '../../src/protocol/dm-envelope';

const alice = Identity.generate();
const bob = Identity.generate();
let n = 0;

/** A saved message from alice, sealed for bob's key whoever it is addressed to. */
function saved(text: string, to = 'bob'): DmEnvelope {
  const header = { id: `0190d6a0-0000-7000-8000-${String(++n).padStart(12, '0')}`, to, ts: 1_000 + n };
  return alice.seal('alice', header, bob.encryptionKey, text);
}

/** bob's opener, as the ChatClient makes it: the text, or null when the envelope does not open for bob. */
const opener: SavedOpener = (message, senderKey) => {
  const opened = bob.open('bob', senderKey, message);
  return opened.ok ? opened.text : null;
};

describe('SavedInbox: a saved message is acked only when it is shown', () => {
  test('an announced batch shows and acks nothing until its last message arrives', () => {
    const inbox = new SavedInbox(opener, null, fail);
    inbox.expect(3);
    const [a, b, c] = [saved('one'), saved('two'), saved('three')];
    expect(inbox.receive(a, alice.publicKey)).toEqual({ show: [], ack: [] });
    expect(inbox.receive(b, alice.publicKey)).toEqual({ show: [], ack: [] });
    const last = inbox.receive(c, alice.publicKey);
    expect(last.show.map((m) => m.text)).toEqual(['one', 'two', 'three']);
    expect(last.ack).toEqual([a.id, b.id, c.id]);
  });

  test('a batch cut short by a lost connection is shown then; sent again, it is acked without showing', () => {
    const inbox = new SavedInbox(opener, null, fail);
    inbox.expect(2);
    const a = saved('first');
    expect(inbox.receive(a, alice.publicKey).ack).toEqual([]);
    expect(inbox.end().map((m) => m.id)).toEqual([a.id]); // the link went: shown now, acked never
    inbox.expect(2);
    expect(inbox.receive(a, alice.publicKey)).toEqual({ show: [], ack: [a.id] });
    const b = saved('second');
    expect(inbox.receive(b, alice.publicKey)).toEqual({ show: [expect.objectContaining({ id: b.id })], ack: [b.id] });
  });

  test('forged, misaddressed and repeated messages are acked at once and never shown', () => {
    const inbox = new SavedInbox(opener, null, fail);
    const good = saved('hi');
    expect(inbox.receive(good, alice.publicKey).show).toHaveLength(1);
    const forged = { ...saved('hi'), ct: saved('changed').ct };
    const elsewhere = saved('not yours', 'carol');
    for (const message of [forged, elsewhere, good])
      expect(inbox.receive(message, alice.publicKey)).toEqual({ show: [], ack: [message.id] });
  });

  test('what was shown is remembered across a restart of the client through its file', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'chatapp-saved-'));
    try {
      const file = SavedInbox.fileFor(dir, 'Bob');
      const message = saved('kept');
      expect(new SavedInbox(opener, file, fail).receive(message, alice.publicKey).show).toHaveLength(1);
      expect(new SavedInbox(opener, file, fail).receive(message, alice.publicKey)).toEqual({
        show: [],
        ack: [message.id],
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

function fail(error: Error): void {
  throw error;
}
