/**
 * Drives Debian's Chromium (/usr/bin/chromium, never a downloaded browser) with playwright-core
 * against a real Warren: a fresh profile per run, console errors collected per page, and
 * screenshots written to test-results/ui-screenshots (gitignored).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env['WARREN_CHROMIUM'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(process.cwd(), 'test-results', 'ui-screenshots');

export interface Session {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * One browser with a fresh profile directory (playwright passes it as --user-data-dir). Each page
 * is its own tab, so each keeps its own login (credentials live in sessionStorage).
 */
export async function launch(): Promise<Session> {
  const profile = mkdtempSync(join(tmpdir(), 'warren-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 900 },
    colorScheme: 'light',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  mkdirSync(SCREENSHOTS, { recursive: true });
  return {
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface TrackedPage {
  page: Page;
  /** Console errors, uncaught exceptions and requests to any other host, as they happened. */
  problems: string[];
  close(): Promise<void>;
}

/** A page in its own tab (its own session storage), watching for errors and foreign requests. */
export interface PageOptions {
  viewport?: { width: number; height: number };
  /** Failed answers this page is expected to get, as `status path` prefixes ('401 /api/whoami'). */
  allowFailures?: string[];
}

export async function openPage(session: Session, baseUrl: string, options: PageOptions = {}): Promise<TrackedPage> {
  const viewport = options.viewport ?? { width: 1280, height: 900 };
  const allowed = options.allowFailures ?? [];
  const page = await session.context.newPage();
  await page.setViewportSize(viewport);
  const problems: string[] = [];
  const origin = new URL(baseUrl).origin;
  page.on('console', (m) => {
    // Failed requests are checked below, with their URLs; Chromium also logs them without one.
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource:')) problems.push(`console: ${m.text()}`);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const what = `${r.status()} ${new URL(r.url()).pathname}`;
    if (!allowed.some((a) => what.startsWith(a))) problems.push(`failed request: ${what}`);
  });
  page.on('pageerror', (e) => problems.push(`exception: ${e.message}`));
  page.on('request', (r) => {
    const url = r.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) problems.push(`foreign request: ${url}`);
  });
  return { page, problems, close: () => page.close() };
}

/**
 * Closes a test's pages and asserts none saw a problem. Closed when the test ends, so a page left on
 * an object a later test deletes does not count the 404s of its refreshes.
 */
export async function closeCheckedPages(pages: TrackedPage[]): Promise<void> {
  const open = pages.splice(0);
  for (const p of open) await p.close();
  for (const p of open) assert.deepEqual(p.problems, [], 'no console errors, exceptions, failed or outside requests');
}

export async function login(page: Page, baseUrl: string, user: string, password: string, hash = '#/'): Promise<void> {
  await page.goto(`${baseUrl}/${hash}`);
  await page.getByLabel('Username:').fill(user);
  await page.getByLabel('Password:').fill(password);
  await page.getByRole('button', { name: 'Login' }).click();
}

export async function screenshot(page: Page, name: string, fullPage = true): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** Opens a collapsed section by its heading. */
export async function openSection(page: Page, title: string): Promise<void> {
  const details = page.locator('details.section', { has: page.locator('summary h2', { hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`) }) });
  if ((await details.getAttribute('open')) === null) await details.locator('summary').click();
}
