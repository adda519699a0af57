// Two people editing the same document at once, each in their own browser
// context, through a real weftd: text, board and canvas.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { apiToken, editorText, isSubsequence, screenshot, twoPeopleOnDocument, until, weftdAndBrowser } from './harness.mjs';

const env = weftdAndBrowser();

test('text: two people type into the same document at once and end with identical text', { timeout: 180_000 }, async () => {
  const { server, browser } = env;
  const { a, b, docId, ada } = await twoPeopleOnDocument(browser, server, 'text');
  // Each sees the other's avatar.
  await a.page.locator('.avatars [data-peer="Bea"]').waitFor();
  await b.page.locator('.avatars [data-peer="Ada"]').waitFor();
  const fromA = 'Ada writes the introduction. ';
  const fromB = 'Bea adds the conclusion! ';
  await a.page.locator('.cm-content').click();
  await b.page.locator('.cm-content').click();
  // Ada sees Bea typing (her avatar says so while she types).
  const typingSeen = a.page.locator('.avatars [data-peer="Bea"].typing').waitFor();
  await Promise.all([
    a.page.keyboard.type(fromA, { delay: 15 }),
    b.page.keyboard.type(fromB, { delay: 15 }),
  ]);
  await typingSeen;
  const text = await until(async () => {
    const [ta, tb] = [await editorText(a.page), await editorText(b.page)];
    return ta === tb && ta.length === fromA.length + fromB.length ? ta : null;
  }, 'both editors to hold the same text with every keystroke');
  assert.ok(isSubsequence(fromA, text), `Ada's keystrokes in order in ${JSON.stringify(text)}`);
  assert.ok(isSubsequence(fromB, text), `Bea's keystrokes in order in ${JSON.stringify(text)}`);
  // The server holds the same text.
  await until(async () => {
    const res = await a.context.request.get(`${server.url}/api/v1/documents/${docId}/content`, {
      headers: { Authorization: `Bearer ${await apiToken(a.context.request, server, ada)}` },
    });
    return res.ok() && (await res.json()).text === text;
  }, 'the server to hold the same text');
  // Bea's caret shows on Ada's screen with her name.
  await b.page.keyboard.press('End');
  await a.page.locator('.cm-weft-caret', { hasText: 'Bea' }).waitFor();
  await screenshot(a.page, 'text');
  await a.context.close();
  await b.context.close();
});

test('board: one moves a task while the other renames it; both changes show on both screens', { timeout: 180_000 }, async () => {
  const { server, browser } = env;
  const { a, b } = await twoPeopleOnDocument(browser, server, 'board');
  for (const p of [a.page, b.page]) await p.locator('section.column[data-column="done"]').waitFor();
  await a.page.getByLabel('New task in To do').fill('Write spec');
  await a.page.getByRole('button', { name: 'Add task to To do' }).click();
  await a.page.getByLabel('New task in To do').fill('Review spec');
  await a.page.keyboard.press('Enter');
  const cardOn = (page, title) => page.locator('li[data-task]', { has: page.locator('h3', { hasText: new RegExp(`^${title}$`) }) });
  await cardOn(b.page, 'Write spec').waitFor();
  await cardOn(b.page, 'Review spec').waitFor();

  // Ada's column pickers are not rebuilt by changes that leave the columns
  // as they are, nor by presence (rebuilding closes an open picker).
  const markPickers = (page) => page.evaluate(() => {
    for (const o of document.querySelectorAll('select[name="column"] option')) o.dataset.mark = '1';
  });
  const unmarkedPickers = (page) => page.locator('select[name="column"] option:not([data-mark])').count();
  await markPickers(a.page);

  // Bea opens the card and renames it while Ada drags it to Done.
  await b.page.getByRole('button', { name: 'Edit Write spec' }).click();
  const title = b.page.locator('li[data-task] .card-editor:not([hidden]) input[name="title"]');
  await Promise.all([
    cardOn(a.page, 'Write spec').dragTo(a.page.locator('ul[data-column="done"]')),
    title.fill('Write the spec'),
  ]);
  // Ada sees Bea typing on that card.
  await a.page.locator('li[data-task] .typing', { hasText: 'Bea typing' }).waitFor();
  assert.equal(await unmarkedPickers(a.page), 0, "Ada's column pickers were rebuilt");
  for (const p of [a.page, b.page]) {
    await p.locator('ul[data-column="done"] li[data-task] h3', { hasText: /^Write the spec$/ }).waitFor();
    await p.locator('ul[data-column="todo"] li[data-task] h3', { hasText: /^Review spec$/ }).waitFor();
    assert.equal(await p.locator('li[data-task]').count(), 2);
  }
  // Within a column too: move "Review spec" to Done above "Write the spec".
  await cardOn(a.page, 'Review spec').dragTo(cardOn(a.page, 'Write the spec'), { targetPosition: { x: 20, y: 4 } });
  for (const p of [a.page, b.page]) {
    await until(async () => (await p.locator('ul[data-column="done"] h3').allTextContents()).join('|') === 'Review spec|Write the spec',
      'Done to list Review spec above Write the spec');
  }
  // A renamed column shows on the other screen.
  await a.page.getByRole('button', { name: 'Rename column Doing' }).click();
  await a.page.getByLabel('New name for Doing', { exact: true }).fill('In review');
  await a.page.keyboard.press('Enter');
  await b.page.locator('section.column[data-column="doing"] h2', { hasText: /^In review$/ }).waitFor();
  // A renamed column does rebuild them, with the new name.
  assert.equal(await a.page.locator('select[name="column"] option', { hasText: /^In review$/ }).count(), 2);
  await b.page.locator('li[data-task] .card-editor:not([hidden]) select[name="status"]').selectOption('in progress');
  await a.page.locator('li[data-task] .card-info', { hasText: 'in progress' }).waitFor();
  await screenshot(a.page, 'board');
  await a.context.close();
  await b.context.close();
});

test("canvas: a shape dragged by one moves on the other's screen", { timeout: 180_000 }, async () => {
  const { server, browser } = env;
  const { a, b } = await twoPeopleOnDocument(browser, server, 'canvas');
  await a.page.getByRole('button', { name: 'Add rectangle' }).click();
  await a.page.getByRole('button', { name: 'Add sticky note' }).click();
  const shapeA = a.page.locator('.shape-rect');
  const shapeB = b.page.locator('.shape-rect');
  await shapeB.waitFor();
  const box = await shapeA.boundingBox();
  const [x0, y0] = [Number(await shapeA.getAttribute('data-x')), Number(await shapeA.getAttribute('data-y'))];
  // Grab it by its top-left corner: the sticky note covers its middle.
  await a.page.mouse.move(box.x + 12, box.y + 12);
  await a.page.mouse.down();
  await a.page.mouse.move(box.x + 12 + 150, box.y + 12 + 90, { steps: 8 });
  await a.page.mouse.up();
  await until(async () => Number(await shapeA.getAttribute('data-x')) === x0 + 150 && Number(await shapeA.getAttribute('data-y')) === y0 + 90,
    "the shape to follow Ada's drag");
  await until(async () => Number(await shapeB.getAttribute('data-x')) === x0 + 150 && Number(await shapeB.getAttribute('data-y')) === y0 + 90,
    "the shape to move on Bea's screen");

  // Recolour and bring to front on Bea's side show on Ada's.
  await shapeB.click();
  await b.page.getByLabel('Colour', { exact: true }).fill('#ff0000');
  await until(async () => (await shapeA.evaluate((el) => getComputedStyle(el).backgroundColor)) === 'rgb(255, 0, 0)', 'the new colour on Ada\'s screen');
  await b.page.getByRole('button', { name: 'Bring to front' }).click();
  await until(async () => Number(await shapeA.evaluate((el) => el.style.zIndex)) >
    Number(await a.page.locator('.shape-sticky').evaluate((el) => el.style.zIndex)), 'the rectangle in front on Ada\'s screen');
  // Keyboard resize on Ada's side (shift+arrow) reaches Bea.
  const w0 = (await shapeB.boundingBox()).width;
  await shapeA.focus();
  await a.page.keyboard.press('Shift+ArrowRight');
  await until(async () => Math.round((await shapeB.boundingBox()).width) === Math.round(w0 + 10), 'the wider shape on Bea\'s screen');

  // Ada's pointer, with her name, on Bea's screen.
  const canvas = await a.page.locator('.canvas').boundingBox();
  await a.page.mouse.move(canvas.x + 400, canvas.y + 300, { steps: 3 });
  await b.page.locator('.pointer[data-peer="Ada"]').waitFor();
  await screenshot(b.page, 'canvas');
  await a.context.close();
  await b.context.close();
});
