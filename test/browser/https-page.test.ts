/// <reference lib="dom" />
/**
 * The page over HTTPS (docs/operations.md "HTTPS"): a server with the test
 * CA's certificate as `--tls-cert`/`--tls-key` serves the page and `/ws`
 * over TLS; Chromium trusts exactly that certificate's key
 * (`--ignore-certificate-errors-spki-list`, what a browser that has the CA
 * installed would conclude) and chats through `wss://` with a CLI client.
 */
import type { Browser } from 'puppeteer-core';
import { startClient } from '../../testkit/chat-roles';
import { createGroup, groupMessage, joinGroup, line, sendGroup } from '../helpers/e2e-chat';
import { describeWithChromium, freshPage, launchChromium, pageErrors } from '../helpers/browser';
import { startHttpServer } from '../helpers/http-server';
import { removeTempDirs } from '../helpers/temp-dir';
import { makeTestCertificates, type TestCertificates } from '../helpers/test-ca';

/** Safety net of one wait in the page (a loaded machine), never an assertion about speed. */
const PAGE_WAIT_MS = 20_000;
const TEST_MS = 120_000;

describeWithChromium('the browser page over HTTPS', () => {
  let browser: Browser;
  let certs: TestCertificates;
  beforeAll(async () => {
    certs = await makeTestCertificates();
    browser = await launchChromium([`--ignore-certificate-errors-spki-list=${certs.spkiHash}`]);
  });
  afterAll(async () => {
    await browser?.close();
    removeTempDirs();
  });

  test(
    'loads over https, registers through wss and exchanges group messages with a CLI client',
    async () => {
      const { port, httpPort, https } = await startHttpServer([...certs.serverArgs]);
      expect(https).toBe(true);
      const bob = await startClient('bob', port);
      await createGroup(bob, 'secure');
      await joinGroup(bob, 'secure');

      const page = await freshPage(browser);
      const response = await page.goto(`https://127.0.0.1:${httpPort}/`);
      expect(response?.status()).toBe(200);
      expect(page.url()).toBe(`https://127.0.0.1:${httpPort}/`);
      await page.type('#name', 'webby');
      await page.click('#login button');
      await page.waitForFunction(() => document.getElementById('status')!.textContent === 'Online as webby', {
        timeout: PAGE_WAIT_MS,
      });
      await page.waitForFunction(
        () => [...document.querySelectorAll('#groups button')].some((b) => b.textContent === 'secure'),
        { timeout: PAGE_WAIT_MS },
      );
      await page.evaluate(() => {
        [...document.querySelectorAll<HTMLButtonElement>('#groups button')]
          .find((b) => b.textContent === 'secure')!
          .click();
      });
      await bob.proc.waitForLine(line('[webby joined the group]', 'secure'));

      await sendGroup(bob, 'secure', 'hello over wss');
      await page.waitForFunction(
        () =>
          [...document.querySelectorAll('#messages li')].some(
            (li) =>
              li.querySelector('.from')?.textContent === 'bob' &&
              li.querySelector('.text')?.textContent === 'hello over wss',
          ),
        { timeout: PAGE_WAIT_MS },
      );
      await page.$eval('#text', (el) => ((el as HTMLTextAreaElement).value = 'hello from https'));
      await page.click('#compose button');
      await bob.proc.waitForLine(groupMessage('secure', 'webby', 'hello from https'));
      expect(pageErrors(page)).toEqual([]);
    },
    TEST_MS,
  );
});
