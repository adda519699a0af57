// The CodeMirror 6 binding's translation, over @codemirror/state (no DOM in
// Node): CodeMirror change sets to weft edits and back, through two
// TextHandles synced by a real weftd, and peers as decorations.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { EditorState, EditorSelection } from '@codemirror/state';
import { WeftClient } from '../dist/index.js';
import { changeSetToEdits, applyToHandle, remoteTransactions, peerDecorations, weftCollab } from '../dist/codemirror.js';
import { Weftd, eventually, within } from './weftd.mjs';

test('a multi-range CodeMirror change becomes sequential weft edits', () => {
  const state = EditorState.create({ doc: 'a😀b hello world' });
  const tr = state.update({
    changes: [
      { from: 1, to: 3, insert: '🎉🎉' },
      { from: 5, to: 10, insert: 'HELLO' },
      { from: 12, to: 15, insert: 'ORL' },
      { from: 16, insert: '!' },
    ],
  });
  let s = state.doc.toString();
  const edits = changeSetToEdits(tr.changes);
  assert.equal(edits.length, 4);
  for (const e of edits) s = s.slice(0, e.pos) + e.inserted + s.slice(e.pos + e.deleted);
  assert.equal(s, tr.state.doc.toString());
});

test('peers become a labelled caret and a selection mark, clamped to the document', () => {
  const deco = peerDecorations(
    [
      { sessionId: 1, name: 'Ada', color: '#ff0000', cursor: 3, selection: { anchor: 1, head: 3 } },
      { sessionId: 2, cursor: 99 },
      { sessionId: 3, cursor: null, selection: null },
    ],
    10,
  );
  const found = [];
  deco.between(0, 10, (from, to, d) => {
    found.push({ from, to, widget: d.spec.widget?.name ?? null, cls: d.spec.class ?? null });
  });
  assert.deepEqual(
    found.sort((a, b) => a.from - b.from || a.to - b.to),
    [
      { from: 1, to: 3, widget: null, cls: 'cm-weft-selection' },
      { from: 3, to: 3, widget: 'Ada', cls: null },
      { from: 10, to: 10, widget: 'peer 2', cls: null },
    ],
  );
});

const server = new Weftd();
before(async () => server.start());
after(async () => server.dispose());

test('two editors bound to one document through weftd converge', async () => {
  const t = await server.team('editor');
  const clients = [];
  const open = async (u) => {
    const c = await WeftClient.create({ url: server.url, storage: 'memory' });
    clients.push(c);
    await c.auth.signIn({ email: u.email, password: u.password });
    return c.openText(t.doc);
  };
  const ta = await open(t.alice);
  const tb = await open(t.bob);
  let a = EditorState.create({ doc: ta.value(), extensions: [weftCollab(ta)] });
  let b = EditorState.create({ doc: tb.value(), extensions: [weftCollab(tb)] });
  ta.on('change', (ev) => {
    if (ev.origin === 'remote') a = remoteTransactions(a, ev.changes);
  });
  tb.on('change', (ev) => {
    if (ev.origin === 'remote') b = remoteTransactions(b, ev.changes);
  });
  const local = (which, spec) => {
    const tr = (which === 'a' ? a : b).update(spec);
    applyToHandle(which === 'a' ? ta : tb, tr.changes);
    if (which === 'a') a = tr.state;
    else b = tr.state;
  };
  local('a', { changes: { from: 0, insert: 'héllo 😀 wörld\nsecond line' } });
  await within(ta.whenSynced(), 'ta to sync');
  await eventually(() => b.doc.toString() === a.doc.toString(), 'bob’s editor');
  // Multi-cursor typing on bob's side, a replacement across the emoji on alice's.
  local('b', { changes: [{ from: 0, insert: '> ' }, { from: 15, insert: '> ' }], selection: EditorSelection.cursor(2) });
  const emoji = a.doc.toString().indexOf('😀');
  local('a', { changes: { from: emoji, to: emoji + 2, insert: '🙂🙂' } });
  await within(Promise.all([ta.whenSynced(), tb.whenSynced()]), 'both to sync');
  await eventually(() => a.doc.toString() === b.doc.toString() && b.doc.toString().includes('🙂🙂'), 'both editors');
  assert.equal(a.doc.toString(), ta.value());
  assert.equal(b.doc.toString(), tb.value());
  assert.equal(ta.value(), tb.value());
  assert.equal((ta.value().match(/> /g) ?? []).length, 2);
  for (const c of clients) await c.close();
});
