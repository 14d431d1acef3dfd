import fs from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Where Debian's `chromium` package puts the browser (or CHROMIUM_PATH). */
const CANDIDATES = [process.env['CHROMIUM_PATH'], '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The system Chromium, or null when it is not installed. */
export function chromiumPath(): string | null {
  return CANDIDATES.find((p): p is string => p !== undefined && fs.existsSync(p)) ?? null;
}

/**
 * `describe` when Chromium is installed. Without it the tests are skipped
 * with a line saying which and why — except under CI=true, where its absence
 * fails (.ci/run installs it: `need chromium chromium`).
 */
export function describeWithChromium(name: string, body: () => void): void {
  if (chromiumPath() !== null) return describe(name, body);
  if (process.env['CI'] === 'true') {
    return describe(name, () => {
      test('Chromium is installed (CI=true)', () => {
        throw new Error('chromium is not installed: apt-get install -y chromium (.ci/run does it)');
      });
    });
  }
  process.stderr.write(`skipped "${name}": chromium is not installed (apt-get install -y chromium)\n`);
  return describe.skip(name, body);
}

/** One headless Chromium for a test file, with extra command-line switches if given. */
export function launchChromium(extraArgs: readonly string[] = []): Promise<Browser> {
  return puppeteer.launch({
    executablePath: chromiumPath()!,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run', ...extraArgs],
  });
}

/** A fresh page in its own browser context (its own IndexedDB: its own identities). */
export async function freshPage(browser: Browser): Promise<Page> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(String(err)));
  (page as Page & { errors?: string[] }).errors = errors;
  return page;
}

/** The page's uncaught errors so far. */
export function pageErrors(page: Page): string[] {
  return (page as Page & { errors?: string[] }).errors ?? [];
}
