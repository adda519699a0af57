// Offline: edits made offline, kept across a reload while still offline
// (the app shell from the service worker, the edits from IndexedDB), reach
// the other person exactly once when the connection returns.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  apiToken, createDocument, createWorkspace, editorText, newPage, screenshot, signUp, twoPeopleOnDocument, until, weftdAndBrowser,
} from './harness.mjs';

const env = weftdAndBrowser();

function count(hay, needle) {
  return hay.split(needle).length - 1;
}

test('offline edits survive a reload while offline and arrive exactly once', { timeout: 240_000 }, async () => {
  const { server, browser } = env;
  const { a, b, docId, ada } = await twoPeopleOnDocument(browser, server, 'text');
  // The service worker controls the page (it cached the shell at install).
  await a.page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((r) => navigator.serviceWorker.addEventListener('controllerchange', r, { once: true }));
    }
  });
  await a.page.locator('.cm-content').click();
  await a.page.keyboard.type('Online start. ');
  try {
    await until(async () => (await editorText(b.page)) === 'Online start. ', 'the online edit on Bea\'s screen');
  } catch (e) {
    throw new Error(`${e.message}\nAda's text: ${JSON.stringify(await editorText(a.page))}\n` +
      `Bea's text: ${JSON.stringify(await editorText(b.page))}\n` +
      `Ada's sync frames:\n${a.page.syncFrames.slice(-30).join('\n')}\nBea's sync frames:\n${b.page.syncFrames.slice(-30).join('\n')}\n` +
      `weftd log (tail):\n${env.server.log().split('\n').slice(-40).join('\n')}`);
  }
  await a.page.locator('#status[data-status="online"]').waitFor();

  await a.context.setOffline(true);
  await a.page.locator('#status[data-status="offline"]').waitFor();
  await a.page.keyboard.press('End');
  await a.page.keyboard.type('First offline. ');
  await a.page.locator('#status', { hasText: 'edits waiting' }).waitFor();
  // Bea keeps editing meanwhile.
  await b.page.locator('.cm-content').click();
  await b.page.keyboard.press('Control+Home');
  await b.page.keyboard.type('Bea online. ');
  await screenshot(a.page, 'offline');

  // The SDK writes its queue to IndexedDB; wait until it holds something.
  await until(() => a.page.evaluate(() => new Promise((resolve) => {
    const open = indexedDB.open(`weft:${location.origin}`);
    open.onsuccess = () => {
      const db = open.result;
      if (!db.objectStoreNames.contains('pending')) return resolve(false);
      const req = db.transaction('pending').objectStore('pending').count();
      req.onsuccess = () => { db.close(); resolve(req.result > 0); };
      req.onerror = () => resolve(false);
    };
    open.onerror = () => resolve(false);
  })), 'the offline edits in IndexedDB');

  // Reload while still offline: the app and the edits come back.
  await a.page.reload();
  await a.page.locator('section.doc[data-kind="text"]').waitFor();
  await until(async () => (await editorText(a.page)).includes('First offline. '), 'the offline edit after the reload');
  await a.page.locator('#status[data-status="offline"]').waitFor();
  await a.page.locator('.cm-content').click();
  await a.page.keyboard.press('Control+End');
  await a.page.keyboard.type('Second offline.');

  await a.context.setOffline(false);
  const final = await until(async () => {
    const [ta, tb] = [await editorText(a.page), await editorText(b.page)];
    return ta === tb && ta.includes('Second offline.') && ta.includes('Bea online. ') ? ta : null;
  }, 'both screens to converge after reconnecting');
  await a.page.locator('#status[data-status="online"]').waitFor();
  for (const part of ['Online start. ', 'First offline. ', 'Second offline.', 'Bea online. ']) {
    assert.equal(count(final, part), 1, `${JSON.stringify(part)} once in ${JSON.stringify(final)}`);
  }
  assert.equal(final.length, 'Online start. First offline. Second offline.Bea online. '.length);
  // The server too, and nothing is pending.
  const token = await apiToken(a.context.request, server, ada);
  await until(async () => {
    const res = await a.context.request.get(`${server.url}/api/v1/documents/${docId}/content`, { headers: { Authorization: `Bearer ${token}` } });
    return res.ok() && (await res.json()).text === final;
  }, 'the server to hold the converged text');
  await a.context.close();
  await b.context.close();
});

test('an edit this browser cannot store is flagged until it is synced', { timeout: 180_000 }, async () => {
  const { server, browser } = env;
  const { a, b } = await twoPeopleOnDocument(browser, server, 'text');
  await a.page.locator('#status[data-status="online"]').waitFor();
  await a.context.setOffline(true);
  await a.page.locator('#status[data-status="offline"]').waitFor();
  // IndexedDB refuses the queue's records from now on (a full quota).
  await a.page.evaluate(() => {
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function (...args) {
      if (this.name === 'pending') throw new DOMException('the quota is used up', 'QuotaExceededError');
      return put.apply(this, args);
    };
  });
  await a.page.locator('.cm-content').click();
  await a.page.keyboard.type('Not stored.');
  await a.page.locator('#status[data-not-stored="true"]', { hasText: 'keep this tab open' }).waitFor();
  await screenshot(a.page, 'not-stored');
  await a.context.setOffline(false);
  await until(async () => (await editorText(b.page)) === 'Not stored.', "the edit on Bea's screen");
  await a.page.locator('#status[data-status="online"][data-not-stored="false"]').waitFor();
});

test('a document slow to open says so at once, then opens', { timeout: 180_000 }, async () => {
  const { server, browser } = env;
  const a = await newPage(browser, server.url);
  await signUp(a.page, 'Ada');
  const ws = await createWorkspace(a.page, 'Slow team');
  const docId = await createDocument(a.page, ws, 'text', 'Slow doc');
  await a.page.locator('section.doc[data-kind="text"]').waitFor(); // its title is remembered
  await a.page.goto(`/w/${ws}`);
  // The document's metadata is held back until the page has said it is
  // slow (a slow server; a fixed delay raced the page's own timer on a
  // busy machine).
  let release;
  const held = new Promise((r) => (release = r));
  await a.page.route(`**/api/v1/documents/${docId}`, async (route) => {
    await held;
    await route.continue();
  });
  await a.page.getByRole('link', { name: 'Slow doc' }).click();
  // At once: the page the link was on goes, the one opening says so.
  try {
    await a.page.locator('[data-opening]', { hasText: 'Opening “Slow doc”…' }).waitFor({ timeout: 1000 });
  } catch (e) {
    throw new Error(`${e.message}\n${a.page.url()}: ${await a.page.locator('main, body').first().innerHTML()}`);
  }
  await a.page.locator('[data-opening]', { hasText: 'the server is slow to answer' }).waitFor();
  release();
  await a.page.locator('section.doc[data-kind="text"]').waitFor();
  assert.equal(await a.page.locator('[data-opening]').count(), 0);
  await a.context.close();
});
