// Integration tests of the SDK against a real weftd (see weftd.mjs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { WeftClient, ReadOnlyError } from '../dist/index.js';
import { decodeServer } from '../dist/codec.js';
import { Weftd, eventually, within } from './weftd.mjs';

const server = new Weftd();
before(async () => server.start());
after(async () => server.dispose());

const clients = [];
async function clientFor(user, opts = {}) {
  const c = await WeftClient.create({
    url: server.url,
    storage: 'indexeddb',
    indexedDB: opts.indexedDB ?? new IDBFactory(),
    IDBKeyRange,
    reconnect: { initialDelayMs: 50, maxDelayMs: 200 },
    presenceThrottleMs: 20,
    ...opts,
  });
  clients.push(c);
  if (user) await c.auth.signIn({ email: user.email, password: user.password });
  return c;
}
after(async () => {
  for (const c of clients) await c.close();
});

test('two clients converge on a text', async () => {
  const t = await server.team('editor');
  const a = await clientFor(t.alice);
  const b = await clientFor(t.bob);
  const ta = await a.openText(t.doc);
  const tb = await b.openText(t.doc);
  const remote = [];
  tb.on('change', (ev) => remote.push(ev));
  ta.insert(0, 'hello 😀 world');
  tb.insert(0, 'Bob: ');
  await within(Promise.all([ta.whenSynced(), tb.whenSynced()]), 'both to sync');
  await eventually(() => ta.value() === tb.value() && ta.value().length === 'hello 😀 worldBob: '.length, 'convergence');
  assert.ok(ta.value().includes('hello 😀 world'));
  assert.ok(remote.some((ev) => ev.origin === 'remote'));
  // A delete across the emoji, in UTF-16 units.
  const at = ta.value().indexOf('😀');
  ta.delete(at, 2);
  await within(ta.whenSynced(), 'ta to sync');
  await eventually(() => tb.value() === ta.value() && !tb.value().includes('😀'), 'the delete to arrive');
  const content = await b.api.documents.content(t.doc);
  assert.equal(content.text, tb.value());
});

function count(s, sub) {
  return s.split(sub).length - 1;
}

test('offline edits are queued, then delivered exactly once after reconnecting', async () => {
  const t = await server.team('editor');
  const a = await clientFor(t.alice);
  const b = await clientFor(t.bob);
  const ta = await a.openText(t.doc);
  const tb = await b.openText(t.doc);
  ta.insert(0, 'base.');
  await within(ta.whenSynced(), 'ta to sync');
  await eventually(() => tb.value() === 'base.', 'base text');

  // Sent just before the connection goes: maybe received, never acknowledged.
  tb.insert(5, '[sent]');
  await new Promise((r) => setImmediate(r));
  b.setOnline(false);
  await eventually(() => b.status === 'offline', 'bob offline');
  tb.insert(0, '[off1]');
  tb.insert(tb.length, '[off2]');
  assert.equal(b.status, 'offline');
  assert.ok(b.pending >= 2, `pending ${b.pending}`);
  ta.insert(0, '[alice]');
  await within(ta.whenSynced(), 'ta to sync');

  b.setOnline(true);
  await within(b.whenSynced(), 'bob’s client to sync');
  assert.equal(b.pending, 0);
  await eventually(() => ta.value() === tb.value() && ta.value().includes('[off2]'), 'convergence');
  const content = (await a.api.documents.content(t.doc)).text;
  assert.equal(content, ta.value());
  for (const s of ['[sent]', '[off1]', '[off2]', '[alice]', 'base.']) assert.equal(count(content, s), 1, s);
  await eventually(() => b.status === 'online', 'bob online');
});

test('edits made while the server is down survive a reload and are delivered once it is back', async () => {
  const t = await server.team('editor');
  const idb = new IDBFactory();
  const b1 = await clientFor(t.bob, { indexedDB: idb });
  const tb1 = await b1.openText(t.doc);
  tb1.insert(0, 'before.');
  await within(tb1.whenSynced(), 'tb1 to sync');

  await server.stop();
  await eventually(() => b1.status === 'offline', 'offline after the server stopped');
  tb1.insert(7, '[down]');
  assert.equal(b1.pending, 1);
  await b1.close(); // "reload": the page goes away with an edit queued

  await server.start();
  // A new client on the same IndexedDB: the session and the queued edit come back.
  const b2 = await clientFor(null, { indexedDB: idb });
  assert.equal(b2.auth.user?.email, t.bob.email, 'the session survived the reload');
  const tb2 = await b2.openText(t.doc);
  assert.equal(tb2.value(), 'before.[down]', 'the local copy opens at once');
  await within(tb2.whenSynced(), 'tb2 to sync');
  const a = await clientFor(t.alice);
  const ta = await a.openText(t.doc);
  await eventually(() => ta.value() === 'before.[down]', 'alice to see the offline edit');
  assert.equal((await a.api.documents.content(t.doc)).text, 'before.[down]');
});

test('edits stored offline reach the server after a reload that does not open their document', async () => {
  for (const kind of ['text', 'board']) {
    const t = await server.team('editor', kind);
    const idb = new IDBFactory();
    const b1 = await clientFor(t.bob, { indexedDB: idb });
    const h1 = kind === 'text' ? await b1.openText(t.doc) : await b1.openDoc(t.doc);
    const edit = (h, k) => (kind === 'text' ? h.insert(h.length, `[${k}]`) : h.mapSet('map:meta', k, 1));
    edit(h1, 'base');
    await within(h1.whenSynced(), 'synced');
    b1.setOnline(false);
    await eventually(() => b1.status === 'offline', 'offline');
    edit(h1, 'offline');
    assert.equal(b1.pending, 1);
    await b1.close(); // a reload, the edit unacknowledged

    // The next page load opens nothing: the stored edit goes out all the same.
    const b2 = await clientFor(null, { indexedDB: idb });
    assert.equal(b2.auth.user?.email, t.bob.email);
    await within(b2.whenSynced(), `the stored edit acknowledged (${kind})`);
    assert.equal(b2.pending, 0);
    await eventually(() => b2.status === 'online', 'online');
    const content = await b2.api.documents.content(t.doc);
    if (kind === 'text') assert.equal(content.text, '[base][offline]');
    else assert.deepEqual(content['map:meta'], { base: 1, offline: 1 });

    // A collaborator sees it without bob opening the document.
    const a = await clientFor(t.alice);
    const ha = kind === 'text' ? await a.openText(t.doc) : await a.openDoc(t.doc);
    if (kind === 'text') assert.equal(ha.value(), '[base][offline]');
    else assert.deepEqual(ha.toJSON()['map:meta'], { base: 1, offline: 1 });
  }
});

test('a reloaded client that opens the document whose stored edits it is sending gets that session', async () => {
  const t = await server.team('editor');
  const idb = new IDBFactory();
  const b1 = await clientFor(t.bob, { indexedDB: idb });
  const tb1 = await b1.openText(t.doc);
  tb1.insert(0, 'base.');
  await within(tb1.whenSynced(), 'synced');
  b1.setOnline(false);
  await eventually(() => b1.status === 'offline', 'offline');
  tb1.insert(5, '[off]');
  await b1.close();

  // The server is down at the reload: the background session waits for it.
  await server.stop();
  // (A handshake with a stopped server can hang: dropped after 1 s, not 15.)
  const b2 = await clientFor(null, { indexedDB: idb, reconnect: { initialDelayMs: 50, maxDelayMs: 200, welcomeTimeoutMs: 1000 } });
  await eventually(() => b2.pending === 1, 'the stored edit counted before anything is opened');
  const tb2 = await b2.openText(t.doc);
  assert.equal(tb2.value(), 'base.[off]');
  assert.equal(b2.pending, 1, 'one session, one edit owed');
  await server.start();
  await within(tb2.whenSynced(), 'the handle synced');
  assert.equal(tb2.isClosed, false, 'still open once its stored edit is acknowledged');
  tb2.insert(tb2.length, '[more]');
  await within(b2.whenSynced(), 'the client synced');
  assert.equal((await b2.api.documents.content(t.doc)).text, 'base.[off][more]');
});

test('offline edits of several reloads go out in the order they were typed, whatever the client ids', async () => {
  const t = await server.team('editor');
  const idb = new IDBFactory();
  const b1 = await clientFor(t.bob, { indexedDB: idb });
  const tb1 = await b1.openText(t.doc);
  tb1.insert(0, 'A');
  await within(tb1.whenSynced(), 'tb1 to sync');
  await server.stop();
  await eventually(() => b1.status === 'offline', 'offline after the server stopped');
  tb1.insert(1, 'B');
  const firstId = tb1.clientId;
  await b1.close();
  // Reloads, still offline, each typing after the last, until a session
  // gets a smaller client id than the first one: a store hands changes
  // back by client id, and that session's change depends on the first's.
  let text = 'AB';
  for (let n = 0; ; n++) {
    assert.ok(n < 40, 'no session with a smaller client id in 40 reloads');
    const b = await clientFor(null, { indexedDB: idb });
    const tb = await b.openText(t.doc);
    assert.equal(tb.value(), text, 'the local copy opens offline');
    tb.insert(text.length, String(n % 10));
    text += String(n % 10);
    const id = tb.clientId;
    await b.close();
    if (id < firstId) break;
  }
  await server.start();
  const b9 = await clientFor(null, { indexedDB: idb });
  let rejected = null;
  const tb9 = await b9.openText(t.doc);
  tb9.on('rejected', (e) => (rejected = e));
  await within(tb9.whenSynced(), 'the offline edits to be acknowledged');
  assert.equal(rejected, null, 'the server refused the offline edits');
  assert.equal(tb9.value(), text);
  assert.equal((await b9.api.documents.content(t.doc)).text, text);
});

test('signing out or closing while a document is still opening', async () => {
  const t = await server.team('editor');
  const c = await clientFor(t.bob);
  const opening = c.openText(t.doc).catch((e) => e);  // init() is reading the store
  await c.auth.signOut();
  assert.equal(c.auth.user, null, 'still signed in');
  assert.match(String((await within(opening, 'openText to settle'))?.message), /closed/);
  const d = await clientFor(t.bob);
  const again = d.openText(t.doc).catch((e) => e);
  await d.close();
  assert.match(String((await within(again, 'openText to settle'))?.message), /closed/);
});

test('edits the server lost when restored from a backup are sent again by the client that made them', async () => {
  const t = await server.team('editor');
  const b = await clientFor(t.bob);
  const seen = [];
  b.on('error', (e) => seen.push(`error ${e.code} ${e.message}`));
  const tb = await b.openText(t.doc);
  tb.on('rejected', (e) => seen.push(`rejected ${e.code} ${e.message}`));
  await within(tb.whenSynced(), 'tb to sync');
  const data = path.join(server.dir, 'data');
  const backup = path.join(server.dir, 'backup');
  const diagnose = (e) => {
    throw new Error(`${e.message}; status ${b.status}, pending ${tb.pending}, events ${JSON.stringify(seen)}\n${server.log().slice(-3000)}`);
  };
  // Copies of a stopped (killed: crash-consistent) store.
  await server.stop();
  fs.cpSync(data, backup, { recursive: true }); // the backup: an empty document
  await server.start();
  await eventually(() => b.status === 'online', 'reconnected', 20000).catch(diagnose);
  tb.insert(0, 'abc');
  await within(tb.whenSynced(), '"abc" acknowledged').catch(diagnose);

  await server.stop();
  fs.rmSync(data, { recursive: true, force: true });
  fs.cpSync(backup, data, { recursive: true }); // restored: "abc" is gone
  await server.start();
  await eventually(() => b.status === 'online', 'reconnected', 20000).catch(diagnose);
  const rejected = [];
  tb.on('rejected', (e) => rejected.push(e.code));
  tb.insert(3, 'd');
  await within(tb.whenSynced(), '"d" acknowledged').catch(diagnose);
  assert.deepEqual(rejected, [], 'nothing rolled back');
  assert.equal(tb.value(), 'abcd');
  assert.equal((await b.api.documents.content(t.doc)).text, 'abcd', 'the server has "abc" again');
});

test('changing the password keeps this client signed in and syncing; other sessions end', async () => {
  const t = await server.team('editor');
  const mine = await clientFor(t.bob);
  const other = await clientFor(t.bob); // another device of the same user
  const tm = await mine.openText(t.doc);
  const to = await other.openText(t.doc);
  await within(Promise.all([tm.whenSynced(), to.whenSynced()]), 'both synced');
  // The server ends every session of the old password, this connection's
  // too (4401); the client must carry on with the session the change
  // answered with, not sign out on the way.
  await mine.auth.changePassword(t.bob.password, 'a much better passphrase');
  await eventually(() => other.auth.user === null, 'the other device signed out');
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(mine.auth.user?.email, t.bob.email, 'still signed in');
  tm.insert(0, 'after');
  await within(tm.whenSynced(), 'an edit after the change');
  assert.equal((await mine.api.documents.content(t.doc)).text, 'after');
});

test('resetting the password on a signed-in client signs it in again and keeps it syncing', async () => {
  const t = await server.team('editor');
  const mine = await clientFor(t.bob);
  const tm = await mine.openText(t.doc);
  await within(tm.whenSynced(), 'synced');
  const logged = server.log().length;
  await mine.auth.requestPasswordReset(t.bob.email);
  let token;
  await eventually(() => {
    token = /reset-password\?token=([A-Za-z0-9._~%-]+)/.exec(server.log().slice(logged))?.[1];
    return token !== undefined;
  }, 'the reset link in the log');
  // The reset ends every session, this connection's too (4401): the client
  // carries on with the session the reset answered with.
  const user = await mine.auth.resetPassword(decodeURIComponent(token), 'a reset passphrase here');
  assert.equal(user?.email, t.bob.email);
  await new Promise((r) => setTimeout(r, 300));
  assert.equal(mine.auth.user?.email, t.bob.email, 'still signed in');
  tm.insert(0, 'after');
  await within(tm.whenSynced(), 'an edit after the reset');
  assert.equal((await mine.api.documents.content(t.doc)).text, 'after');
});

test("a viewer's edits are refused: locally, and by the server after a downgrade while offline", async () => {
  const t = await server.team('viewer');
  const b = await clientFor(t.bob);
  const tb = await b.openText(t.doc);
  assert.equal(tb.readOnly, true);
  assert.throws(() => tb.insert(0, 'x'), ReadOnlyError);

  // carol is an editor, edits offline, and is made a viewer meanwhile.
  const carol = await server.register(`carol${Date.now()}`);
  const inv = await server.call('POST', `/api/v1/workspaces/${t.ws}/invitations`, { email: carol.email, role: 'editor' }, t.alice.token, 201);
  await server.call('POST', `/api/v1/invitations/${inv.token}/accept`, null, carol.token, 200);
  const a = await clientFor(t.alice);
  const ta = await a.openText(t.doc);
  ta.insert(0, 'alice.');
  await within(ta.whenSynced(), 'ta to sync');
  const c = await clientFor(carol);
  const tc = await c.openText(t.doc);
  assert.equal(tc.readOnly, false);
  await eventually(() => tc.value() === 'alice.', 'carol sees the text');
  c.setOnline(false);
  await eventually(() => c.status === 'offline', 'carol offline');
  tc.insert(0, '[carol]');
  await a.api.members.setRole(t.ws, carol.id, 'viewer');
  const rejected = new Promise((resolve) => tc.on('rejected', resolve));
  c.setOnline(true);
  const e = await within(rejected, 'the rejection');
  assert.equal(e.code, 403);
  await eventually(() => tc.value() === 'alice.', 'the rollback');
  assert.equal(tc.readOnly, true);
  assert.equal(c.pending, 0);
  assert.equal((await a.api.documents.content(t.doc)).text, 'alice.');
});

test('a burst of edits past the submit rate limit arrives whole, without a rollback', async () => {
  const t = await server.team('editor');
  // Every message the server sends alice, decoded: the test must see the
  // server refuse submits, or it proves nothing.
  const refused = [];
  class Watched extends WebSocket {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', (ev) => {
        if (!(ev.data instanceof ArrayBuffer)) return;
        const m = decodeServer(new Uint8Array(ev.data));
        if (m.type === 'error') refused.push(m.code);
      });
    }
  }
  const a = await clientFor(t.alice, { WebSocket: Watched });
  const b = await clientFor(t.bob);
  const ta = await a.openText(t.doc);
  const tb = await b.openText(t.doc);
  const rejected = [];
  ta.on('rejected', (e) => rejected.push(e.code));
  // One submit per keystroke, 1,000 as fast as they go, and nothing read
  // meanwhile (the client is busy, as over a link whose round trip is
  // longer than the burst): past the burst of 400 and the rate of 200 a
  // second, the server refuses some submits as rate_limited and those
  // behind them, already sent, as out_of_order. (Paced at 500 a second,
  // a loaded machine sent too slowly to be refused at all.)
  let typed = '';
  for (let i = 0; i < 1000; i++) {
    const ch = String.fromCharCode(97 + (i % 26));
    ta.insert(ta.length, ch);
    typed += ch;
    await Promise.resolve(); // the session's flush (a microtask) sends it
  }
  await within(ta.whenSynced(), 'every edit acknowledged', 30_000);
  assert.ok(refused.includes(429), `the server refused submits for their rate (errors: ${[...new Set(refused)]})`);
  assert.deepEqual(rejected, [], 'no rollback');
  assert.equal(ta.value(), typed);
  await eventually(() => tb.value() === typed, 'bob to see every edit');
});

test('presence reaches the other client, follows the text, can be taken back, and disappears on disconnect', async () => {
  const t = await server.team('editor');
  const a = await clientFor(t.alice);
  const b = await clientFor(t.bob);
  const ta = await a.openText(t.doc);
  const tb = await b.openText(t.doc);
  ta.insert(0, 'héllo 😀 world');
  await within(ta.whenSynced(), 'ta to sync');
  await eventually(() => tb.value() === ta.value(), 'text');
  const cursor = ta.value().indexOf('world');
  ta.presence.set({ name: 'Alice', color: '#ff0000', cursor, selection: { anchor: cursor, head: cursor + 5 }, typing: true });
  await eventually(() => tb.presence.peers().length === 1, 'alice in bob’s peers');
  let [peer] = tb.presence.peers();
  assert.equal(peer.name, 'Alice');
  assert.equal(peer.color, '#ff0000');
  assert.equal(peer.cursor, tb.value().indexOf('world'), 'UTF-16 position on bob’s side');
  assert.equal(peer.typing, true);
  // bob types before the cursor: alice's cursor stays on her character.
  tb.insert(0, '😀😀');
  [peer] = tb.presence.peers();
  assert.equal(peer.cursor, tb.value().indexOf('world'));
  assert.deepEqual(peer.selection, { anchor: peer.cursor, head: peer.cursor + 5 });
  assert.equal(ta.presence.peers().length, 0, 'bob set no presence');
  // Taken back while still subscribed, then set again.
  ta.presence.clear();
  await eventually(() => tb.presence.peers().length === 0, 'alice took hers back');
  ta.presence.set({ name: 'Alice' });
  await eventually(() => tb.presence.peers().length === 1, 'alice again');
  await a.close();
  await eventually(() => tb.presence.peers().length === 0, 'alice gone');
});

// Alice and Bob, editors of one board, each with it open.
async function twoOnABoard() {
  const t = await server.team('editor', 'board');
  const a = await clientFor(t.alice);
  const b = await clientFor(t.bob);
  return { t, a, da: await a.openDoc(t.doc), db: await b.openDoc(t.doc) };
}

test('boards converge as structured documents', async () => {
  const { t, a, da, db } = await twoOnABoard();
  const remote = [];
  const touched = [];
  db.on('change', (ev) => {
    remote.push(ev.origin);
    if (ev.origin === 'remote') touched.push(...ev.changes.map((c) => JSON.stringify(c)));
  });
  const local = [];
  da.on('change', (ev) => local.push(ev));
  const card = da.transact(() => {
    const id = da.listInsert('list:cards', 0, { new: 'map' });
    da.mapSet('map:meta', 'count', 1);
    return id;
  });
  assert.ok(card);
  assert.equal(local.length, 1, 'one event per transaction');
  assert.deepEqual(local[0], { origin: 'local', changes: [{ container: 'list:cards', item: card }, { container: 'map:meta', key: 'count' }] });
  // A transaction whose later step throws: the earlier step stays (and is
  // sent), and the event says so.
  assert.throws(() => da.transact(() => {
    da.mapSet('map:meta', 'before', 1);
    da.mapSet('nope', 'k', 1); // not a container reference
  }), /invalid_argument/);
  assert.equal(local.length, 2);
  assert.deepEqual(local[1].changes, [{ container: 'map:meta', key: 'before' }]);
  const shape = da.mapSet('map:shapes', 's1', { new: 'map' });
  da.mapSet(shape, 'x', 10);
  const label = da.mapSet(shape, 'label', { new: 'text' });
  da.textInsert(label, 0, 'hi');
  db.listInsert('list:cards', 0, 'bob card');
  // A lone surrogate has no UTF-8 form: it goes in as U+FFFD (the engine
  // and the server refuse bytes that are not UTF-8).
  da.mapSet('map:meta', 'lone\uD800', 'v\uDC00');
  await within(Promise.all([da.whenSynced(), db.whenSynced()]), 'both to sync');
  await eventually(() => JSON.stringify(da.toJSON()) === JSON.stringify(db.toJSON()) && db.listIds('list:cards').length === 2, 'boards to converge');
  assert.equal(db.toJSON()['map:shapes'].s1.label, 'hi');
  assert.equal(db.toJSON()['map:meta']['lone\uFFFD'], 'v\uFFFD');
  assert.ok(remote.includes('remote'));
  // Bob's events say what Alice changed.
  for (const c of [{ container: 'list:cards', item: card }, { container: 'map:shapes', key: 's1' }, { container: shape, key: 'x' }, { container: label }]) {
    assert.ok(touched.includes(JSON.stringify(c)), `bob saw ${JSON.stringify(c)}`);
  }
  const content = await a.api.documents.content(t.doc);
  assert.deepEqual(content, da.toJSON());
});

test("an edit made by a board's local change listener is sent as a change of its own", async () => {
  const { t, a, da, db } = await twoOnABoard();
  let echoed = false;
  da.on('change', (ev) => {
    if (ev.origin !== 'local' || echoed) return;
    echoed = true;
    da.mapSet('map:meta', 'echo', 1); // e.g. a "last edited" stamp
  });
  da.mapSet('map:meta', 'first', 1);
  assert.ok(echoed);
  da.mapSet('map:meta', 'after', 1);
  await within(da.whenSynced(), 'alice to sync');
  const sorted = (o) => JSON.stringify(Object.entries(o ?? {}).sort());
  await eventually(() => sorted(db.toJSON()['map:meta']) === sorted({ first: 1, echo: 1, after: 1 }),
    'bob to see all three keys');
  assert.deepEqual(await a.api.documents.content(t.doc), da.toJSON());
});

test('REST wrappers: workspaces, documents, members, invitations, activity; errors carry the server code', async () => {
  const c = await clientFor(null);
  const email = `dora${Date.now()}@example.com`;
  const user = await c.auth.signUp({ email, password: 'correct horse battery', name: 'Dora' });
  assert.equal(user.display_name, 'Dora');
  const ws = await c.api.workspaces.create('Dora’s');
  assert.equal(ws.role, 'owner');
  assert.ok((await c.api.workspaces.list()).some((w) => w.id === ws.id));
  const d = await c.api.documents.create(ws.id, { kind: 'text', title: 'Plan' });
  await c.api.documents.rename(d.id, 'Plan B');
  assert.equal((await c.api.documents.list(ws.id, { q: 'plan b' })).items.length, 1);
  await c.api.documents.remove(d.id);
  assert.equal((await c.api.documents.list(ws.id, { deleted: true })).items.length, 1);
  await c.api.documents.restore(d.id);
  const inv = await c.api.members.invite(ws.id, { email: 'erin@example.com', role: 'viewer' });
  assert.ok(inv.token.startsWith('win_'));
  assert.equal((await c.api.invitations.list(ws.id)).length, 1);
  assert.equal((await c.api.members.list(ws.id)).length, 1);
  const kinds = (await c.api.activity.list(ws.id)).items.map((x) => x.kind);
  assert.ok(kinds.includes('document.renamed') && kinds.includes('document.restored'), kinds.join());
  await assert.rejects(c.api.documents.get('nope'), (e) => e.status === 404 && e.code === 'not_found');
  await assert.rejects(
    c.auth.signUp({ email, password: 'short', name: 'X' }),
    (e) => e.status === 400 && e.code === 'validation_failed',
  );
  await c.auth.requestPasswordReset(email);
  await c.auth.signOut();
  assert.equal(c.auth.user, null);
  await assert.rejects(c.api.workspaces.list(), (e) => e.status === 401);
});

test('a refreshed access token reaches the open connection without a reconnect', async () => {
  const t = await server.team('editor');
  let sockets = 0;
  class CountingWebSocket extends WebSocket {
    constructor(...args) {
      super(...args);
      sockets++;
    }
  }
  const b = await clientFor(t.bob, { WebSocket: CountingWebSocket });
  const tb = await b.openText(t.doc);
  tb.insert(0, 'one.');
  await within(tb.whenSynced(), 'tb to sync');
  const tokenBefore = await b.auth.accessToken();
  const oldRefresh = b.auth.session.refreshToken; // private in TypeScript; read for the test
  assert.equal(await b.auth.refresh(), true);
  assert.notEqual(await b.auth.accessToken(), tokenBefore);
  tb.insert(4, 'two.');
  await within(tb.whenSynced(), 'tb to sync');
  assert.equal(sockets, 1, 'the same connection, re-authenticated with `auth`');
  assert.equal(b.status, 'online');
  const a = await clientFor(t.alice);
  assert.equal((await a.api.documents.content(t.doc)).text, 'one.two.');
  // Presenting the rotated-out refresh token again is theft to the server:
  // the whole session ends, and the SDK signs out when its refresh is refused.
  const reuse = await fetch(`${server.url}/api/v1/auth/refresh`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: oldRefresh }),
  });
  assert.equal(reuse.status, 401);
  const signedOut = new Promise((resolve) => b.auth.on('change', resolve));
  assert.equal(await b.auth.refresh(), false);
  assert.equal(await within(signedOut, 'the sign-out'), null);
  assert.equal(b.auth.user, null);
  await eventually(() => b.status === 'offline', 'the connection closed on sign-out');
});

test('two tabs sharing local storage converge, texts and boards', async () => {
  // Tab 2 restores tab 1's queued change from the shared storage (and so
  // holds some, not all, of tab 1's client id's changes); tab 1's later
  // edits must still reach it.
  for (const kind of ['text', 'board']) {
    const t = await server.team('editor', kind);
    const idb = new IDBFactory();
    const tab1 = await clientFor(t.bob, { indexedDB: idb });
    const h1 = kind === 'text' ? await tab1.openText(t.doc) : await tab1.openDoc(t.doc);
    const edit = (k, v) => (kind === 'text' ? h1.insert(h1.length, `[${k}]`) : h1.mapSet('map:meta', k, v));
    const state = (h) => (kind === 'text' ? h.value() : JSON.stringify(h.toJSON()));
    edit('base', 0);
    await within(h1.whenSynced(), 'tab 1 synced');
    tab1.setOnline(false);
    await eventually(() => tab1.status === 'offline', 'tab 1 offline');
    edit('queued', 1);
    await new Promise((r) => setTimeout(r, 400)); // queue and local copy stored
    const tab2 = await clientFor(null, { indexedDB: idb });
    const h2 = kind === 'text' ? await tab2.openText(t.doc) : await tab2.openDoc(t.doc);
    await within(h2.whenSynced(), 'tab 2 synced');
    tab1.setOnline(true);
    await within(h1.whenSynced(), 'tab 1 synced again');
    edit('later', 2);
    await within(h1.whenSynced(), 'tab 1 synced after its later edit');
    await eventually(() => state(h2) === state(h1), `tab 2 converges (${kind}): ${state(h2)} vs ${state(h1)}`);
  }
});

