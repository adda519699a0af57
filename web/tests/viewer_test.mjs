// A viewer sees documents live but cannot change them: not in the UI
// (text, board, canvas), and not at the server (a raw sync submit is
// refused with 403 forbidden).
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { apiToken, createDocument, editorText, screenshot, twoPeopleOnDocument, until, weftdAndBrowser } from './harness.mjs';

const require = createRequire(import.meta.url);
const env = weftdAndBrowser();

/** An engine update inserting `s` as client `clientId`: {update, span}. */
async function textUpdate(clientId, s) {
  const createWeft = require('../../clients/js/dist/engine/weft.cjs');
  const weft = await createWeft();
  const doc = new weft.TextDoc(clientId);
  const empty = new weft.TextDoc(clientId + 1);
  doc.insert(0, s);
  const out = { update: [...doc.diff(empty.stateVector())], span: doc.opCount(clientId) };
  doc.delete();
  empty.delete();
  return out;
}

/** From the page: hello, subscribe, submit one change; the error code the server answers. */
function submitAsViewer(page, { url, token, docId, clientId, update, span }) {
  return page.evaluate(({ url, token, docId, clientId, update, span }) => new Promise((resolve, reject) => {
    const varuint = (n) => { const out = []; while (n >= 0x80) { out.push((n % 0x80) | 0x80); n = Math.floor(n / 0x80); } out.push(n); return out; };
    const bytes = (b) => [...varuint(b.length), ...b];
    const str = (s) => bytes([...new TextEncoder().encode(s)]);
    const readVaruint = (b, i) => { let n = 0; let m = 1; for (;;) { const x = b[i++]; n += (x & 0x7f) * m; m *= 0x80; if (x < 0x80) return [n, i]; } };
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/api/v1/sync', 'weft.v1');
    ws.binaryType = 'arraybuffer';
    const timer = setTimeout(() => reject(new Error('no answer')), 20000);
    ws.onopen = () => ws.send(new Uint8Array([0x01, ...varuint(1), ...str(token), ...str('viewer-test')]));
    ws.onmessage = (m) => {
      const b = new Uint8Array(m.data);
      if (b[0] === 0x81) ws.send(new Uint8Array([0x03, ...str(docId), ...varuint(0)]));
      if (b[0] === 0x85) {
        ws.send(new Uint8Array([0x05, ...str(docId), ...varuint(1), ...varuint(clientId), ...varuint(0), ...varuint(span), ...bytes(update)]));
      }
      if (b[0] === 0x86) { clearTimeout(timer); ws.close(); resolve('acknowledged'); }
      if (b[0] === 0x8a) { clearTimeout(timer); ws.close(); resolve(readVaruint(b, 1)[0]); }
    };
    ws.onerror = () => reject(new Error('websocket error'));
  }), { url, token, docId, clientId, update, span });
}

test('a viewer cannot change anything, in the UI and at the server', { timeout: 240_000 }, async () => {
  const { server, browser } = env;
  const { a, b, ws, docId, ada, bea } = await twoPeopleOnDocument(browser, server, 'text', 'viewer');
  await b.page.getByText('viewer: read only').waitFor();
  // Text: the owner's typing arrives; the viewer's does not change it.
  await a.page.locator('.cm-content').click();
  await a.page.keyboard.type('Owner wrote this.');
  await until(async () => (await editorText(b.page)) === 'Owner wrote this.', "the owner's text on the viewer's screen");
  assert.equal(await b.page.locator('.cm-content').getAttribute('contenteditable'), 'false');
  await b.page.locator('.cm-content').click();
  await b.page.keyboard.type('viewer was here');
  await b.page.keyboard.press('Backspace');
  assert.equal(await editorText(b.page), 'Owner wrote this.');
  await screenshot(b.page, 'viewer-text');

  // At the server: a submit over the sync protocol with the viewer's token.
  const { update, span } = await textUpdate(4242, 'sneaky');
  const code = await submitAsViewer(b.page, { url: server.url, token: await apiToken(b.context.request, server, bea), docId, clientId: 4242, update, span });
  assert.equal(code, 403);
  // The same submit from the owner is accepted (the check can fail).
  const owner = await submitAsViewer(a.page, { url: server.url, token: await apiToken(a.context.request, server, ada), docId, clientId: 4343, ...(await textUpdate(4343, 'ok ')) });
  assert.equal(owner, 'acknowledged');
  await until(async () => (await editorText(b.page)).includes('ok '), "the owner's raw submit on the viewer's screen");
  assert.ok(!(await editorText(a.page)).includes('sneaky'));

  // Board: no way to add, edit or drag.
  const boardId = await createDocument(a.page, ws, 'board', 'Plan');
  await a.page.locator('section.column[data-column="todo"]').waitFor();
  await a.page.getByLabel('New task in To do', { exact: true }).fill('Owner task');
  await a.page.keyboard.press('Enter');
  await b.page.goto(`/d/${boardId}`);
  await b.page.locator('li[data-task] h3', { hasText: 'Owner task' }).waitFor();
  assert.equal(await b.page.getByRole('button', { name: /^Add/ }).count(), 0);
  assert.equal(await b.page.locator('li[data-task]').getAttribute('draggable'), 'false');
  await b.page.getByRole('button', { name: 'Details of Owner task' }).click();
  assert.equal(await b.page.locator('.card-editor input[name="title"]').getAttribute('readonly'), '');
  assert.equal(await b.page.getByRole('button', { name: /Move|Delete/ }).count(), 0);

  // Canvas: no tools; arrow keys and drags do not move shapes.
  const canvasId = await createDocument(a.page, ws, 'canvas', 'Sketch');
  await a.page.getByRole('button', { name: 'Add ellipse' }).click();
  await b.page.goto(`/d/${canvasId}`);
  const shape = b.page.locator('.shape-ellipse');
  await shape.waitFor();
  assert.equal(await b.page.getByRole('toolbar', { name: 'Canvas tools' }).count(), 0);
  const x0 = await shape.getAttribute('data-x');
  await shape.focus();
  await b.page.keyboard.press('ArrowRight');
  const box = await shape.boundingBox();
  await b.page.mouse.move(box.x + 10, box.y + 10);
  await b.page.mouse.down();
  await b.page.mouse.move(box.x + 110, box.y + 60, { steps: 4 });
  await b.page.mouse.up();
  assert.equal(await shape.getAttribute('data-x'), x0);
  assert.equal(await a.page.locator('.shape-ellipse').getAttribute('data-x'), x0);
  await a.context.close();
  await b.context.close();
});

test('an editor made a viewer, then removed, while the text is open is told so and cannot type', { timeout: 240_000 }, async () => {
  const { server } = env;
  const { a, b, ws, ada, bea } = await twoPeopleOnDocument(env.browser, server, 'text', 'editor');
  await b.page.locator('.cm-content').click();
  await b.page.keyboard.type('Bea wrote this.');
  await until(async () => (await editorText(a.page)) === 'Bea wrote this.', "Bea's text on Ada's screen");
  // Ada makes Bea a viewer through the API.
  const token = await apiToken(a.context.request, server, ada);
  const headers = { authorization: `Bearer ${token}` };
  const members = await (await a.context.request.get(`${server.url}/api/v1/workspaces/${ws}/members`, { headers })).json();
  const beaId = members.items.find((m) => m.email === bea.email).user_id;
  const res = await a.context.request.patch(`${server.url}/api/v1/workspaces/${ws}/members/${beaId}`, { headers, data: { role: 'viewer' } });
  assert.equal(res.status(), 200);
  // Her next keystroke is refused and rolled back; then the editor takes
  // no more (it stayed editable, every keystroke reverted, before).
  await b.page.keyboard.type('x');
  await until(async () => (await b.page.locator('.cm-content').getAttribute('contenteditable')) === 'false', "Bea's editor to become read-only");
  await until(async () => (await editorText(b.page)) === 'Bea wrote this.', 'the refused keystroke rolled back');
  await b.page.getByText('You can now only view this document').waitFor();
  await b.page.getByText('viewer: read only').waitFor();
  await b.page.locator('.cm-content').click();
  await b.page.keyboard.type('more');
  assert.equal(await editorText(b.page), 'Bea wrote this.');
  assert.equal(await editorText(a.page), 'Bea wrote this.');
  // The workspace's activity says who was given which role.
  await a.page.goto(`/w/${ws}/activity`);
  await a.page.getByRole('list', { name: 'Activity' }).getByText('Ada changed the role of Bea to viewer').waitFor();
  // Removed from the workspace while the document is open: told so, and
  // the editor goes.
  const removed = await a.context.request.delete(`${server.url}/api/v1/workspaces/${ws}/members/${beaId}`, { headers });
  assert.equal(removed.status(), 204);
  await b.page.getByText('This document is no longer available to you').waitFor();
  await until(async () => (await b.page.locator('.cm-content').count()) === 0, "Bea's editor to go");
  await a.context.close();
  await b.context.close();
});
