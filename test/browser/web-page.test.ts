/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
/**
 * The browser page (docs/usage.md "The browser") in a real headless
 * Chromium against a real server process, chatting with real CLI clients.
 */
import type { Browser, Page } from 'puppeteer-core';
import { startClient } from '../../testkit/chat-roles';
import { newDataHome } from '../../testkit/data-home';
import { createGroup, groupMessage, joinGroup, line, sendGroup } from '../helpers/e2e-chat';
import { describeWithChromium, freshPage, launchChromium, pageErrors } from '../helpers/browser';
import { startHttpServer } from '../helpers/http-server';
import { messageShown, PAGE_WAIT_MS, registerOn } from './page-driver';

/** Safety net of a whole test: several processes start, and a restart waits out a drain. */
const TEST_MS = 120_000;

function register(page: Page, httpPort: number, name: string): Promise<void> {
  return registerOn(page, `http://127.0.0.1:${httpPort}`, name);
}

async function sendFromPage(page: Page, text: string): Promise<void> {
  await page.$eval('#text', (el, t) => ((el as HTMLTextAreaElement).value = t), text);
  await page.click('#compose button');
}

async function joinFromPage(page: Page, group: string): Promise<void> {
  await page.waitForFunction(
    (g) => [...document.querySelectorAll('#groups button')].some((b) => b.textContent === g),
    { timeout: PAGE_WAIT_MS },
    group,
  );
  await page.evaluate((g) => {
    [...document.querySelectorAll<HTMLButtonElement>('#groups button')].find((b) => b.textContent === g)!.click();
  }, group);
  await page.waitForFunction((g) => document.getElementById('room-title')!.textContent === g, {}, group);
}

describeWithChromium('the browser page', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  test(
    'register, join with history, group messages both ways with a CLI client, inert hostile text, too long refused',
    async () => {
      const { port, httpPort } = await startHttpServer();
      const bob = await startClient('bob', port);
      await createGroup(bob, 'lobby');
      await joinGroup(bob, 'lobby');
      await sendGroup(bob, 'lobby', 'before you came');

      const page = await freshPage(browser);
      await register(page, httpPort, 'webby');
      await joinFromPage(page, 'lobby');
      await messageShown(page, 'bob', 'before you came'); // the history on join
      await bob.proc.waitForLine(line('[webby joined the group]', 'lobby'));

      await sendGroup(bob, 'lobby', 'hello browser');
      await messageShown(page, 'bob', 'hello browser');
      await sendFromPage(page, 'hello terminal');
      await bob.proc.waitForLine(groupMessage('lobby', 'webby', 'hello terminal'));
      await page.waitForFunction(() => document.querySelector('#messages li.sending') === null);

      // Hostile text is shown as text: no element made from it, no script run, bidi isolated.
      const script = '<script>window.pwned=1</script><img src=x onerror="window.pwned=2">';
      const bidi = '\u202Eevil\u202C abc \u05e9\u05dc\u05d5\u05dd';
      await sendGroup(bob, 'lobby', script);
      await sendGroup(bob, 'lobby', bidi);
      await messageShown(page, 'bob', script);
      await messageShown(page, 'bob', bidi);
      const inert = await page.evaluate(() => ({
        pwned: (window as unknown as { pwned?: number }).pwned ?? null,
        injected: document.querySelectorAll('#messages script, #messages img').length,
        isolated: [...document.querySelectorAll('#messages .text')].every((t) => (t as HTMLElement).dir === 'auto'),
        senders: [...document.querySelectorAll('#messages .from')].every((f) => f.tagName === 'BDI'),
      }));
      expect(inert).toEqual({ pwned: null, injected: 0, isolated: true, senders: true });

      await sendFromPage(page, 'x'.repeat(4097));
      await page.waitForFunction(
        () =>
          document.getElementById('compose-error')!.textContent ===
          'Message too long: 4097 characters, maximum is 4096. Not sent.',
      );
      expect(pageErrors(page)).toEqual([]);
    },
    TEST_MS,
  );

  test(
    'survives a server restart: reconnects, re-joins and catches up',
    async () => {
      const data = newDataHome('test');
      const first = await startHttpServer(['--data', data]);
      const bob = await startClient('bob', first.port);
      await createGroup(bob, 'keep');
      await joinGroup(bob, 'keep');
      const page = await freshPage(browser);
      await register(page, first.httpPort, 'webby');
      await joinFromPage(page, 'keep');

      await sendGroup(bob, 'keep', 'before the restart');
      await messageShown(page, 'bob', 'before the restart');

      // The page stays off the network until bob has said something it missed: it must catch up on it.
      await page.setOfflineMode(true);
      first.proc.kill('SIGTERM');
      expect((await first.proc.exit).code).toBe(0);
      await page.waitForFunction(() => document.getElementById('status')!.dataset['state'] === 'reconnecting');
      await startHttpServer(['--data', data, '--http-port', String(first.httpPort)], { port: first.port });
      await bob.proc.waitForLine(line('[Reconnected to server]', 'keep'), { timeoutMs: PAGE_WAIT_MS });
      await sendGroup(bob, 'keep', 'while you were away');
      await page.setOfflineMode(false);
      await page.waitForFunction(() => document.getElementById('status')!.dataset['state'] === 'online', {
        timeout: PAGE_WAIT_MS,
      });
      await messageShown(page, 'bob', 'while you were away');
      await sendGroup(bob, 'keep', 'after the restart');
      await messageShown(page, 'bob', 'after the restart');
      const texts = await page.$$eval('#messages .text', (els) => els.map((e) => e.textContent));
      expect(texts.filter((t) => t === 'before the restart' || t === 'while you were away')).toEqual([
        'before the restart',
        'while you were away',
      ]); // each once, in order
      await sendFromPage(page, 'me too');
      await bob.proc.waitForLine(groupMessage('keep', 'webby', 'me too'));
      expect(pageErrors(page)).toEqual([]);
    },
    TEST_MS,
  );
});
