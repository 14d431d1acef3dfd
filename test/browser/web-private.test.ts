/// <reference lib="dom" />
/**
 * Private messages in the browser page (docs/usage.md "The browser"): sealed
 * by the page with WebCrypto, relayed by a real server, read by real CLI
 * clients and by other pages — and never readable on the way. The server
 * runs with --no-tls and every link passes through a tap (TapProxy), so the
 * frames the server relays are there to search for plaintext; the tap
 * seeing the frames themselves (`"relayed_dm"`) shows it would see plaintext
 * if there were any. (A browser masks the WebSocket frames it sends, so on
 * the page's link it is the server's side — what it relays — that is read.)
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Browser } from 'puppeteer-core';
import { sealEnvelope, EncryptionKeys, signEncryptionKey } from '../../src/client/dm-crypto';
import { PROTOCOL_VERSION } from '../../src/protocol/limits';
import { registrationBytes } from '../../src/protocol/signing';
import { startClient } from '../../testkit/chat-roles';
import { newDataHome } from '../../testkit/data-home';
import { describeWithChromium, freshPage, launchChromium, pageErrors } from '../helpers/browser';
import { line } from '../helpers/e2e-chat';
import { startHttpServer } from '../helpers/http-server';
import { IRC_ONLINE } from '../helpers/irc-framework-client';
import { closeAllRawClients, RawClient } from '../helpers/raw-client';
import { RawIrc } from '../helpers/raw-irc';
import { TapProxy } from '../helpers/tap-proxy';
import { openPrivate, PAGE_WAIT_MS, privateShown, privateTexts, registerOn, sendPrivateFromPage } from './page-driver';

/** Safety net of a whole test: several processes start. */
const TEST_MS = 120_000;

/** Taps open in the current test, closed after it. */
const taps: TapProxy[] = [];
afterEach(async () => {
  await closeAllRawClients();
  await Promise.all(taps.splice(0).map((t) => t.close()));
});

/** A server with plain links (--no-tls) behind taps: one for the page's HTTP port, one for the CLI's port. */
async function tappedServer(data: string) {
  const server = await startHttpServer(['--no-tls', '--data', data]);
  const web = await TapProxy.start(server.httpPort);
  const tcp = await TapProxy.start(server.port);
  taps.push(web, tcp);
  return { web, tcp, origin: `http://127.0.0.1:${web.port}`, cliPort: tcp.port };
}

/** Every byte of every file under `dir` (the server's database and its journal). */
function filesUnder(dir: string): Buffer {
  return Buffer.concat(
    fs
      .readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => fs.readFileSync(path.join(e.parentPath, e.name))),
  );
}

/**
 * A hand-made client that seals and signs like a real one but can also
 * tamper: it registers over a raw connection with its own published ekey.
 */
async function mallory(port: number, privateKey = crypto.generateKeyPairSync('ed25519').privateKey) {
  const x = crypto.createPublicKey(privateKey).export({ format: 'jwk' }).x!;
  const key = Buffer.from(x, 'base64url').toString('base64');
  const ekey = EncryptionKeys.fromIdentityKey(privateKey).publicKey;
  const client = await RawClient.connect(port, { tls: false });
  const challenge = await client.challenge();
  const sig = crypto.sign(null, registrationBytes(challenge, 'mallory', key), privateKey).toString('base64');
  const ekeySig = signEncryptionKey(privateKey, 'mallory', ekey);
  const answer = await client.request({
    type: 'register',
    v: PROTOCOL_VERSION,
    name: 'mallory',
    port: 1,
    key,
    sig,
    ekey,
    ekeySig,
  });
  if (answer.type !== 'reply') throw new Error(`mallory: ${JSON.stringify(answer)}`);
  const seal = (to: string, toEkey: string, text: string) =>
    sealEnvelope(
      { name: 'mallory', signingKey: privateKey },
      { id: crypto.randomUUID(), from: 'mallory', to, ts: Date.now() },
      toEkey,
      text,
    );
  return { client, seal, privateKey };
}

/** The table entry the page's server lists for `name`, as a raw client sees it. */
async function entryOf(client: RawClient, name: string): Promise<{ ekey?: string }> {
  const answer = await client.request({ type: 'lookup', name });
  if (answer.type !== 'reply' || answer.entry === undefined) throw new Error(`no entry for ${name}`);
  return answer.entry;
}

describeWithChromium('private messages in the browser page', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  test(
    'with a CLI client both ways, online and saved while offline; the wire and the store never carry the text',
    async () => {
      const data = newDataHome('test');
      const { web, tcp, origin, cliPort } = await tappedServer(data);
      const alice = await startClient('alice', cliPort, ['--no-tls']);
      const page = await freshPage(browser);
      await registerOn(page, origin, 'webby');
      await alice.proc.waitForLine(line('[Client table updated.]'));

      // CLI → page: relayed sealed, shown once, and alice hears it arrived.
      alice.proc.send('send webby the terminal says hi');
      await alice.proc.waitForLine(line('[Message received by webby.]'));
      await privateShown(page, 'alice', 'the terminal says hi');

      // page → CLI, from the conversation opened in the online list.
      await openPrivate(page, 'alice');
      expect(await page.$eval('#private-e2e', (e) => e.textContent)).toBe(
        'End-to-end encrypted: only alice can read these messages, not the server.',
      );
      await sendPrivateFromPage(page, 'the browser answers');
      await alice.proc.waitForLine(line('webby: the browser answers'));
      expect(await privateShown(page, 'webby', 'the browser answers', 'received by alice')).toBe('received by alice');

      // alice goes away: the page's message waits on the server, sealed, until she is back.
      alice.proc.kill('SIGTERM');
      await alice.proc.exit;
      await page.waitForFunction(
        () => document.querySelector('#online button[aria-label="Private message to alice"]') === null,
        {
          timeout: PAGE_WAIT_MS,
        },
      );
      await sendPrivateFromPage(page, 'kept for later');
      await privateShown(page, 'webby', 'kept for later', 'saved for alice (offline), not yet received');
      expect(filesUnder(data).includes(Buffer.from('kept for later'))).toBe(false);
      const back = await startClient('alice', cliPort, ['--no-tls']);
      await back.proc.waitForLine(/^>>> webby: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d kept for later$/);
      await privateShown(page, 'webby', 'kept for later', 'received by alice');

      for (const text of ['the terminal says hi', 'the browser answers', 'kept for later']) {
        expect([web.saw(text), tcp.saw(text)]).toEqual([false, false]);
      }
      // The taps read the frames: the server's relayed_dm to the page and to alice, alice's relay_dm, the saved frame.
      expect([web.saw('"relayed_dm"'), tcp.saw('"relay_dm"'), tcp.saw('"relayed_dm"'), tcp.saw('"saved"')]).toEqual([
        true,
        true,
        true,
        true,
      ]);
      expect(await privateTexts(page)).toHaveLength(3); // each shown once
      expect(pageErrors(page)).toEqual([]);
    },
    TEST_MS,
  );

  test(
    'browser to browser, sealed both ways; a tampered envelope is refused and never shown',
    async () => {
      const { web, origin, cliPort } = await tappedServer(newDataHome('test'));
      const [webby, wanda] = [await freshPage(browser), await freshPage(browser)];
      await registerOn(webby, origin, 'webby');
      await registerOn(wanda, origin, 'wanda');

      await openPrivate(webby, 'wanda');
      await sendPrivateFromPage(webby, 'page to page');
      await privateShown(wanda, 'webby', 'page to page');
      await privateShown(webby, 'webby', 'page to page', 'received by wanda');
      await openPrivate(wanda, 'webby');
      await sendPrivateFromPage(wanda, 'and back');
      await privateShown(webby, 'wanda', 'and back');
      await privateShown(wanda, 'wanda', 'and back', 'received by webby');
      // What the server relays to each page passes the tap unmasked (only a browser's own WebSocket frames are masked).
      expect([web.saw('page to page'), web.saw('and back'), web.saw('"relayed_dm"')]).toEqual([false, false, true]);

      // mallory, a client of its own making, signs a good envelope, then alters one after signing.
      const m = await mallory(cliPort);
      const wandaKey = (await entryOf(m.client, 'wanda')).ekey!;
      const good = m.seal('wanda', wandaKey, 'an honest line');
      expect((await m.client.request({ type: 'relay_dm', id: good.id, to: 'wanda', body: { enc: good } })).type).toBe(
        'reply',
      );
      await privateShown(wanda, 'mallory', 'an honest line');
      const bad = m.seal('wanda', wandaKey, 'a forged line');
      const ct = Buffer.from(bad.ct, 'base64');
      ct[0] = ct[0]! ^ 1;
      const tampered = { ...bad, ct: ct.toString('base64') };
      const refusal = await m.client.request({ type: 'relay_dm', id: bad.id, to: 'wanda', body: { enc: tampered } });
      expect(refusal).toMatchObject({ type: 'error', code: 'bad_signature' });
      await wanda.waitForFunction(
        () =>
          [...document.querySelectorAll('.private-messages li.notice')].some(
            (li) => li.textContent === 'A message from mallory was refused (bad_signature) and not shown',
          ),
        { timeout: PAGE_WAIT_MS },
      );
      // The same envelope again on a new connection (the server's reply cache is per connection): acked, not shown twice.
      m.client.close();
      const again = await mallory(cliPort, m.privateKey);
      expect(
        (await again.client.request({ type: 'relay_dm', id: good.id, to: 'wanda', body: { enc: good } })).type,
      ).toBe('reply');
      expect((await privateTexts(wanda)).filter((t) => t.includes('an honest line'))).toHaveLength(1);

      // mallory comes back as another identity (account deleted, name registered with a new key): wanda is warned once.
      expect((await again.client.request({ type: 'delete_account', name: 'mallory' })).type).toBe('reply');
      again.client.close();
      const reborn = await mallory(cliPort);
      for (const text of ['new keys, same name', 'and again']) {
        const enc = reborn.seal('wanda', wandaKey, text);
        expect((await reborn.client.request({ type: 'relay_dm', id: enc.id, to: 'wanda', body: { enc } })).type).toBe(
          'reply',
        );
        await privateShown(wanda, 'mallory', text);
      }
      expect(
        (await privateTexts(wanda)).filter((t) => t === 'Warning: the identity of mallory has changed'),
      ).toHaveLength(1);
      expect((await privateTexts(wanda)).some((t) => t.includes('a forged line'))).toBe(false);

      // wanda reloads the page: it still remembers (IndexedDB) what it showed, so a replay stays unshown.
      const last = reborn.seal('wanda', wandaKey, 'once only');
      expect(
        (await reborn.client.request({ type: 'relay_dm', id: last.id, to: 'wanda', body: { enc: last } })).type,
      ).toBe('reply');
      await privateShown(wanda, 'mallory', 'once only');
      await registerOn(wanda, origin, 'wanda');
      reborn.client.close();
      const later = await mallory(cliPort, reborn.privateKey);
      for (const enc of [last, later.seal('wanda', wandaKey, 'after the reload')]) {
        expect((await later.client.request({ type: 'relay_dm', id: enc.id, to: 'wanda', body: { enc } })).type).toBe(
          'reply',
        ); // the reply comes after wanda's ack: she has handled it
      }
      await privateShown(wanda, 'mallory', 'after the reload');
      expect(await privateTexts(wanda)).toEqual(['mallory: after the reload']); // the replay was acked, not shown
      expect([...pageErrors(webby), ...pageErrors(wanda)]).toEqual([]);
    },
    TEST_MS,
  );

  test(
    'with an IRC user: readable text both ways, and the conversation says it is not end-to-end encrypted',
    async () => {
      const server = await startHttpServer(['--irc-port', '0']);
      const irc = Number(IRC_ONLINE.exec(await server.proc.waitForLine(IRC_ONLINE, { from: 0 }))![1]);
      const ircy = await RawIrc.registered(irc, 'ircy');
      const page = await freshPage(browser);
      await registerOn(page, `http://127.0.0.1:${server.httpPort}`, 'webby');
      await openPrivate(page, 'ircy');
      expect(await page.$eval('#private-e2e', (e) => e.textContent)).toBe(
        'Not end-to-end encrypted: ircy is an IRC user, so the server can read this conversation.',
      );
      await sendPrivateFromPage(page, 'hello irc');
      await ircy.waitFor(/^(@\S+ )?:webby!\S+ PRIVMSG ircy :?hello irc$/);
      await privateShown(page, 'webby', 'hello irc', 'received by ircy, not end-to-end encrypted');
      ircy.send('PRIVMSG webby :hello page');
      await privateShown(page, 'ircy', 'hello page');
      expect(pageErrors(page)).toEqual([]);
    },
    TEST_MS,
  );
});
