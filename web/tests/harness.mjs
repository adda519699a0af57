// Browser-test harness: a real weftd on a free loopback port with a
// throwaway data directory, and Debian's Chromium through playwright-core.
// Environment: WEFTD (path of weftd, required), WEFT_WEB_DIST (built app,
// default ../dist), WEFT_SCREENSHOTS (where screenshots go, default
// ../test-results/screenshots), CHROMIUM (default /usr/bin/chromium).
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before } from 'node:test';
import { chromium } from 'playwright-core';
import { Weftd } from '../../clients/js/test/weftd.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export const kTimeout = 30_000;

/** Starts weftd (the SDK tests' starter, serving the built app); resolves to { url, log(), stop() } once it answers. */
export async function startWeftd() {
  if (!process.env.WEFTD) throw new Error('set WEFTD to the weftd binary');
  const dist = resolve(process.env.WEFT_WEB_DIST ?? join(here, '..', 'dist'));
  const weftd = new Weftd(['--web-dir', dist, '--store', 'sqlite', '--threads', '2']);
  await weftd.start();
  // weftd listens on 127.0.0.1, which Chromium treats as a secure context
  // (service workers work there as on localhost).
  return {
    url: weftd.url,
    log: () => weftd.log(),
    async stop() {
      await weftd.stop('SIGTERM');
      await weftd.dispose();
    },
  };
}

/** Headless Debian Chromium; Playwright gives it a fresh user-data-dir. */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  });
}

/** A new context (own storage) and page on weftd's app. */
export async function newPage(browser, url, viewport = { width: 1100, height: 800 }) {
  const context = await browser.newContext({ baseURL: url, viewport });
  context.setDefaultTimeout(kTimeout);
  const page = await context.newPage();
  page.on('pageerror', (e) => console.error('[page error]', e.message));
  page.on('console', (m) => m.type() === 'error' && !m.text().includes('404') && console.error('[console]', m.text()));
  // The last sync frames, for failure messages.
  page.syncFrames = [];
  const note = (s) => page.syncFrames.push(s) > 60 && page.syncFrames.shift();
  const hex = (p) => [...(typeof p === 'string' ? Buffer.from(p) : p).subarray(0, 40)].map((x) => x.toString(16).padStart(2, '0')).join(' ');
  page.on('websocket', (w) => {
    note(`open ${w.url()}`);
    w.on('framereceived', (f) => note(`< ${hex(f.payload)}`));
    w.on('framesent', (f) => note(`> ${hex(f.payload)}`));
    w.on('close', () => note('closed'));
  });
  return { context, page };
}

/** Writes a screenshot as a test artifact (and for the README). */
export async function screenshot(page, name) {
  const dir = resolve(process.env.WEFT_SCREENSHOTS ?? join(here, '..', 'test-results', 'screenshots'));
  mkdirSync(dir, { recursive: true });
  await page.screenshot({ path: join(dir, `${name}.png`) });
}

let counter = 0;
/** Signs up a new user through the UI; returns their email and password. */
export async function signUp(page, name) {
  const email = `${name.toLowerCase()}-${process.pid}-${++counter}@example.com`;
  const password = 'correct horse battery';
  await page.goto('/signup');
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Email', { exact: true }).fill(email);
  await page.getByLabel('Password (10 characters or more)', { exact: true }).fill(password);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await page.getByRole('heading', { name: 'Workspaces' }).waitFor();
  return { email, password };
}

/** Creates a workspace through the UI and returns its id (from the URL). */
export async function createWorkspace(page, name) {
  await page.goto('/');
  await page.getByLabel('New workspace', { exact: true }).fill(name);
  await page.getByRole('button', { name: 'Create workspace' }).click();
  await page.waitForURL(/\/w\/[^/]+$/);
  return new URL(page.url()).pathname.split('/')[2];
}

/** Invites `email` with `role`, and has `other` accept through the link. */
export async function inviteAndAccept(owner, wsId, email, role, other) {
  await owner.goto(`/w/${wsId}/members`);
  await owner.getByLabel('Email', { exact: true }).fill(email);
  await owner.getByLabel('Role', { exact: true }).selectOption(role);
  await owner.getByRole('button', { name: 'Invite' }).click();
  const link = await owner.getByLabel('Invitation link', { exact: true }).inputValue();
  await other.goto(link);
  await other.getByRole('button', { name: 'Accept invitation' }).waitFor();
  await screenshot(other, 'accept-invitation');
  await other.getByRole('button', { name: 'Accept invitation' }).click();
  await other.waitForURL(new RegExp(`/w/${wsId}$`));
}

/** Creates a document of `kind` through the UI; returns its id. */
export async function createDocument(page, wsId, kind, title) {
  await page.goto(`/w/${wsId}`);
  await page.getByLabel('Title', { exact: true }).fill(title);
  await page.getByLabel('Kind', { exact: true }).selectOption(kind);
  await page.getByRole('button', { name: 'Create document' }).click();
  await page.waitForURL(/\/d\/[^/]+$/);
  return new URL(page.url()).pathname.split('/')[2];
}

/**
 * Two people in two contexts: Ada owns a workspace with one document of
 * `kind`, Bea joined with `role`; both have the document open.
 */
export async function twoPeopleOnDocument(browser, server, kind, role = 'editor') {
  const a = await newPage(browser, server.url);
  const b = await newPage(browser, server.url);
  const ada = await signUp(a.page, 'Ada');
  const bea = await signUp(b.page, 'Bea');
  const ws = await createWorkspace(a.page, `Team ${kind}`);
  const docId = await createDocument(a.page, ws, kind, `Shared ${kind}`);
  await inviteAndAccept(a.page, ws, bea.email, role, b.page);
  await a.page.goto(`/d/${docId}`);
  await b.page.goto(`/d/${docId}`);
  for (const p of [a.page, b.page]) {
    try {
      await p.locator(`section.doc[data-kind="${kind}"]`).waitFor();
    } catch (e) {
      throw new Error(`${e.message}\npage ${p.url()}: ${await p.locator('body').innerHTML()}\nsync frames:\n${p.syncFrames.join('\n')}`);
    }
  }
  return { a, b, ws, docId, ada, bea };
}

/** The text of the CodeMirror editor on `page`. */
export function editorText(page) {
  // The lines without the peers' caret labels (widgets inside the lines).
  return page.locator('.cm-content').evaluate((el) => [...el.querySelectorAll('.cm-line')].map((line) => {
    const copy = line.cloneNode(true);
    for (const w of copy.querySelectorAll('.cm-weft-caret, .cm-widgetBuffer')) w.remove();
    return copy.textContent;
  }).join('\n'));
}

/** Waits until `fn()` returns a truthy value; returns it. */
export async function until(fn, what, timeout = kTimeout) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last: ${last})`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Whether `needle`'s characters appear in `hay` in order. */
export function isSubsequence(needle, hay) {
  let i = 0;
  for (const ch of hay) if (ch === needle[i]) ++i;
  return i === needle.length;
}

/** An access token for `who` ({email, password}) straight from the API. */
export async function apiToken(request, server, who) {
  const res = await request.post(`${server.url}/api/v1/auth/login`, { data: { email: who.email, password: who.password } });
  if (!res.ok()) throw new Error(`login failed: ${res.status()}`);
  return (await res.json()).access_token;
}

/** One weftd and one browser for a test file: { server, browser }, set before its tests run. */
export function weftdAndBrowser() {
  const env = {};
  before(async () => {
    env.server = await startWeftd();
    env.browser = await launchBrowser();
  });
  after(async () => {
    await env.browser?.close();
    await env.server?.stop();
  });
  return env;
}
