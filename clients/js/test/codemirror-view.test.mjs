// The CodeMirror 6 view plugin in a DOM (jsdom): editors bound to weft
// texts through a real weftd exchange typing, draw peers as labelled
// carets, and are read-only for viewers.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { JSDOM } from 'jsdom';
import { Weftd, eventually, within } from './weftd.mjs';

const dom = new JSDOM('<!doctype html><html><body></body></html>', { pretendToBeVisual: true });
for (const k of ['window', 'document', 'MutationObserver', 'requestAnimationFrame', 'cancelAnimationFrame', 'getComputedStyle', 'getSelection']) {
  const v = k === 'window' ? dom.window : dom.window[k];
  Object.defineProperty(globalThis, k, { value: typeof v === 'function' ? v.bind(dom.window) : v, configurable: true, writable: true });
}
const { EditorState } = await import('@codemirror/state');
const { EditorView } = await import('@codemirror/view');
const { WeftClient } = await import('../dist/index.js');
const { weftCollab, bindCodeMirror } = await import('../dist/codemirror.js');

const server = new Weftd();
before(async () => server.start());
after(async () => server.dispose());

const cleanup = [];
after(async () => {
  for (const f of cleanup.reverse()) await f();
});

async function open(user, doc) {
  const c = await WeftClient.create({ url: server.url, storage: 'memory', presenceThrottleMs: 20 });
  cleanup.push(() => c.close());
  await c.auth.signIn({ email: user.email, password: user.password });
  return c.openText(doc);
}

// Two editors bound to `text` once their bindings have started; `shown`
// gets every text the second one changed to.
async function twoBound(text, shown = []) {
  const a = editor(text.value(), [weftCollab(text)]);
  const b = editor(text.value(), [weftCollab(text), EditorView.updateListener.of((u) => u.docChanged && shown.push(u.state.doc.toString()))]);
  await new Promise((r) => setTimeout(r, 0));
  return [a, b];
}

function editor(doc, extensions = []) {
  const view = new EditorView({ state: EditorState.create({ doc, extensions }), parent: document.body });
  cleanup.push(() => view.destroy());
  return view;
}

test('two bound editors exchange typing, and peers show as labelled carets', async () => {
  const t = await server.team('editor');
  const ta = await open(t.alice, t.doc);
  const tb = await open(t.bob, t.doc);
  const a = editor(ta.value(), [weftCollab(ta)]);
  const b = editor('not the document');
  bindCodeMirror(b, tb);
  assert.equal(b.state.doc.toString(), '', 'bindCodeMirror shows the document');

  a.dispatch({ changes: { from: 0, insert: 'héllo 😀 world' } });
  assert.equal(ta.value(), 'héllo 😀 world', 'a local transaction is a weft edit');
  await within(ta.whenSynced(), 'alice to sync');
  await eventually(() => b.state.doc.toString() === 'héllo 😀 world', 'the edit in bob’s editor');

  const end = b.state.doc.length;
  b.dispatch({ changes: [{ from: 0, insert: '> ' }, { from: end, insert: '!' }] });
  // Seen while it lasts (the flag clears after 1.5 s without typing).
  await eventually(() => ta.presence.peers()[0]?.typing === true, 'bob typing');
  await within(tb.whenSynced(), 'bob to sync');
  await eventually(() => a.state.doc.toString() === '> héllo 😀 world!', 'bob’s edit in alice’s editor');
  assert.equal(ta.value(), a.state.doc.toString());

  await new Promise((r) => setTimeout(r, 50)); // the binding's own presence update goes first
  const at = a.state.doc.toString().indexOf('world');
  ta.presence.set({ name: 'Alice', color: '#ff0000', cursor: at });
  await eventually(() => b.dom.querySelector('.cm-weft-caret-label')?.textContent === 'Alice', 'alice’s caret in bob’s editor');
  const caret = b.dom.querySelector('.cm-weft-caret');
  assert.match(caret.getAttribute('style'), /border-left-color: (#ff0000|rgb\(255, 0, 0\))/);
  // The caret sits just before "world" in bob's editor.
  assert.equal(b.posAtDOM(caret), b.state.doc.toString().indexOf('world'));
  await eventually(() => ta.presence.peers()[0]?.typing === false, 'bob’s typing to stop', 4000);
});

test('edits the app makes through the handle, and those of another editor bound to it, show in the editor', async () => {
  const t = await server.team('editor');
  const ta = await open(t.alice, t.doc);
  const a = editor(ta.value(), [weftCollab(ta)]);
  const a2 = editor(ta.value(), [weftCollab(ta)]);
  ta.insert(0, '# Title\n');  // a toolbar button, say
  assert.equal(a.state.doc.toString(), '# Title\n');
  assert.equal(a2.state.doc.toString(), '# Title\n');
  a.dispatch({ changes: { from: a.state.doc.length, insert: 'body' } });
  assert.equal(ta.value(), '# Title\nbody');
  assert.equal(a2.state.doc.toString(), '# Title\nbody', 'the other editor on the handle');
  assert.equal(a.state.doc.toString(), '# Title\nbody', 'not applied twice in its own editor');
  // Typing goes on at the right place in both.
  a2.dispatch({ changes: { from: 2, insert: 'My ' } });
  assert.equal(ta.value(), '# My Title\nbody');
  assert.equal(a.state.doc.toString(), ta.value());
  await within(ta.whenSynced(), 'alice to sync');
  const tb = await open(t.bob, t.doc);
  await eventually(() => tb.value() === '# My Title\nbody', 'bob to get the text');
});

test('an edit the app makes from inside the editor\'s own change shows in the editor', async () => {
  const t = await server.team('editor');
  const ta = await open(t.alice, t.doc);
  // The app closes every "(" typed, through the handle, from its listener.
  ta.on('change', (ev) => {
    const c = ev.changes?.[0];
    if (ev.origin === 'local' && c?.inserted.endsWith('(')) ta.insert(c.pos + c.inserted.length, ')');
  });
  const [a, b] = await twoBound(ta); // b: a second editor on the handle
  a.dispatch({ changes: { from: 0, insert: 'f(' }, selection: { anchor: 2 } });
  await new Promise((r) => setTimeout(r, 0)); // the bindings catch up after the update
  assert.equal(ta.value(), 'f()');
  assert.equal(a.state.doc.toString(), 'f()');
  assert.equal(b.state.doc.toString(), 'f()', 'the other editor too');
  assert.equal(a.state.selection.main.head, 2, 'the caret stays between the brackets');
  a.dispatch({ changes: { from: 2, insert: 'x' }, selection: { anchor: 3 } });
  assert.equal(ta.value(), 'f(x)', 'typing goes on at the right place');
  assert.equal(a.state.doc.toString(), 'f(x)');
  assert.equal(b.state.doc.toString(), 'f(x)');
});

test('a second editor follows an app edit made from inside a change, also when the length stays', async () => {
  const t = await server.team('editor');
  const ta = await open(t.alice, t.doc);
  ta.insert(0, 'xy');
  // The app capitalizes a typed "q" from its listener: a delete and an
  // insert that leave the length as it was.
  ta.on('change', (ev) => {
    const c = ev.changes?.[0];
    if (ev.origin === 'local' && c?.inserted === 'q') {
      ta.delete(c.pos, 1);
      ta.insert(c.pos, 'Q');
    }
  });
  const shown = [];
  const [a, b] = await twoBound(ta, shown);
  a.dispatch({ changes: { from: 0, insert: 'q' }, selection: { anchor: 1 } });
  await new Promise((r) => setTimeout(r, 0)); // the bindings catch up after the update
  assert.equal(ta.value(), 'Qxy');
  assert.equal(a.state.doc.toString(), 'Qxy');
  assert.equal(b.state.doc.toString(), 'Qxy');
  // b got the changes in their order: "q" before the delete and insert
  // that answered it (heard the other way round, it showed "y", "Qy",
  // "qQy" until a resync).
  assert.deepEqual(shown, ['qxy', 'xy', 'Qxy']);
});

test('an editor changed from inside a change listener applies its own edit once', async () => {
  const t = await server.team('editor');
  const ta = await open(t.alice, t.doc);
  ta.insert(0, 'x');
  let b = null;
  // The app types into editor b when someone types "!" (a macro, say):
  // b's edit reaches the handle while the "!" is being delivered, so its
  // event comes after that delivery, when b is no longer applying it.
  ta.on('change', (ev) => {
    if (ev.origin === 'local' && ev.changes?.[0]?.inserted === '!') b.dispatch({ changes: { from: 0, insert: '>' } });
  });
  const a = editor(ta.value(), [weftCollab(ta)]);
  const seen = []; // every text editor b showed
  b = editor(ta.value(), [weftCollab(ta), EditorView.updateListener.of((u) => seen.push(u.state.doc.toString()))]);
  await new Promise((r) => setTimeout(r, 0)); // the bindings have started
  a.dispatch({ changes: { from: 1, insert: '!' } });
  assert.equal(ta.value(), '>x!');
  await new Promise((r) => setTimeout(r, 0)); // the bindings catch up
  assert.equal(b.state.doc.toString(), '>x!');
  assert.equal(a.state.doc.toString(), '>x!');
  // b's edit came back to it as an event after the "!": it was not
  // applied a second time, and the "!" not at a place shifted by it.
  assert.ok(!seen.some((d) => d.includes('>>') || d === '>!x'), seen.join(' | '));
});

test("a viewer's editor is read-only", async () => {
  const t = await server.team('viewer');
  const tb = await open(t.bob, t.doc);
  const b = editor(tb.value(), [weftCollab(tb)]);
  await eventually(() => b.state.readOnly === true, 'read-only state');
  assert.equal(b.contentDOM.getAttribute('contenteditable'), 'false');
});
