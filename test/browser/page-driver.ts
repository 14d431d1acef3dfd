/// <reference lib="dom" />
/**
 * Driving the chat page (web/) in Chromium the way a person does: typing,
 * clicking, and waiting for what the page shows.
 */
import type { Page } from 'puppeteer-core';

/** Safety net of one wait in the page (a loaded machine), never an assertion about speed. */
export const PAGE_WAIT_MS = 20_000;

/** Opens the page at `origin` (http://127.0.0.1:<port>) and registers `name`; resolves once online. */
export async function registerOn(page: Page, origin: string, name: string): Promise<void> {
  await page.goto(`${origin}/`);
  await page.type('#name', name);
  await page.click('#login button');
  await page.waitForFunction(
    (n) => document.getElementById('status')!.textContent === `Online as ${n}`,
    { timeout: PAGE_WAIT_MS },
    name,
  );
}

/** Waits until a group message line whose sender and text are exactly these is shown. */
export function messageShown(page: Page, from: string, text: string): Promise<unknown> {
  return page.waitForFunction(
    (f, t) =>
      [...document.querySelectorAll('#messages li')].some(
        (li) => li.querySelector('.from')?.textContent === f && li.querySelector('.text')?.textContent === t,
      ),
    { timeout: PAGE_WAIT_MS },
    from,
    text,
  );
}

/** Opens the private conversation with `name` by choosing it in the online list. */
export async function openPrivate(page: Page, name: string): Promise<void> {
  const label = `Private message to ${name}`;
  await page.waitForFunction(
    (l) => document.querySelector(`#online button[aria-label="${l}"]`) !== null,
    { timeout: PAGE_WAIT_MS },
    label,
  );
  await page.click(`#online button[aria-label="${label}"]`);
  await page.waitForFunction((n) => document.getElementById('peer')!.textContent === n, {}, name);
}

/** Types `text` into the open private conversation and sends it. */
export async function sendPrivateFromPage(page: Page, text: string): Promise<void> {
  await page.$eval('#private-text', (el, t) => ((el as HTMLTextAreaElement).value = t), text);
  await page.click('#private-compose button');
}

/**
 * Waits until a private line from `from` with exactly `text` is shown (in any
 * conversation) and resolves with the state shown next to it ('' when none).
 */
export async function privateShown(page: Page, from: string, text: string, state?: string): Promise<string> {
  const found = await page.waitForFunction(
    (f, t, s) => {
      const li = [...document.querySelectorAll('.private-messages li')].find(
        (l) =>
          l.querySelector('.from')?.textContent === f &&
          l.querySelector('.text')?.textContent === t &&
          (s === null || l.querySelector('.state')?.textContent === s),
      );
      return li === undefined ? false : { state: li.querySelector('.state')?.textContent ?? '' };
    },
    { timeout: PAGE_WAIT_MS },
    from,
    text,
    state ?? null,
  );
  return ((await found.jsonValue()) as { state: string }).state;
}

/** Every private line's text the page shows (all conversations). */
export function privateTexts(page: Page): Promise<string[]> {
  return page.$$eval('.private-messages li', (lis) => lis.map((li) => li.textContent ?? ''));
}
