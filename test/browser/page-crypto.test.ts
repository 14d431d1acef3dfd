/// <reference lib="dom" />
/**
 * The page's end-to-end cryptography (web/e2e-crypto.ts, WebCrypto in a real
 * headless Chromium) against the CLI's (src/client/dm-crypto.ts,
 * node:crypto): each opens what the other sealed, each checks the other's
 * published X25519 key, and the page refuses what the CLI refuses.
 */
import crypto from 'node:crypto';
import type { Browser, Page } from 'puppeteer-core';
import {
  EncryptionKeys,
  openEnvelope,
  sealEnvelope,
  signEncryptionKey,
  verifyEncryptionKey,
} from '../../src/client/dm-crypto';
import { type DmEnvelope, envelopeSigningBytes } from '../../src/protocol/dm-envelope';
import type * as PageCrypto from '../../web/e2e-crypto';
import type * as PageIdentity from '../../web/identity';
import type * as PagePrivateChat from '../../web/private-chat';
import { describeWithChromium, freshPage, launchChromium, pageErrors } from '../helpers/browser';
import { startHttpServer } from '../helpers/http-server';

/** The CLI side: an Ed25519 identity and the X25519 pair derived from it. */
const alice = (() => {
  const { privateKey } = crypto.generateKeyPairSync('ed25519');
  const x = crypto.createPublicKey(privateKey).export({ format: 'jwk' }).x!;
  return {
    name: 'alice',
    signingKey: privateKey,
    key: Buffer.from(x, 'base64url').toString('base64'),
    enc: EncryptionKeys.fromIdentityKey(privateKey),
  };
})();

/** What the page's test hook exposes: its keys' public halves and what it signed. */
interface PageKeys {
  readonly key: string;
  readonly ekey: string;
  readonly ekeySig: string;
  readonly extractable: boolean[];
}

type Module = typeof PageCrypto;
type IdentityModule = typeof PageIdentity;
type Hook = { m: Module; signing: CryptoKey; me: { name: string; encryptionKey: CryptoKey; ekey: string } };

/** Makes the page's keys with the page's own identity module (IndexedDB, non-extractable) and its crypto module. */
async function pageKeys(page: Page): Promise<PageKeys> {
  // A string, so the test's compiler leaves the browser's dynamic import() alone.
  await page.evaluate(
    "(async () => { window.m = await import('/e2e-crypto.js'); window.identity = await import('/identity.js'); window.pc = await import('/private-chat.js'); })()",
  );
  return page.evaluate(async () => {
    const { m, identity } = window as unknown as { m: Module; identity: IdentityModule };
    const id = await identity.identityFor('webby');
    const again = await identity.identityFor('WEBBY'); // kept: the same keys for the same name, any case
    if (again.ekey !== id.ekey || again.publicKey !== id.publicKey) throw new Error('identity not kept');
    (window as unknown as { hook: Hook }).hook = {
      m,
      signing: id.privateKey,
      me: { name: 'webby', encryptionKey: id.encryptionKey, ekey: id.ekey },
    };
    return {
      key: id.publicKey,
      ekey: id.ekey,
      ekeySig: await identity.signEkey(id, 'webby'),
      extractable: [id.privateKey.extractable, id.encryptionKey.extractable],
    };
  });
}

function pageSeals(page: Page, to: string, ekey: string, text: string): Promise<DmEnvelope> {
  return page.evaluate(
    async (to, ekey, text) => {
      const { m, signing } = (window as unknown as { hook: Hook }).hook;
      return m.sealEnvelope(signing, { id: window.crypto.randomUUID(), from: 'webby', to, ts: Date.now() }, ekey, text);
    },
    to,
    ekey,
    text,
  );
}

function pageOpens(page: Page, senderKey: string, envelope: unknown): Promise<unknown> {
  return page.evaluate(
    async (senderKey, envelope) => {
      const { m, me } = (window as unknown as { hook: Hook }).hook;
      return m.openEnvelope(me, senderKey, envelope);
    },
    senderKey,
    envelope as never,
  );
}

function aliceSeals(to: string, ekey: string, text: string): DmEnvelope {
  return sealEnvelope(alice, { id: crypto.randomUUID(), from: 'alice', to, ts: Date.now() }, ekey, text);
}

function resign(envelope: DmEnvelope): DmEnvelope {
  const { sig: _old, ...unsigned } = envelope;
  return { ...unsigned, sig: crypto.sign(null, envelopeSigningBytes(unsigned), alice.signingKey).toString('base64') };
}

function flip(base64: string): string {
  const bytes = Buffer.from(base64, 'base64');
  bytes[0] = bytes[0]! ^ 1;
  return bytes.toString('base64');
}

describeWithChromium("the page's end-to-end envelope against the CLI's", () => {
  let browser: Browser;
  let page: Page;
  let keys: PageKeys;
  beforeAll(async () => {
    browser = await launchChromium();
    const { httpPort } = await startHttpServer();
    page = await freshPage(browser);
    await page.goto(`http://127.0.0.1:${httpPort}/`);
    keys = await pageKeys(page);
  });
  afterAll(async () => {
    await browser?.close();
  });

  test('the page keeps non-extractable keys and publishes a signed X25519 key the CLI verifies, and back', async () => {
    expect(keys.extractable).toEqual([false, false]);
    expect(verifyEncryptionKey(keys.key, 'webby', keys.ekey, keys.ekeySig)).toBe(true);
    expect(verifyEncryptionKey(keys.key, 'other', keys.ekey, keys.ekeySig)).toBe(false);
    // The signature covers the name in lower case: the table may show it as first registered ("Webby").
    expect(verifyEncryptionKey(keys.key, 'Webby', keys.ekey, keys.ekeySig)).toBe(true);
    const sig = signEncryptionKey(alice.signingKey, 'alice', alice.enc.publicKey);
    const checks = await page.evaluate(
      async (key, ekey, sig, other) => {
        const { m } = (window as unknown as { hook: Hook }).hook;
        return [
          await m.verifyEncryptionKey(key, 'alice', ekey, sig),
          await m.verifyEncryptionKey(key, 'alice', other, sig), // a swapped ekey
          await m.verifyEncryptionKey(key, 'mallory', ekey, sig),
          await m.verifyEncryptionKey(key, 'ALICE', ekey, sig), // the table's spelling may differ
        ];
      },
      alice.key,
      alice.enc.publicKey,
      sig,
      keys.ekey,
    );
    expect(checks).toEqual([true, false, false, true]);
  });

  test('the CLI opens what the page sealed; the envelope carries no plaintext', async () => {
    const text = 'meet at the old mill, 9pm é ש';
    const envelope = await pageSeals(page, 'alice', alice.enc.publicKey, text);
    expect(JSON.stringify(envelope)).not.toContain('old mill');
    expect(openEnvelope('alice', alice.enc, keys.key, envelope)).toEqual({ ok: true, text });
    expect(openEnvelope('alice', alice.enc, alice.key, envelope)).toEqual({ ok: false, why: 'bad_signature' });
    const long = 'é'.repeat(4096);
    expect(
      openEnvelope('alice', alice.enc, keys.key, await pageSeals(page, 'alice', alice.enc.publicKey, long)),
    ).toEqual({ ok: true, text: long });
  });

  test('the page opens what the CLI sealed, and refuses it tampered, redirected or malformed', async () => {
    const envelope = aliceSeals('webby', keys.ekey, 'from the terminal');
    expect(await pageOpens(page, alice.key, envelope)).toEqual({ ok: true, text: 'from the terminal' });
    expect(await pageOpens(page, alice.key, aliceSeals('WEBBY', keys.ekey, ''))).toEqual({ ok: true, text: '' });
    const refused = (why: string) => ({ ok: false, why });
    expect(await pageOpens(page, alice.key, { ...envelope, ct: flip(envelope.ct) })).toEqual(refused('bad_signature'));
    expect(await pageOpens(page, keys.key, envelope)).toEqual(refused('bad_signature')); // another sender's key
    // Re-signed by the sender after the change: the AES-GCM tag still refuses it.
    expect(await pageOpens(page, alice.key, resign({ ...envelope, ct: flip(envelope.ct) }))).toEqual(
      refused('undecryptable'),
    );
    expect(await pageOpens(page, alice.key, resign({ ...envelope, ts: envelope.ts + 1 }))).toEqual(
      refused('undecryptable'),
    );
    expect(await pageOpens(page, alice.key, aliceSeals('carol', keys.ekey, 'x'))).toEqual(refused('wrong_recipient'));
    for (const bad of [null, 'text', { ...envelope, extra: 1 }, { ...envelope, iv: 'short' }, { ...envelope, ts: -1 }])
      expect(await pageOpens(page, alice.key, bad)).toEqual(refused('malformed'));
    expect(pageErrors(page)).toEqual([]);
  });

  test('readable text is taken only from a sender without an encryption key: a server cannot speak for one that has', async () => {
    const seen = await page.evaluate(async (aliceKey) => {
      const w = window as unknown as { pc: typeof PagePrivateChat; hook: Hook; identity: IdentityModule };
      const identity = await w.identity.identityFor('webby');
      const acks: unknown[] = [];
      const shown: unknown[] = [];
      const entries: Record<string, PagePrivateChat.PeerEntry> = {
        alice: { name: 'alice', online: true, port: 1, key: aliceKey, ekey: aliceKey, ekeySig: 'x' },
        ircy: { name: 'ircy', online: true, port: 0, key: aliceKey },
      };
      const chat = new w.pc.PrivateChat(
        'webby',
        identity,
        { request: async () => null, notify: (f) => void acks.push(f) },
        (n) => entries[n],
        { received: { check: () => 'new', record: async () => undefined }, pins: { see: () => 'same' } } as never,
        {
          message: (peer, text, how) => void shown.push([peer, text, how.e2e]),
          refused: (peer, why) => void shown.push([peer, why]),
          receipt: () => undefined,
          identityChanged: () => undefined,
        },
      );
      chat.receive({ type: 'relayed_dm', id: 'r1', from: 'alice', ts: 0, body: { text: 'I am alice, honest' } });
      chat.receive({ type: 'relayed_dm', id: 'r2', from: 'ircy', ts: 0, body: { text: 'hi from irc' } });
      // Handled one after another: the second ack means both are done.
      while (acks.length < 2) await new Promise((resolve) => setTimeout(resolve, 0));
      return { acks, shown };
    }, alice.key);
    expect(seen).toEqual({
      acks: [
        { type: 'relayed_ack', id: 'r1', code: 'e2e_required' },
        { type: 'relayed_ack', id: 'r2' },
      ],
      shown: [
        ['alice', 'e2e_required'],
        ['ircy', 'hi from irc', false],
      ],
    });
  });
});
