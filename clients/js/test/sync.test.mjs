// The SDK's protocol logic against a scripted fake server (fake-server.mjs):
// the shared engine vectors replayed through a TextHandle, the in-flight
// queue (resend after reconnect, resume from the last seq, leave only on
// ack), one subscribe per document however the connection and the local
// copy race, out_of_order, forbidden rollback, snapshots merged with local edits,
// and where the token travels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { IDBFactory, IDBKeyRange, IDBObjectStore } from 'fake-indexeddb';
import { WeftClient, ReadOnlyError } from '../dist/index.js';
import { IndexedDbStore } from '../dist/storage.js';
import { defaultLoadEngine } from '../dist/engine.js';
import { FakeServer } from './fake-server.mjs';
import { eventually, repoRoot, within } from './weftd.mjs';

const engine = await defaultLoadEngine();
const vectors = path.join(repoRoot, 'tests/vectors');
const DOC = 'doc-1';

async function setup(opts = {}) {
  const fake = opts.fake ?? new FakeServer();
  const idb = opts.idb ?? new IDBFactory();
  const client = await WeftClient.create({
    url: 'http://127.0.0.1:9',
    storage: opts.storage ?? 'indexeddb',
    indexedDB: idb,
    IDBKeyRange,
    WebSocket: fake.WebSocket,
    fetch: fake.fetch,
    loadEngine: async () => engine,
    reconnect: { initialDelayMs: 10, maxDelayMs: 20 },
    presenceThrottleMs: 0,
    sendStoredEdits: opts.sendStoredEdits,
  });
  if (opts.errors) client.on('error', (e) => opts.errors.push(e));
  await client.auth.signIn({ email: 'a@example.com', password: 'x' });
  return { fake, client, idb };
}

/** Answers the next subscribe on the current socket with `changes` from seq 1 (or `since`+1) and synced. */
async function serveSubscribe(fake, { role = 'editor', changes = [], from = 0 } = {}) {
  const sub = await fake.next((m) => m.type === 'subscribe' && m.socket === fake.sockets.length - 1, 'subscribe', 3000, from);
  const head = sub.sinceSeq + changes.length;
  fake.send(fake.socket, { type: 'subscribed', doc: sub.doc, role, headSeq: head });
  if (changes.length) fake.send(fake.socket, { type: 'ops', doc: sub.doc, firstSeq: sub.sinceSeq + 1, changes });
  fake.send(fake.socket, { type: 'synced', doc: sub.doc, seq: head });
  return sub;
}

/** A client with DOC open as a text (as a board with `board: true`: `doc`), subscribed and synced. */
async function openSynced(opts = {}) {
  const env = await setup(opts);
  const opening = opts.board ? env.client.openDoc(DOC) : env.client.openText(DOC);
  await serveSubscribe(env.fake);
  const handle = await opening;
  return opts.board ? { ...env, doc: handle } : { ...env, text: handle };
}

/** The IndexedDB store a client of `setup` keeps in `idb`. */
function storeIn(idb) {
  return IndexedDbStore.open(idb, 'weft:http://127.0.0.1:9', IDBKeyRange);
}

/** Waits until `store` holds neither a copy of DOC nor queued edits for it. */
function forgotten(store, what) {
  return eventually(async () => {
    const got = await store.loadDoc('u1', DOC);
    return got.doc === null && got.pending.length === 0;
  }, what);
}

/** A synced text with `typed` typed and submitted, and its record stored; `rejected` collects codes. */
async function openWithStoredEdit(typed) {
  const env = await openSynced();
  const rejected = [];
  env.text.on('rejected', (e) => rejected.push(e.code));
  env.text.insert(0, typed);
  await env.fake.next((m) => m.type === 'submit', 'submit');
  const store = await storeIn(env.idb);
  await eventually(async () => (await store.loadDoc('u1', DOC)).pending.length === 1, 'stored');
  return { ...env, rejected, store };
}

/** A remote change made with the engine: `text` typed by client `clientId`. */
function remoteChange(clientId, text) {
  const d = new engine.TextDoc(clientId);
  d.insert(0, text);
  const c = { clientId, firstSeq: 0, span: d.opCount(clientId), update: d.diff(new engine.TextDoc(1).stateVector()) };
  d.delete();
  return c;
}

function applyEvents(s, changes) {
  for (const c of changes) s = s.slice(0, c.pos) + c.inserted + s.slice(c.pos + c.deleted);
  return s;
}

test('the shared vectors replay through a TextHandle, live and as a snapshot', async () => {
  const names = fs.readdirSync(vectors).filter((f) => f.endsWith('.txt')).map((f) => f.slice(0, -4));
  assert.ok(names.length >= 3);
  for (const name of names) {
    const want = fs.readFileSync(path.join(vectors, `${name}.txt`), 'utf8');
    const updates = [];
    for (let k = 0; fs.existsSync(path.join(vectors, `${name}.${k}.update`)); k++) {
      updates.push(new Uint8Array(fs.readFileSync(path.join(vectors, `${name}.${k}.update`))));
    }
    const { fake, client } = await setup({ storage: 'memory' });
    const opening = client.openText(DOC);
    await serveSubscribe(fake);
    const text = await opening;
    let mirror = text.value();
    text.on('change', (ev) => {
      assert.equal(ev.origin, 'remote');
      mirror = applyEvents(mirror, ev.changes);
    });
    fake.send(fake.socket, {
      type: 'ops',
      doc: DOC,
      firstSeq: 1,
      changes: updates.map((update, i) => ({ clientId: 1000 + i, firstSeq: 0, span: 1, update })),
    });
    await eventually(() => text.value() === want, `${name} to apply`);
    assert.equal(mirror, want, `${name}: the change events rebuild the text`);
    await client.close();

    // The same state as a snapshot, for a client far behind.
    const second = await setup({ storage: 'memory' });
    const opening2 = second.client.openText(DOC);
    const sub = await second.fake.next((m) => m.type === 'subscribe', 'subscribe');
    const snap = new Uint8Array(fs.readFileSync(path.join(vectors, `${name}.snapshot`)));
    second.fake.send(second.fake.socket, { type: 'subscribed', doc: sub.doc, role: 'viewer', headSeq: 7 });
    second.fake.send(second.fake.socket, { type: 'snapshot', doc: sub.doc, lastIncludedSeq: 7, state: snap });
    second.fake.send(second.fake.socket, { type: 'synced', doc: sub.doc, seq: 7 });
    const t2 = await opening2;
    assert.equal(t2.value(), want, `${name} from its snapshot`);
    assert.equal(t2.readOnly, true);
    assert.throws(() => t2.insert(0, 'x'), ReadOnlyError);
    await second.client.close();
  }
});

test('a corrupt update from the server is reported, not thrown', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  await serveSubscribe(fake, { changes: [remoteChange(5, 'ok')] });
  const text = await opening;
  const errors = [];
  client.on('error', (e) => errors.push(e));
  const bad = new Uint8Array(fs.readFileSync(path.join(vectors, 'bad-truncated.update')));
  fake.send(fake.socket, { type: 'ops', doc: DOC, firstSeq: 2, changes: [{ clientId: 6, firstSeq: 0, span: 1, update: bad }] });
  await eventually(() => errors.length > 0, 'an error event');
  assert.equal(errors[0].codeName, 'invalid_update');
  assert.equal(text.value(), 'ok');
  await client.close();
});

test('an unacknowledged change is resent after a reconnect, resuming from the last seq, and leaves the queue only on ack', async () => {
  const { fake, client, idb } = await setup();
  const statuses = [];
  client.on('status', (s) => statuses.push(s.status));
  const opening = client.openText(DOC);
  await serveSubscribe(fake, { changes: [remoteChange(5, 'abc')] });
  const text = await opening;
  assert.equal(client.status, 'online');

  text.insert(3, 'X');
  assert.equal(text.value(), 'abcX', 'applied at once');
  const first = await fake.next((m) => m.type === 'submit', 'submit');
  assert.equal(first.changes.length, 1);
  const change = first.changes[0];
  assert.equal(change.firstSeq, 0);
  assert.equal(change.span, 1);
  assert.equal(client.pending, 1);
  assert.equal(client.status, 'syncing');
  const store = await storeIn(idb);
  assert.equal((await store.loadDoc('u1', DOC)).pending.length, 1, 'the edit is stored until acknowledged');

  fake.send(fake.socket, { type: 'presence_of', doc: DOC, sessionId: 42, state: new TextEncoder().encode('{"name":"Bo","cursor":1}') });
  await eventually(() => text.presence.peers().length === 1, 'a peer');
  assert.deepEqual(text.presence.peers(), [{ sessionId: 42, name: 'Bo', cursor: 1, selection: null }]);
  // Peers' states are theirs to choose: a colour that would restyle the
  // page and positions that are no numbers (1e999 parses as Infinity) go.
  const hostile = '{"name":"Ev","color":"#000;position:fixed;inset:0","cursor":1e999,"selection":{"anchor":0,"head":1e999}}';
  fake.send(fake.socket, { type: 'presence_of', doc: DOC, sessionId: 43, state: new TextEncoder().encode(hostile) });
  fake.send(fake.socket, { type: 'presence_of', doc: DOC, sessionId: 44, state: new TextEncoder().encode('{"color":"hsl(120 65% 45%)"}') });
  await eventually(() => text.presence.peers().length === 3, 'three peers');
  const peer = (id) => text.presence.peers().find((p) => p.sessionId === id);
  assert.deepEqual(peer(43), { sessionId: 43, name: 'Ev', cursor: null, selection: null });
  assert.equal(peer(44).color, 'hsl(120 65% 45%)');
  const before = fake.received.length;
  const mark = statuses.length;
  fake.drop(1006);
  await eventually(() => statuses.slice(mark).includes('offline'), 'offline'); // then it reconnects at once
  assert.equal(client.pending, 1);
  assert.equal(text.presence.peers().length, 0, 'peers are gone when our connection is');
  const sub = await serveSubscribe(fake, { from: before });
  assert.equal(sub.sinceSeq, 1, 'resumes from the last server seq');
  const again = await fake.next((m) => m.type === 'submit', 'the resend', 3000, before);
  assert.deepEqual(again.changes, [change], 'the same change, same ids');
  assert.equal(client.pending, 1, 'still queued: not acknowledged');

  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: change.clientId, firstSeq: 0, serverSeq: 2 }] });
  fake.send(fake.socket, { type: 'ops', doc: DOC, firstSeq: 2, changes: [change] });
  await within(text.whenSynced(), 'text to sync');
  assert.equal(client.pending, 0);
  await eventually(() => client.status === 'online', 'online');
  assert.equal(text.value(), 'abcX', 'our own change is not applied twice');
  await eventually(async () => (await store.loadDoc('u1', DOC)).pending.length === 0, 'the stored edit removed');
  assert.deepEqual(statuses.slice(-1), ['online']);
  assert.ok(statuses.includes('offline') && statuses.includes('syncing'));
  store.close();
  await client.close();
});

test('a document whose local copy loads while the connection comes up subscribes once and sends its edits', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  // doc-2's local copy loads slowly: the connection opens (for doc-1) in
  // the meantime.
  const store = client.store;
  const load = store.loadDoc.bind(store);
  let release;
  const gate = new Promise((r) => (release = r));
  store.loadDoc = async (userId, docId) => {
    if (docId === 'doc-2') await gate;
    return load(userId, docId);
  };
  const slow = client.openText('doc-2');
  const fast = client.openText(DOC);
  const subFast = await fake.next((m) => m.type === 'subscribe' && m.doc === DOC, 'doc-1 subscribe');
  fake.send(fake.socket, { type: 'subscribed', doc: DOC, role: 'editor', headSeq: 0 });
  fake.send(fake.socket, { type: 'synced', doc: DOC, seq: 0 });
  await fast;
  assert.equal(subFast.sinceSeq, 0);
  assert.ok(!fake.received.some((m) => m.type === 'subscribe' && m.doc === 'doc-2'), 'no subscribe before the local copy is loaded');
  release();
  await fake.next((m) => m.type === 'subscribe' && m.doc === 'doc-2', 'doc-2 subscribe');
  fake.send(fake.socket, { type: 'subscribed', doc: 'doc-2', role: 'editor', headSeq: 0 });
  fake.send(fake.socket, { type: 'synced', doc: 'doc-2', seq: 0 });
  const text = await slow;
  text.insert(0, 'hi');
  const submit = await fake.next((m) => m.type === 'submit' && m.doc === 'doc-2', 'doc-2 submit');
  assert.equal(submit.changes.length, 1);
  assert.equal(fake.received.filter((m) => m.type === 'subscribe' && m.doc === 'doc-2').length, 1, 'exactly one subscribe');
  await client.close();
});

/** A text snapshot the engine refuses when it builds the document: cut in the delete runs after the text. */
function badSnapshot() {
  const good = new engine.TextDoc(5);
  good.insert(0, 'hello');
  good.remove(0, 1);
  const snapshot = good.snapshot();
  good.delete();
  // The engine's load reads only the header and the text; the cut is in
  // the delete runs after them.
  return snapshot.subarray(0, snapshot.length - 1);
}

test('a local copy the engine cannot read is discarded and reported, and the document subscribes from 0', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  const store = client.store;
  const load = store.loadDoc.bind(store);
  const dropped = [];
  store.dropDoc = async (userId, docId, changes) => dropped.push([docId, changes.length]);
  store.loadDoc = async (userId, docId) => {
    const saved = await load(userId, docId);
    return { ...saved, doc: { userId, docId, snapshot: badSnapshot(), seq: 3 } };
  };
  const opening = client.openText(DOC);
  const sub = await serveSubscribe(fake, { changes: [remoteChange(7, 'from the server')] });
  assert.equal(sub.sinceSeq, 0, 'not from the seq of the copy it cannot read');
  const text = await within(opening, 'the open');
  assert.equal(text.value(), 'from the server');
  assert.equal(errors.length, 1);
  assert.equal(errors[0].codeName, 'storage_failed');
  assert.equal(errors[0].kind, 'copy');
  assert.match(errors[0].message, /cannot be read and was discarded.*corruption/);
  assert.deepEqual(dropped, [[DOC, 0]], 'the copy is forgotten, no queued edit with it');
  await client.close();
});

test('a server snapshot the engine cannot read closes the handle, reported, without advancing the stored seq', async () => {
  const { fake, client, text, idb } = await openSynced();
  const errors = [];
  client.on('error', (e) => errors.push(e));
  const rejected = [];
  text.on('rejected', (e) => rejected.push(e.code));
  client.setOnline(false);
  await eventually(() => client.status === 'offline', 'offline');
  text.insert(0, 'kept');
  await text.save();
  const n = fake.received.length;
  client.setOnline(true);
  const sub = await fake.next((m) => m.type === 'subscribe', 'the resubscribe', 3000, n);
  fake.send(fake.socket, { type: 'subscribed', doc: DOC, role: 'editor', headSeq: 9 });
  fake.send(fake.socket, { type: 'snapshot', doc: DOC, lastIncludedSeq: 9, state: badSnapshot() });
  fake.send(fake.socket, { type: 'synced', doc: DOC, seq: 9 });
  await eventually(() => text.isClosed, 'the handle closed');
  assert.deepEqual(rejected, [422]);
  assert.equal(errors.length, 1);
  assert.equal(errors[0].code, 422);
  assert.match(errors[0].message, /snapshot of doc-1 cannot be read/);
  await fake.next((m) => m.type === 'unsubscribe', 'the unsubscribe', 3000, n);
  const store = await storeIn(idb);
  const saved = await store.loadDoc('u1', DOC);
  assert.equal(saved.doc.seq, sub.sinceSeq, 'the stored seq is not past the snapshot it lacks');
  assert.equal(saved.pending.length, 1, 'the edit stays stored');
  store.close();
  // A document never seen before: opening it rejects.
  const m = fake.received.length;
  const opening = client.openText('doc-2');
  await fake.next((x) => x.type === 'subscribe' && x.doc === 'doc-2', 'the subscribe', 3000, m);
  fake.send(fake.socket, { type: 'subscribed', doc: 'doc-2', role: 'editor', headSeq: 4 });
  fake.send(fake.socket, { type: 'snapshot', doc: 'doc-2', lastIncludedSeq: 4, state: badSnapshot() });
  fake.send(fake.socket, { type: 'synced', doc: 'doc-2', seq: 4 });
  await assert.rejects(opening, (e) => e.code === 422);
  await client.close();
});

test('presence cursors travel as character anchors and stay on their characters', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  await serveSubscribe(fake, { changes: [remoteChange(5, 'hello world')] });
  const text = await opening;
  const peer = (state) =>
    fake.send(fake.socket, { type: 'presence_of', doc: DOC, sessionId: 42, state: new TextEncoder().encode(JSON.stringify(state)) });
  // The peer's number refers to a text we do not have (99); its anchor
  // names the character "w" (client 5, seq 6), which we hold.
  peer({ name: 'Bo', cursor: 99, selection: { anchor: 0, head: 5 }, anchors: { cursor: [5, 6], anchor: [5, 0], head: [5, 5] } });
  await eventually(() => text.presence.peers().length === 1, 'a peer');
  assert.deepEqual(text.presence.peers(), [{ sessionId: 42, name: 'Bo', cursor: 6, selection: { anchor: 0, head: 5 } }]);
  // We type before it and delete "hello": the cursor stays before "w".
  text.insert(0, '😀 ');
  text.delete(3, 5); // '😀' is two UTF-16 units
  assert.equal(text.value(), '😀  world');
  assert.equal(text.presence.peers()[0].cursor, 4, 'before "w", in UTF-16 units');
  assert.deepEqual(text.presence.peers()[0].selection, { anchor: 3, head: 3 }, 'a deleted range collapses where it was');
  // An anchor we cannot resolve falls back to the number; a malformed one is ignored.
  peer({ name: 'Bo', cursor: 2, anchors: { cursor: [77, 0] } });
  await eventually(() => text.presence.peers()[0].cursor === 3, 'the number (code point 2 is UTF-16 offset 3)');
  peer({ name: 'Bo', cursor: 1, anchors: { cursor: ['x', -1] } });
  await eventually(() => text.presence.peers()[0].cursor === 2, 'the number again');
  // Our own cursor goes out with its anchor: UTF-16 offset 4 is code point
  // 3 ('😀', ' ', ' ', then "w").
  const before = fake.received.length;
  text.presence.set({ name: 'Al', cursor: 4 });
  const sent = await fake.next((m) => m.type === 'presence', 'our presence', 3000, before);
  const state = JSON.parse(new TextDecoder().decode(sent.state));
  assert.equal(state.cursor, 3, 'code points on the wire');
  assert.deepEqual(state.anchors, { cursor: [5, 6] });
  const mark = fake.received.length;
  text.presence.set({ cursor: text.length });
  const atEnd = await fake.next((m) => m.type === 'presence', 'presence at the end', 3000, mark);
  assert.deepEqual(JSON.parse(new TextDecoder().decode(atEnd.state)).anchors, { cursor: [5, 10, 1] }, 'after the last character ("d")');
  // A peer at the end stays before what others append there, as its own
  // editor shows it.
  peer({ name: 'Bo', cursor: 99, anchors: { cursor: [5, 10, 1] } });
  await eventually(() => text.presence.peers()[0].cursor === text.length, 'the peer at the end');
  const end = text.length;
  text.insert(end, '!!');
  assert.equal(text.presence.peers()[0].cursor, end);
  await client.close();
});

test('presence of several documents together stays within the connection\'s limit, and the latest state goes out', async () => {
  const { fake, client } = await setup({ storage: 'memory' }); // presenceThrottleMs 0
  const docs = ['doc-1', 'doc-2', 'doc-3'];
  const texts = [];
  for (const id of docs) {
    const n = fake.received.length;
    const opening = client.openText(id);
    await serveSubscribe(fake, { from: n });
    texts.push(await opening);
  }
  const start = fake.received.length;
  // Three documents' cursors moving every 10 ms for a second: 300 states.
  for (let i = 1; i <= 100; i++) {
    for (const t of texts) t.presence.set({ name: 'Al', cursor: 0, status: `s${i}` });
    await new Promise((r) => setTimeout(r, 10));
  }
  // Each document's latest state still goes out.
  for (const id of docs) {
    await eventually(
      () => fake.received.slice(start).some((m) => m.type === 'presence' && m.doc === id && new TextDecoder().decode(m.state).includes('"s100"')),
      `the latest state of ${id}`,
      5000,
    );
  }
  // weftd's limit, per connection: 20 a second, burst 40. Replayed over
  // the arrival times, it refuses none.
  let tokens = 40;
  let last = null;
  const sent = fake.received.slice(start).filter((m) => m.type === 'presence');
  for (const m of sent) {
    if (last !== null) tokens = Math.min(40, tokens + ((m.at - last) * 20) / 1000);
    last = m.at;
    assert.ok(tokens >= 1, `presence ${sent.indexOf(m) + 1} of ${sent.length} would be refused`);
    tokens -= 1;
  }
  await client.close();
});

test('a presence state is refused when its positions could outgrow the server\'s 2 KiB', async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  text.insert(0, 'hello world');
  const mark = fake.received.length;
  text.presence.set({ cursor: 5 });
  const first = await fake.next((m) => m.type === 'presence', 'a presence', 3000, mark);
  const wire = JSON.parse(new TextDecoder().decode(first.state)); // with its anchors
  const size = (name) => new TextEncoder().encode(JSON.stringify({ ...wire, name })).length;
  // 2 KiB exactly with the cursor at 5; at 105 (someone typed 100
  // characters before it) it would be over, and the server's too_large
  // would roll our edits back.
  let name = '';
  while (size(name) < 2048) name += 'x';
  assert.equal(size(name), 2048);
  assert.throws(() => text.presence.set({ name }), RangeError);
  // With room for a position of any length (16 digits), it goes.
  text.presence.set({ name: name.slice(15) });
  await client.close();
});

test('an edit local storage refuses is reported, and the local copy waits for its ack', async () => {
  const { fake, client, text, idb } = await openSynced();
  const errors = [];
  client.on('error', (e) => errors.push(e));
  const put = IDBObjectStore.prototype.put;
  IDBObjectStore.prototype.put = function (...args) {
    if (this.name === 'pending') throw new DOMException('the quota is used up', 'QuotaExceededError');
    return put.apply(this, args);
  };
  let sent;
  try {
    text.insert(0, 'typed');
    sent = (await fake.next((m) => m.type === 'submit', 'submit')).changes[0];
    await eventually(() => errors.length === 1, 'the error event');
  } finally {
    IDBObjectStore.prototype.put = put;
  }
  assert.equal(errors[0].codeName, 'storage_failed');
  assert.equal(errors[0].docId, DOC);
  // Past the save delay (250 ms): a copy holding the edit without its
  // record would show it after a reload and never send it.
  await new Promise((r) => setTimeout(r, 600));
  assert.equal(await storedText(idb), '', 'the copy does not hold the unstored edit');
  // Acknowledged: the server has it, and the copy may hold it again.
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: sent.clientId, firstSeq: sent.firstSeq, serverSeq: 1 }] });
  await eventually(async () => (await storedText(idb)) === 'typed', 'the copy saved after the ack');
  await client.close();
});

/**
 * Types `typed` at the start of `text` while IndexedDB refuses the edit's
 * record (`ms` after the write began); returns the change submitted, once
 * the session has seen the refusal.
 */
async function typeRefused(fake, text, typed, ms = 0) {
  const add = IndexedDbStore.prototype.addPending;
  let refused = false;
  IndexedDbStore.prototype.addPending = () =>
    new Promise((_, reject) =>
      setTimeout(() => {
        refused = true;
        reject(new Error('the quota is used up'));
      }, ms),
    );
  try {
    const n = fake.received.length;
    text.insert(0, typed);
    const sent = await fake.next((m) => m.type === 'submit', 'submit', 3000, n);
    await eventually(() => refused, 'the refusal');
    await new Promise((r) => setTimeout(r, 0)); // the session's rejection handler ran
    return sent.changes[0];
  } finally {
    IndexedDbStore.prototype.addPending = add;
  }
}

/** The text of the local copy stored in `idb` ('' when there is none). */
async function storedText(idb) {
  const store = await storeIn(idb);
  try {
    const saved = await store.loadDoc('u1', DOC);
    if (!saved.doc) return '';
    const d = engine.TextDoc.load(saved.doc.snapshot, 1);
    const t = d.text();
    d.delete();
    return t;
  } finally {
    store.close();
  }
}

test('a refusal that comes after the save delay still keeps the edit out of the local copy', async () => {
  const { fake, client, text, idb } = await openSynced();
  const errors = [];
  client.on('error', (e) => errors.push(e));
  await typeRefused(fake, text, 'typed', 400); // later than the 250 ms save delay
  assert.equal(errors.length, 1);
  assert.equal(errors[0].kind, 'edit');
  await new Promise((r) => setTimeout(r, 400));
  assert.equal(await storedText(idb), '', 'the copy does not hold the unstored edit');
  await client.close();
});

test('a closed handle whose edit local storage refused still sends it until it is acknowledged', async () => {
  const { fake, client, text, idb } = await openSynced();
  const sent = await typeRefused(fake, text, 'only here');
  assert.equal(client.pending, 1);
  // The client goes offline before the ack; the app closes the document.
  client.setOnline(false);
  await eventually(() => client.status === 'offline', 'offline');
  text.close();
  await assert.rejects(text.whenSynced(), /document closed/);
  assert.throws(() => text.insert(0, 'x'), /document closed/);
  assert.equal(client.pending, 1, 'still owed');
  // Back online: the closed handle subscribes and sends its edit again.
  const n = fake.received.length;
  client.setOnline(true);
  await serveSubscribe(fake, { from: n });
  const again = await fake.next((m) => m.type === 'submit', 'the resend after the close', 3000, n);
  assert.deepEqual([again.changes[0].clientId, again.changes[0].firstSeq], [sent.clientId, sent.firstSeq]);
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: sent.clientId, firstSeq: sent.firstSeq, serverSeq: 1 }] });
  // Acknowledged: now it closes for good, and its copy holds the edit.
  await fake.next((m) => m.type === 'unsubscribe', 'the unsubscribe once acknowledged', 3000, n);
  assert.equal(client.pending, 0);
  await eventually(async () => (await storedText(idb)) === 'only here', 'the copy with the acknowledged edit');
  await client.close();
});

test('reopening a closed handle that still owes an edit gets it back, edit included', async () => {
  const { fake, client, text } = await openSynced();
  await typeRefused(fake, text, 'kept');
  text.close();
  const again = await client.openText(DOC);
  assert.equal(again, text, 'the same handle');
  assert.equal(again.value(), 'kept');
  again.insert(4, '!');
  assert.equal(again.pending, 2);
  await client.close();
});

test('signing out drops what a closed handle still owes, and says so', async () => {
  const { fake, client, text } = await openSynced();
  const errors = [];
  client.on('error', (e) => errors.push(e));
  await typeRefused(fake, text, 'gone');
  assert.equal(errors.length, 1);
  text.close();
  await client.auth.signOut();
  assert.equal(errors.length, 2);
  assert.match(errors[1].message, /1 edit\(s\) of doc-1 .* dropped/);
  assert.equal(client.pending, 0);
  await client.close();
});

test('presence.clear takes our presence back, and a peer\'s empty state is that peer gone', async () => {
  const { fake, client, text } = await openSynced();
  const mark = fake.received.length;
  text.presence.clear(); // nothing of ours on the server yet: nothing to send
  text.presence.set({ name: 'Al', cursor: 0 });
  await fake.next((m) => m.type === 'presence' && m.state.length > 0, 'our presence', 3000, mark);
  text.presence.clear();
  await fake.next((m) => m.type === 'presence' && m.state.length === 0, 'the empty state', 3000, mark);
  const presences = fake.received.slice(mark).filter((m) => m.type === 'presence');
  assert.equal(presences.length, 2, 'no empty state before one of ours went out');
  // The next set shows the whole state again, not just what it changed.
  const again = fake.received.length;
  text.presence.set({ cursor: 0 });
  const shown = await fake.next((m) => m.type === 'presence' && m.state.length > 0, 'shown again', 3000, again);
  assert.equal(JSON.parse(new TextDecoder().decode(shown.state)).name, 'Al');
  fake.send(fake.socket, { type: 'presence_of', doc: DOC, sessionId: 42, state: new TextEncoder().encode('{"name":"Bo"}') });
  await eventually(() => text.presence.peers().length === 1, 'a peer');
  fake.send(fake.socket, { type: 'presence_of', doc: DOC, sessionId: 42, state: new Uint8Array(0) });
  await eventually(() => text.presence.peers().length === 0, 'the peer gone');
  await client.close();
});

test('closing a handle that still owes an edit takes its presence back', async () => {
  const { fake, client, text } = await openSynced();
  const mark = fake.received.length;
  text.presence.set({ name: 'Al', cursor: 0 });
  await fake.next((m) => m.type === 'presence' && m.state.length > 0, 'our presence', 3000, mark);
  await typeRefused(fake, text, 'owed');
  text.close();
  await fake.next((m) => m.type === 'presence' && m.state.length === 0, 'the empty state', 3000, mark);
  assert.equal(client.pending, 1, 'still subscribed, still owing the edit');
  await client.close();
});

test('a closed handle that still owes an edit: client.whenSynced waits for it, peers are no longer reported, and access removed says what was lost', async () => {
  const { fake, client, text } = await openSynced();
  const errors = [];
  client.on('error', (e) => errors.push(e.message));
  const sent = await typeRefused(fake, text, 'owed');
  assert.equal(errors.length, 1);
  const peers = [];
  text.presence.on('change', (p) => peers.push(p.length));
  text.close();
  fake.send(fake.socket, { type: 'presence_of', doc: DOC, sessionId: 9, state: new TextEncoder().encode('{"name":"Bo"}') });
  let synced = false;
  const waiting = client.whenSynced().then(
    () => (synced = true),
    (e) => (synced = e),
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(synced, false, 'not before the ack');
  assert.deepEqual(peers, [], 'a closed handle tells of no peer');
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: sent.clientId, firstSeq: sent.firstSeq, serverSeq: 1 }] });
  await within(waiting, 'client.whenSynced after the ack');
  assert.equal(synced, true);

  // Again, and this time the server ends it: what it held is reported lost.
  const mark = fake.received.length;
  const opening = client.openText(DOC);
  await serveSubscribe(fake, { from: mark });
  const opened = await opening;
  await typeRefused(fake, opened, 'x');
  assert.equal(errors.length, 2);
  opened.close();
  fake.send(fake.socket, { type: 'unsubscribed', doc: DOC, code: 410, message: 'access removed' });
  await eventually(() => errors.length === 3, 'the loss reported');
  assert.match(errors[2], /1 edit\(s\) of doc-1 .* dropped: access removed/);
  assert.equal(client.pending, 0);
  await client.close();
});

test('a handle closed offline with stored edits sends them once back online, counted until acknowledged', async () => {
  const { fake, client, text, idb } = await openSynced();
  client.setOnline(false);
  await eventually(() => client.status === 'offline', 'offline');
  text.insert(0, 'typed offline');
  const store = await storeIn(idb);
  await eventually(async () => (await store.loadDoc('u1', DOC)).pending.length === 1, 'the edit stored');
  // The app leaves the page: the handle is closed before the edit went out.
  text.close();
  assert.throws(() => text.insert(0, 'x'), /document closed/);
  assert.equal(client.pending, 1, 'still owed');
  let synced = false;
  const waiting = client.whenSynced().then(() => (synced = true));
  const n = fake.received.length;
  client.setOnline(true);
  await serveSubscribe(fake, { from: n });
  const sent = (await fake.next((m) => m.type === 'submit', 'the submit after the close', 3000, n)).changes[0];
  assert.equal(client.status, 'syncing', 'not online while an edit is owed');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(synced, false, 'not before the ack');
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: sent.clientId, firstSeq: sent.firstSeq, serverSeq: 1 }] });
  await within(waiting, 'client.whenSynced after the ack');
  await fake.next((m) => m.type === 'unsubscribe', 'the unsubscribe once acknowledged', 3000, n);
  assert.equal(client.pending, 0);
  await eventually(() => client.status === 'online', 'online');
  await eventually(async () => (await store.loadDoc('u1', DOC)).pending.length === 0, 'the stored edit removed');
  store.close();
  await client.close();
});

test('a handle closed while a rate_limited resend waits still sends it; sign-out ends such a handle', async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  text.insert(0, 'x');
  const first = await fake.next((m) => m.type === 'submit', 'submit');
  const n = fake.received.length;
  fake.send(fake.socket, { type: 'error', code: 429, doc: DOC, message: 'slow down', expectedSeq: 0 });
  await new Promise((r) => setTimeout(r, 50)); // the retry timer is set
  text.close();
  const again = await fake.next((m) => m.type === 'submit', 'the resend after the close', 5000, n);
  assert.deepEqual(again.changes, first.changes);
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: again.changes[0].clientId, firstSeq: 0, serverSeq: 1 }] });
  await fake.next((m) => m.type === 'unsubscribe', 'the unsubscribe once acknowledged', 3000, n);
  await eventually(() => client.pending === 0, 'nothing owed');

  // Closed with an edit owed, then signed out: the handle ends, nothing is counted.
  const opened = client.openText(DOC);
  await serveSubscribe(fake, { from: fake.received.length });
  const t2 = await opened;
  t2.insert(0, 'y');
  await fake.next((m) => m.type === 'submit' && m.changes[0].clientId !== again.changes[0].clientId, 'the second submit');
  t2.close();
  assert.equal(client.pending, 1);
  await client.auth.signOut();
  assert.equal(client.pending, 0);
  assert.equal(t2.isClosed, true);
  await client.close();
});

/**
 * A client types `typed` into DOC offline (a text, or a board with
 * `board`) and is closed with the edit unacknowledged (a reload); the
 * storage it leaves. `noCopy`: its local copy is then dropped (the page
 * went before the copy's save delay). `legacy`: the records are as an
 * older SDK wrote them, without the document's kind.
 */
async function reloadedWithStoredEdit({ board = false, typed = 'typed offline', noCopy = false, legacy = false } = {}) {
  const env = await openSynced({ board });
  env.client.setOnline(false);
  await eventually(() => env.client.status === 'offline', 'offline');
  if (board) env.doc.mapSet('map:meta', 'k', typed);
  else env.text.insert(0, typed);
  const store = await storeIn(env.idb);
  await eventually(async () => (await store.loadDoc('u1', DOC)).pending.length === 1, 'the edit stored');
  await env.client.close();
  if (noCopy) await store.dropDoc('u1', DOC, []);
  if (legacy) {
    const { doc, pending } = await store.loadDoc('u1', DOC);
    const strip = ({ kind, ...rest }) => rest;
    if (doc) await store.saveDoc(strip(doc));
    for (const p of pending) await store.addPending(strip(p));
  }
  store.close();
  return env.idb;
}

/** The text a change typed into an empty document. */
function textOf(change) {
  const d = new engine.TextDoc(7);
  d.applyUpdate(change.update);
  const t = d.text();
  d.delete();
  return t;
}

test('at start, the stored edits of a document the app does not open are sent, counted until acknowledged', async () => {
  const idb = await reloadedWithStoredEdit();
  // The next page load: the app opens nothing.
  const { fake, client } = await setup({ idb });
  const sub = await fake.next((m) => m.type === 'subscribe', 'the subscribe of the document with stored edits');
  assert.equal(sub.doc, DOC);
  await eventually(() => client.pending === 1, 'the stored edit counted');
  let synced = false;
  const waiting = client.whenSynced().then(() => (synced = true));
  await serveSubscribe(fake);
  const sent = (await fake.next((m) => m.type === 'submit', 'the stored edit sent')).changes[0];
  assert.equal(textOf(sent), 'typed offline');
  assert.equal(client.status, 'syncing', 'not online while an edit is owed');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(synced, false, 'not before the ack');
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: sent.clientId, firstSeq: sent.firstSeq, serverSeq: 1 }] });
  await within(waiting, 'client.whenSynced after the ack');
  await fake.next((m) => m.type === 'unsubscribe' && m.doc === DOC, 'the unsubscribe once acknowledged');
  assert.equal(client.pending, 0);
  await eventually(() => client.status === 'online', 'online');
  const store = await storeIn(idb);
  await eventually(async () => (await store.loadDoc('u1', DOC)).pending.length === 0, 'the stored edit removed');
  store.close();
  await eventually(async () => (await storedText(idb)) === 'typed offline', 'the copy kept');
  await client.close();
});

test('a document the app opens while its stored edits are sent in the background is that session', async () => {
  const idb = await reloadedWithStoredEdit();
  const { fake, client } = await setup({ idb });
  await fake.next((m) => m.type === 'subscribe', 'the background subscribe');
  const text = await client.openText(DOC);
  assert.equal(text.value(), 'typed offline');
  assert.equal(text.pending, 1);
  const rejected = [];
  text.on('rejected', (e) => rejected.push(e.code));
  await serveSubscribe(fake);
  const sent = (await fake.next((m) => m.type === 'submit', 'the stored edit sent')).changes[0];
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: sent.clientId, firstSeq: sent.firstSeq, serverSeq: 1 }] });
  await within(text.whenSynced(), 'the handle synced');
  await within(client.whenSynced(), 'the client synced');
  assert.equal(text.isClosed, false, 'the app\'s handle stays open after the ack');
  assert.equal(fake.received.filter((m) => m.type === 'subscribe' && m.doc === DOC).length, 1, 'one subscription');
  assert.equal(fake.received.filter((m) => m.type === 'unsubscribe').length, 0);
  // It is the app's now: edits, and refusals on its `rejected`.
  const n = fake.received.length;
  text.insert(text.length, '!');
  const more = (await fake.next((m) => m.type === 'submit', 'the app\'s edit', 3000, n)).changes[0];
  fake.send(fake.socket, { type: 'error', code: 422, doc: DOC, message: 'bad', expectedSeq: 0 });
  await eventually(() => rejected.length === 1, 'rejected on the handle');
  assert.deepEqual(rejected, [422]);
  assert.ok(more);
  await client.close();
});

test('stored edits without a local copy are sent as the kind their records name: a board', async () => {
  const idb = await reloadedWithStoredEdit({ board: true, noCopy: true });
  const store = await storeIn(idb);
  assert.equal((await store.loadDoc('u1', DOC)).doc, null, 'no copy');
  store.close();
  const { fake, client } = await setup({ idb });
  await serveSubscribe(fake);
  const sent = (await fake.next((m) => m.type === 'submit', 'the stored edit sent')).changes[0];
  const board = await client.openDoc(DOC);
  assert.equal(board.toJSON()['map:meta'].k, 'typed offline');
  await assert.rejects(client.openText(DOC), TypeError);
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: sent.clientId, firstSeq: sent.firstSeq, serverSeq: 1 }] });
  await within(client.whenSynced(), 'synced');
  assert.equal(client.pending, 0);
  await client.close();
});

test('stored edits whose records do not name their kind (an older SDK) take it from the server', async () => {
  const idb = await reloadedWithStoredEdit({ legacy: true });
  // The server does not know it: reported, the records stay stored, nothing sent.
  let fake = new FakeServer();
  const errors = [];
  let env = await setup({ idb, fake, errors });
  await within(env.client.whenSynced(), 'whenSynced');
  await eventually(() => errors.length === 1, 'the refusal reported');
  assert.equal(errors[0].code, 404);
  assert.equal(errors[0].docId, DOC);
  assert.equal(fake.received.filter((m) => m.type === 'subscribe').length, 0);
  assert.equal(env.client.pending, 0);
  await env.client.close();
  const store = await storeIn(idb);
  assert.equal((await store.loadDoc('u1', DOC)).pending.length, 1, 'still stored');
  store.close();
  // It does: sent as what the server says.
  fake = new FakeServer();
  fake.documents[DOC] = 'text';
  env = await setup({ idb, fake });
  await serveSubscribe(fake);
  const sent = (await fake.next((m) => m.type === 'submit', 'the stored edit sent')).changes[0];
  assert.equal(textOf(sent), 'typed offline');
  assert.equal((await env.client.openText(DOC)).value(), 'typed offline');
  await env.client.close();
});

test('stored edits refused by the server at start are reported on the client, and forgotten when the document is gone', async () => {
  const idb = await reloadedWithStoredEdit();
  const errors = [];
  const { fake, client } = await setup({ idb, errors });
  const sub = await fake.next((m) => m.type === 'subscribe', 'the background subscribe');
  fake.send(fake.socket, { type: 'error', code: 404, doc: sub.doc, message: 'not found', expectedSeq: 0 });
  await eventually(() => errors.length === 1, 'the refusal reported');
  assert.equal(errors[0].code, 404);
  assert.equal(errors[0].docId, DOC);
  assert.equal(client.pending, 0);
  await within(client.whenSynced(), 'whenSynced');
  const store = await storeIn(idb);
  await forgotten(store, 'the copy and queue forgotten');
  store.close();
  await client.close();
});

test('sign-out ends the sessions sending stored edits and keeps the edits; sign-in starts them again; the option turns it off', async () => {
  const idb = await reloadedWithStoredEdit();
  const { fake, client } = await setup({ idb });
  await fake.next((m) => m.type === 'subscribe', 'the background subscribe');
  await eventually(() => client.pending === 1, 'counted');
  await client.auth.signOut();
  assert.equal(client.pending, 0);
  const store = await storeIn(idb);
  assert.equal((await store.loadDoc('u1', DOC)).pending.length, 1, 'still stored');
  const n = fake.received.length;
  await client.auth.signIn({ email: 'a@example.com', password: 'x' });
  await fake.next((m) => m.type === 'subscribe' && m.doc === DOC, 'the subscribe after sign-in', 3000, n);
  await eventually(() => client.pending === 1, 'counted again');
  await client.close();
  assert.equal((await store.loadDoc('u1', DOC)).pending.length, 1, 'still stored after close()');
  store.close();

  const off = await setup({ idb, sendStoredEdits: false });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(off.fake.received.filter((m) => m.type === 'subscribe').length, 0, 'nothing opened');
  assert.equal(off.client.pending, 0);
  await off.client.close();
});

test('a failing local storage at start is reported, never thrown', async () => {
  const idb = await reloadedWithStoredEdit();
  const { IndexedDbStore: S } = await import('../dist/storage.js');
  const orig = S.prototype.pendingDocs;
  S.prototype.pendingDocs = async () => {
    throw new Error('storage gone');
  };
  try {
    const fake = new FakeServer();
    const errors = [];
    // The stored session comes back: the scan starts in create().
    const client = await WeftClient.create({
      url: 'http://127.0.0.1:9',
      storage: 'indexeddb',
      indexedDB: idb,
      IDBKeyRange,
      WebSocket: fake.WebSocket,
      fetch: fake.fetch,
      loadEngine: async () => engine,
    });
    client.on('error', (e) => errors.push(e));
    assert.equal(client.auth.user?.id, 'u1');
    await within(client.whenSynced(), 'whenSynced');
    assert.equal(errors.length, 1, 'reported to a listener added once create() resolved');
    assert.equal(errors[0].name, 'StorageError');
    assert.match(errors[0].message, /storage gone/);
    assert.equal(client.pending, 0);
    await client.close();
  } finally {
    S.prototype.pendingDocs = orig;
  }
});

test('the local copy is saved while edits keep coming, and not once per waiting timer after', async () => {
  const { client, text } = await openSynced();
  const add = IndexedDbStore.prototype.addPending;
  const saveDoc = IndexedDbStore.prototype.saveDoc;
  let saves = 0;
  IndexedDbStore.prototype.addPending = function (rec) {
    return new Promise((r) => setTimeout(r, 40)).then(() => add.call(this, rec));
  };
  IndexedDbStore.prototype.saveDoc = function (rec) {
    saves++;
    return saveDoc.call(this, rec);
  };
  try {
    // An edit every 20 ms for 1.5 s, each record taking 40 ms to write.
    for (let i = 0; i < 75; i++) {
      text.insert(text.length, 'a');
      await new Promise((r) => setTimeout(r, 20));
    }
    const during = saves;
    await new Promise((r) => setTimeout(r, 700));
    assert.ok(during >= 2, `${during} saves while typing`);
    assert.ok(saves - during <= 2, `${saves - during} saves after typing stopped`);
  } finally {
    IndexedDbStore.prototype.addPending = add;
    IndexedDbStore.prototype.saveDoc = saveDoc;
  }
  await client.close();
});

test('a board\'s presence positions count as long as they are written', async () => {
  const { client, doc: board } = await openSynced({ storage: 'memory', board: true });
  // A board passes positions through as they are: 24 characters here,
  // which counting them as 16 digits would miss.
  const cursor = -1.2345678901234567e-300;
  const size = (name) => new TextEncoder().encode(JSON.stringify({ name, cursor })).length;
  let name = '';
  while (size(name) < 2049) name += 'x';
  assert.throws(() => board.presence.set({ name, cursor }), RangeError);
  board.presence.set({ name: name.slice(1), cursor });
  await client.close();
});

test('a subscribe refused as unavailable is tried again', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  const first = await fake.next((m) => m.type === 'subscribe', 'subscribe');
  fake.send(fake.socket, { type: 'error', code: 503, doc: DOC, message: 'storage is failing', expectedSeq: 0 });
  const mark = fake.received.indexOf(first) + 1;
  await serveSubscribe(fake, { from: mark, changes: [remoteChange(5, 'ok')] });
  const text = await within(opening, 'the document to open');
  assert.equal(text.value(), 'ok');
  assert.equal(fake.received.filter((m) => m.type === 'subscribe').length, 2);
  await client.close();
});

test('out_of_order sends the queue again', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  await serveSubscribe(fake);
  const text = await opening;
  text.insert(0, 'a');
  text.insert(1, 'b');
  const s1 = await fake.next((m) => m.type === 'submit', 'submit');
  assert.equal(s1.changes.length, 2, 'edits of one task go in one submit');
  const n = fake.received.length;
  fake.send(fake.socket, { type: 'error', code: 409, doc: DOC, message: 'gap', expectedSeq: 0 });
  const s2 = await fake.next((m) => m.type === 'submit', 'the resend', 3000, n);
  assert.deepEqual(s2.changes, s1.changes);
  await client.close();
});

test('forbidden rolls back the queue and resubscribes from 0; the handle becomes read-only', async () => {
  const { fake, client } = await setup();
  const opening = client.openText(DOC);
  await serveSubscribe(fake, { changes: [remoteChange(5, 'server')] });
  const text = await opening;
  const rejected = [];
  text.on('rejected', (e) => rejected.push(e));
  text.insert(0, 'mine ');
  await fake.next((m) => m.type === 'submit', 'submit');
  const n = fake.received.length;
  fake.send(fake.socket, { type: 'error', code: 403, doc: DOC, message: 'viewers cannot edit', expectedSeq: 0 });
  await fake.next((m) => m.type === 'unsubscribe', 'unsubscribe', 3000, n);
  const sub = await serveSubscribe(fake, { role: 'viewer', changes: [remoteChange(5, 'server')], from: n });
  assert.equal(sub.sinceSeq, 0);
  await eventually(() => text.value() === 'server', 'the rollback');
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0].code, 403);
  assert.equal(client.pending, 0);
  assert.equal(text.readOnly, true);
  assert.throws(() => text.insert(0, 'x'), ReadOnlyError);
  await client.close();
});

test('a server snapshot merges with edits not yet acknowledged', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  await serveSubscribe(fake);
  const text = await opening;
  client.setOnline(false);
  text.insert(0, 'offline');
  const server = new engine.TextDoc(77);
  server.insert(0, 'from the server ');
  const n = fake.received.length;
  client.setOnline(true);
  const sub = await fake.next((m) => m.type === 'subscribe', 'subscribe', 3000, n);
  fake.send(fake.socket, { type: 'subscribed', doc: DOC, role: 'editor', headSeq: 40 });
  fake.send(fake.socket, { type: 'snapshot', doc: DOC, lastIncludedSeq: 40, state: server.snapshot() });
  fake.send(fake.socket, { type: 'synced', doc: DOC, seq: 40 });
  const submit = await fake.next((m) => m.type === 'submit', 'the queued edit', 3000, n);
  assert.equal(sub.sinceSeq, 0);
  assert.equal(submit.changes.length, 1);
  assert.ok(text.value().includes('offline') && text.value().includes('from the server '), text.value());
  server.delete();
  await client.close();
});

test('the token goes in hello, never in the URL; a refreshed token goes out as auth', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  await serveSubscribe(fake);
  await opening;
  const hello = await fake.next((m) => m.type === 'hello', 'hello');
  assert.equal(hello.token, 'token-1');
  assert.equal(fake.socket.protocol, 'weft.v1');
  assert.ok(!fake.socket.url.includes('token'), fake.socket.url);
  assert.equal(new URL(fake.socket.url).search, '');
  assert.equal(await client.auth.refresh(), true);
  const auth = await fake.next((m) => m.type === 'auth', 'auth');
  assert.equal(auth.token, 'token-2');
  await client.close();
});

test('remote changes after astral characters arrive at UTF-16 positions', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  const peer = new engine.TextDoc(9);
  peer.insert(0, '😀😀x');
  const empty = new engine.TextDoc(1).stateVector();
  const first = { clientId: 9, firstSeq: 0, span: 3, update: peer.diff(empty) };
  await serveSubscribe(fake, { changes: [first] });
  const text = await opening;
  const events = [];
  text.on('change', (ev) => events.push(...ev.changes));
  const sv = peer.stateVector();
  peer.insert(2, 'é'); // code point 2: after both emoji
  peer.remove(3, 1); // the x
  fake.send(fake.socket, { type: 'ops', doc: DOC, firstSeq: 2, changes: [{ clientId: 9, firstSeq: 3, span: 2, update: peer.diff(sv) }] });
  await eventually(() => text.value() === '😀😀é', 'the remote edit');
  assert.deepEqual(events, [
    { pos: 4, deleted: 0, inserted: 'é' },
    { pos: 5, deleted: 1, inserted: '' },
  ]);
  peer.delete();
  await client.close();
});

test('close 4402 (token expired): refresh, reconnect with the new token, resubscribe', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  await serveSubscribe(fake);
  await opening;
  const before = fake.received.length;
  fake.drop(4402);
  const hello = await fake.next((m) => m.type === 'hello', 'a new hello', 3000, before);
  assert.equal(hello.token, 'token-2', 'refreshed before reconnecting');
  assert.equal(hello.socket, 1);
  await serveSubscribe(fake, { from: before });
  await eventually(() => client.status === 'online', 'online again');
  await client.close();
});

test('a gap in the server sequence resubscribes from the last seq held', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  await serveSubscribe(fake, { changes: [remoteChange(5, 'a')] });
  const text = await opening;
  const n = fake.received.length;
  fake.send(fake.socket, { type: 'ops', doc: DOC, firstSeq: 5, changes: [remoteChange(6, 'b')] });
  await fake.next((m) => m.type === 'unsubscribe', 'unsubscribe', 3000, n);
  const sub = await fake.next((m) => m.type === 'subscribe', 'subscribe', 3000, n);
  assert.equal(sub.sinceSeq, 1);
  assert.equal(text.value(), 'a', 'nothing applied across the gap');
  await client.close();
});

test('unsubscribed (access removed) closes the handle and forgets its local copy and queue', async () => {
  const { fake, client, idb } = await setup();
  const opening = client.openText(DOC);
  await serveSubscribe(fake);
  const text = await opening;
  text.insert(0, 'doomed');
  await fake.next((m) => m.type === 'submit', 'submit');
  await text.save();
  text.insert(0, '!'); // a save of the local copy is now due
  const rejected = new Promise((resolve) => text.on('rejected', resolve));
  const waiting = text.whenSynced();
  fake.send(fake.socket, { type: 'unsubscribed', doc: DOC, code: 410, message: 'access removed' });
  assert.equal((await within(rejected, 'rejected')).code, 410);
  await assert.rejects(waiting, (e) => e.code === 410);
  assert.equal(client.pending, 0);
  assert.throws(() => text.insert(0, 'x'), /closed/);
  const store = await storeIn(idb);
  await forgotten(store, 'the local copy to be forgotten');
  store.close();
  await client.close();
});

test('a subscribe answered not_found (deleted or access removed while offline) closes the handle and forgets its copy and queue', async () => {
  const { fake, client, text, rejected, store } = await openWithStoredEdit('doomed');
  await text.save();
  const n = fake.received.length;
  fake.drop(1006);
  const sub = await fake.next((m) => m.type === 'subscribe', 'the resubscribe', 3000, n);
  fake.send(fake.socket, { type: 'error', code: 404, doc: sub.doc, message: 'not found', expectedSeq: 0 });
  await eventually(() => text.isClosed, 'the handle closed');
  assert.deepEqual(rejected, [404]);
  assert.equal(client.pending, 0);
  await forgotten(store, 'the local copy and queue to be forgotten');
  store.close();
  await client.close();
});

test('rate_limited resends after a pause; too_large rolls back', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const opening = client.openText(DOC);
  await serveSubscribe(fake);
  const text = await opening;
  text.insert(0, 'x');
  const first = await fake.next((m) => m.type === 'submit', 'submit');
  const n = fake.received.length;
  const t0 = Date.now();
  fake.send(fake.socket, { type: 'error', code: 429, doc: DOC, message: 'slow down', expectedSeq: 0 });
  const again = await fake.next((m) => m.type === 'submit', 'the resend', 5000, n);
  assert.ok(Date.now() - t0 >= 450, 'not at once'); // 1 s ± 50 %
  assert.deepEqual(again.changes, first.changes);
  assert.equal(client.pending, 1);

  const rejected = new Promise((resolve) => text.on('rejected', resolve));
  fake.send(fake.socket, { type: 'error', code: 413, doc: DOC, message: 'too large', expectedSeq: 0 });
  assert.equal((await within(rejected, 'the rollback')).codeName, 'too_large');
  assert.equal(client.pending, 0);
  assert.equal(text.value(), '');
  await client.close();
});

test('one rate_limited submit does not roll back through the out_of_order answers to the submits behind it', async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  const rejected = [];
  text.on('rejected', (e) => rejected.push(e.code));
  const sent = [];
  for (const ch of 'abcde') {
    const n = fake.received.length;
    text.insert(text.value().length, ch);
    sent.push(await fake.next((m) => m.type === 'submit', `the submit of ${ch}`, 3000, n));
  }
  // The server refuses the first for its rate and so every other as out of
  // order; all five answers are on their way before the client reads one.
  const expected = sent[0].changes[0].firstSeq;
  const n = fake.received.length;
  fake.send(fake.socket, { type: 'error', code: 429, doc: DOC, message: 'slow down', expectedSeq: 0 });
  for (let i = 1; i < sent.length; i++) {
    fake.send(fake.socket, { type: 'error', code: 409, doc: DOC, message: 'gap', expectedSeq: expected });
  }
  const again = await fake.next((m) => m.type === 'submit', 'the resend', 5000, n);
  assert.deepEqual(rejected, [], 'no rollback');
  assert.deepEqual(
    again.changes.map((c) => c.firstSeq),
    sent.map((m) => m.changes[0].firstSeq),
    'the whole queue again, in order',
  );
  assert.equal(fake.received.slice(n).filter((m) => m.type === 'submit').length, 1, 'resent once');
  fake.send(fake.socket, {
    type: 'ack',
    doc: DOC,
    entries: again.changes.map((c, i) => ({ clientId: c.clientId, firstSeq: c.firstSeq, serverSeq: i + 1 })),
  });
  await eventually(() => text.pending === 0, 'the acks');
  assert.equal(text.value(), 'abcde');
  await client.close();
});

/** Runs `fn` with Math.random() answering `r` (the backoffs' jitter). */
async function withRandom(r, fn) {
  const random = Math.random;
  Math.random = () => r;
  try {
    return await fn();
  } finally {
    Math.random = random;
  }
}

test('rate_limited answers that keep coming do not hold the resend back', () => withRandom(0.5, async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  text.insert(0, 'x');
  await fake.next((m) => m.type === 'submit', 'submit');
  const n = fake.received.length;
  const t0 = Date.now();
  fake.send(fake.socket, { type: 'error', code: 429, doc: DOC, message: 'slow down', expectedSeq: 0 });
  // Another one after the first was read (say, a presence refused for the
  // connection's rate): it must not start the backoff over, longer.
  await new Promise((r) => setTimeout(r, 500));
  fake.send(fake.socket, { type: 'error', code: 429, doc: DOC, message: 'slow down', expectedSeq: 0 });
  await fake.next((m) => m.type === 'submit', 'the resend', 5000, n);
  const waited = Date.now() - t0;
  assert.ok(waited >= 900 && waited < 1400, `resent ${waited} ms after the first refusal, not after a backoff started again`);
  await client.close();
}));

test('the resend backoff has jitter and starts over after a reconnect', () => withRandom(0, async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  text.insert(0, 'x');
  await fake.next((m) => m.type === 'submit', 'submit');
  const refuse = async () => {
    const n = fake.received.length;
    const t0 = Date.now();
    fake.send(fake.socket, { type: 'error', code: 429, doc: DOC, message: 'slow down', expectedSeq: 0 });
    await fake.next((m) => m.type === 'submit', 'the resend', 5000, n);
    return Date.now() - t0;
  };
  const first = await refuse();
  assert.ok(first >= 450 && first < 900, `first resend after ${first} ms: 1 s less 50 %`);
  const second = await refuse();
  assert.ok(second >= 950 && second < 1400, `second resend after ${second} ms: doubled`);
  // A new connection: the next refusal waits as long as the first did.
  const n = fake.received.length;
  fake.drop(1006);
  await serveSubscribe(fake, { from: n });
  await fake.next((m) => m.type === 'submit', 'the resend after the reconnect', 3000, n);
  const third = await refuse();
  assert.ok(third < 900, `resent ${third} ms after a refusal on the new connection: the backoff did not start over`);
  await client.close();
}));

test('a replica restored from an older local copy applies its own client id\'s changes from the server', async () => {
  // The page dies after an ack but before the local copy is saved again:
  // the reloaded replica has the queued change "b" of client X but not the
  // acknowledged "a" of the same client, which the server sends back.
  const idb = new IDBFactory();
  const { fake, client, text } = await openSynced({ idb });
  await text.save(); // the copy at seq 0
  client.store.saveDoc = async () => {}; // no later save lands
  text.insert(0, 'a');
  const c1 = (await fake.next((m) => m.type === 'submit', 'submit a')).changes[0];
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: c1.clientId, firstSeq: c1.firstSeq, serverSeq: 1 }] });
  await eventually(() => text.pending === 0, 'ack of a');
  const n = fake.received.length;
  text.insert(1, 'b');
  await fake.next((m) => m.type === 'submit', 'submit b', 3000, n);
  await new Promise((r) => setTimeout(r, 50)); // the pending record lands
  client.setOnline(false);

  const second = await setup({ idb });
  const opening2 = second.client.openText(DOC);
  const sub = await second.fake.next((m) => m.type === 'subscribe', 'subscribe');
  assert.equal(sub.sinceSeq, 0);
  second.fake.send(second.fake.socket, { type: 'subscribed', doc: DOC, role: 'editor', headSeq: 1 });
  second.fake.send(second.fake.socket, { type: 'ops', doc: DOC, firstSeq: 1, changes: [c1] });
  second.fake.send(second.fake.socket, { type: 'synced', doc: DOC, seq: 1 });
  const t2 = await opening2;
  const c2 = (await second.fake.next((m) => m.type === 'submit', 'resend of b')).changes[0];
  second.fake.send(second.fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: c2.clientId, firstSeq: c2.firstSeq, serverSeq: 2 }] });
  await within(t2.whenSynced(), 'synced');
  assert.equal(t2.value(), 'ab', 'the server holds "ab"');
  await second.client.close();
  await client.close();
});

test('unsubscribed as unavailable (503) keeps the queue and subscribes again after a backoff', async () => {
  const { fake, client, text, rejected, store } = await openWithStoredEdit('precious');
  const n = fake.received.length;
  fake.send(fake.socket, { type: 'presence_of', doc: DOC, sessionId: 42, state: new TextEncoder().encode('{"name":"Bo"}') });
  await eventually(() => text.presence.peers().length === 1, 'a peer');
  // The server could not rebuild the document's durable state.
  fake.send(fake.socket, { type: 'unsubscribed', doc: DOC, code: 503, message: 'storage failing' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal((await store.loadDoc('u1', DOC)).pending.length, 1, 'still queued');
  // No presence_gone can come while unsubscribed: peers go with it.
  assert.equal(text.presence.peers().length, 0, 'a peer left over from the old subscription');
  assert.deepEqual(rejected, []);
  await serveSubscribe(fake, { from: n }); // after the 1 s backoff
  const resent = await fake.next((m) => m.type === 'submit', 'the queue again', 3000, n);
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: resent.changes[0].clientId, firstSeq: 0, serverSeq: 1 }] });
  await within(text.whenSynced(), 'synced');
  assert.equal(text.value(), 'precious');
  store.close();
  await client.close();
});

test('a retryable error that arrives while resubscribing still resends the queue', async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  text.insert(0, 'x');
  const sent = (await fake.next((m) => m.type === 'submit', 'submit')).changes[0];
  const n = fake.received.length;
  // A gap in the server's sequence makes the client resubscribe; then the
  // answer to its earlier submit arrives: not stored, retry.
  fake.send(fake.socket, { type: 'ops', doc: DOC, firstSeq: 5, changes: [remoteChange(9, 'p')] });
  fake.send(fake.socket, { type: 'error', code: 503, doc: DOC, message: 'not stored', expectedSeq: 0 });
  await serveSubscribe(fake, { from: n });
  const again = await fake.next((m) => m.type === 'submit', 'the queue after the backoff', 3000, n);
  assert.deepEqual([again.changes[0].clientId, again.changes[0].firstSeq], [sent.clientId, sent.firstSeq]);
  assert.equal(text.pending, 1);
  await client.close();
});

test('a document reopened while the closed session\'s subscribe is still answered subscribes itself', async () => {
  const { fake, client, text: first } = await openSynced();
  await first.save();
  first.close();
  const n0 = fake.received.length;
  const h1 = await client.openText(DOC); // from the local copy
  const sub1 = await fake.next((m) => m.type === 'subscribe', 'subscribe 1', 3000, n0);
  h1.close();
  const n = fake.received.length;
  // Reading the local copy takes a while; meanwhile the answers to the
  // first subscribe arrive (sent before the server read the unsubscribe).
  const load = client.store.loadDoc.bind(client.store);
  client.store.loadDoc = async (u, d) => {
    await new Promise((r) => setTimeout(r, 50));
    return load(u, d);
  };
  const h2p = client.openText(DOC);
  fake.send(fake.socket, { type: 'subscribed', doc: DOC, role: 'editor', headSeq: sub1.sinceSeq + 1 });
  fake.send(fake.socket, { type: 'ops', doc: DOC, firstSeq: sub1.sinceSeq + 1, changes: [remoteChange(9, 'p')] });
  fake.send(fake.socket, { type: 'synced', doc: DOC, seq: sub1.sinceSeq + 1 });
  const h2 = await h2p;
  const errors = [];
  client.on('error', (e) => errors.push(e.code));
  const sub2 = await fake.next((m) => m.type === 'subscribe', 'the reopened handle\'s subscribe', 3000, n);
  assert.equal(sub2.sinceSeq, sub1.sinceSeq);
  await serveSubscribe(fake, { from: n, changes: [remoteChange(9, 'p')] });
  await within(h2.whenSynced(), 'synced');
  assert.equal(h2.value(), 'p');
  h2.insert(1, '!');
  await fake.next((m) => m.type === 'submit', 'its edit goes out', 3000, n);
  assert.deepEqual(errors, [], 'no change was applied to an engine that was not loaded yet');
  await client.close();
});

test('a change over the message size limit is refused and rolled back before it is sent', async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  const rejected = [];
  text.on('rejected', (e) => rejected.push(e.code));
  const n = fake.received.length;
  text.insert(0, 'x'.repeat(1_200_000));
  await serveSubscribe(fake, { from: n }); // the rollback's subscribe from 0
  await within(text.whenSynced(), 'synced');
  assert.deepEqual(rejected, [413]);
  assert.equal(text.value(), '');
  assert.equal(fake.received.slice(n).filter((m) => m.type === 'submit').length, 0, 'nothing the server would close on');
  assert.equal(fake.sockets.length, 1, 'the connection stays');
  await client.close();
});

test('a lone surrogate is typed as U+FFFD, in the handle and the engine alike', async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  // Without the replacement the engine read "\uD83Da" as one astral
  // character, swallowing the "a", and the handle's next append failed.
  text.insert(0, '\uD83Da');
  text.insert(text.length, 'z');
  assert.equal(text.value(), '\uFFFDaz');
  const c = (await fake.next((m) => m.type === 'submit', 'submit')).changes[0];
  const peer = new engine.TextDoc(3);
  peer.applyUpdate(c.update);
  assert.equal(peer.text(), '\uFFFDa');
  peer.delete();
  await client.close();
});

test('a server behind the local copy (restored from a backup) is followed again, not skipped', async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  const history = ['a', 'b', 'c', 'd'].map((ch, i) => remoteChange(20 + i, ch));
  fake.send(fake.socket, { type: 'ops', doc: DOC, firstSeq: 1, changes: history });
  await eventually(() => text.value().length === 4, 'four changes');
  // The server comes back with only the first two (its backup), and a new
  // change numbered 3, as weftd sends it: from its base, then synced.
  fake.drop();
  const n = fake.received.length;
  const sub = await fake.next((m) => m.type === 'subscribe', 'resubscribe', 3000, n);
  assert.equal(sub.sinceSeq, 4);
  const fresh = remoteChange(30, 'N');
  fake.send(fake.socket, { type: 'subscribed', doc: DOC, role: 'editor', headSeq: 3 });
  fake.send(fake.socket, { type: 'ops', doc: DOC, firstSeq: 1, changes: [history[0], history[1], fresh] });
  fake.send(fake.socket, { type: 'synced', doc: DOC, seq: 3 });
  await eventually(() => text.value().includes('N'), `the new change 3 is applied: ${text.value()}`);
  await client.close();
});

test('unsubscribed with a code that is neither retryable nor a deletion closes the handle but keeps its queue', async () => {
  const { fake, client, text, rejected, store } = await openWithStoredEdit('kept');
  fake.send(fake.socket, { type: 'unsubscribed', doc: DOC, code: 400, message: 'something else' });
  await eventually(() => rejected.length === 1, 'rejected');
  assert.deepEqual(rejected, [400]);
  assert.throws(() => text.insert(0, 'x'), /closed/);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal((await store.loadDoc('u1', DOC)).pending.length, 1, 'the queue stays stored');
  store.close();
  await client.close();
});


test('a rollback in one tab keeps the queued edits another tab stored after it opened', async () => {
  // Two tabs share one IndexedDB. Tab B types "b" while offline; tab A's
  // edit is then refused (422) and rolled back. B's stored edit must stay
  // stored: a reload after B closes sends it.
  const idb = new IDBFactory();
  const a = await openSynced({ idb });
  const b = await openSynced({ idb });
  b.client.setOnline(false);
  b.text.insert(0, 'b');
  const store = await storeIn(idb);
  await eventually(async () => (await store.loadDoc('u1', DOC)).pending.length === 1, 'B\'s edit stored');
  a.text.insert(0, 'a');
  await a.fake.next((m) => m.type === 'submit', 'submit a');
  const rejected = new Promise((resolve) => a.text.on('rejected', resolve));
  a.fake.send(a.fake.socket, { type: 'error', code: 422, doc: DOC, message: 'invalid update', expectedSeq: 0 });
  await within(rejected, 'the rollback');
  await new Promise((r) => setTimeout(r, 100)); // the rollback's storage writes land
  const left = (await store.loadDoc('u1', DOC)).pending;
  assert.equal(left.length, 1, 'B\'s edit is still stored');
  assert.equal(left[0].clientId, b.text.clientId);
  await b.client.close();
  await a.client.close();

  const reload = await setup({ idb });
  const opening = reload.client.openText(DOC);
  await serveSubscribe(reload.fake);
  const t = await opening;
  const sent = (await reload.fake.next((m) => m.type === 'submit', 'B\'s edit resent')).changes;
  assert.deepEqual(sent.map((c) => c.clientId), [left[0].clientId]);
  assert.equal(t.value(), 'b');
  store.close();
  await reload.client.close();
});

test('edits the server lost (restored from a backup) are sent again from the replica, not rolled back', async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  const rejected = [];
  text.on('rejected', (e) => rejected.push(e.code));
  text.insert(0, 'abc');
  const c1 = (await fake.next((m) => m.type === 'submit', 'submit abc')).changes[0];
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: c1.clientId, firstSeq: 0, serverSeq: 1 }] });
  fake.send(fake.socket, { type: 'ops', doc: DOC, firstSeq: 1, changes: [c1] });
  await eventually(() => text.pending === 0, 'abc acknowledged');
  // The server comes back from a backup that has none of it.
  fake.drop();
  let n = fake.received.length;
  await fake.next((m) => m.type === 'subscribe', 'resubscribe', 3000, n);
  fake.send(fake.socket, { type: 'subscribed', doc: DOC, role: 'editor', headSeq: 0 });
  fake.send(fake.socket, { type: 'synced', doc: DOC, seq: 0 });
  text.insert(3, 'd');
  const first = await fake.next((m) => m.type === 'submit', 'submit d', 3000, n);
  assert.deepEqual(first.changes.map((c) => [c.firstSeq, c.span]), [[3, 1]]);
  n = fake.received.length;
  fake.send(fake.socket, { type: 'error', code: 409, doc: DOC, message: 'expected seq 0 from this client', expectedSeq: 0 });
  const again = await fake.next((m) => m.type === 'submit', 'the resend', 3000, n);
  assert.deepEqual(again.changes.map((c) => [c.clientId, c.firstSeq, c.span]), [[c1.clientId, 0, 4], [c1.clientId, 3, 1]]);
  // The first change holds all four operations: a fresh replica shows them.
  const check = new engine.TextDoc(77);
  check.applyUpdate(again.changes[0].update);
  assert.equal(check.text(), 'abcd');
  check.delete();
  fake.send(fake.socket, { type: 'ack', doc: DOC, entries: [{ clientId: c1.clientId, firstSeq: 0, serverSeq: 1 }, { clientId: c1.clientId, firstSeq: 3, serverSeq: 2 }] });
  await within(text.whenSynced(), 'synced');
  assert.equal(text.value(), 'abcd');
  assert.deepEqual(rejected, []);
  // A second out_of_order at the same seq is not answered the same way again.
  text.insert(4, 'e');
  n = fake.received.length;
  await fake.next((m) => m.type === 'submit', 'submit e', 3000, n - 1);
  for (let i = 0; i < 5 && rejected.length === 0; i++) {
    fake.send(fake.socket, { type: 'error', code: 409, doc: DOC, message: 'expected seq 0', expectedSeq: 0 });
    await new Promise((r) => setTimeout(r, 30));
  }
  assert.deepEqual(rejected, [409], 'it rolls back as before');
  await client.close();
});

test('a refresh that races a password change keeps the session the change started', async () => {
  // The server ends every session on a password change, the connection of
  // this client too (4401, whose handling refreshes). Whichever answer
  // comes first, the client ends up with the change's new session.
  for (const order of ['refresh during the change', 'refresh sent before the change']) {
    const fake = new FakeServer();
    let answerChange, answerRefresh;
    const fetch = async (url, init = {}) => {
      const p = new URL(url).pathname;
      const body = init.body ? JSON.parse(init.body) : {};
      const session = (n) => new Response(JSON.stringify({ user: { id: 'u1', email: 'a@example.com', display_name: 'A' }, access_token: `token-${n}`, refresh_token: `wrt_${n}`, expires_in: 900 }), { status: 200, headers: { 'Content-Type': 'application/json' } });
      if (p === '/api/v1/auth/login') return session('old');
      if (p === '/api/v1/me/password') return new Promise((r) => { answerChange = () => r(session('new')); });
      if (p === '/api/v1/auth/refresh') {
        if (body.refresh_token === 'wrt_new') return session('newer');
        // The old token: revoked by the change.
        return new Promise((r) => { answerRefresh = () => r(new Response(JSON.stringify({ error: { code: 'invalid_refresh_token', message: 'ended', details: {}, request_id: 'x' } }), { status: 401, headers: { 'Content-Type': 'application/json' } })); });
      }
      return fake.fetch(url, init);
    };
    const client = await WeftClient.create({ url: 'http://127.0.0.1:9', storage: 'memory', WebSocket: fake.WebSocket, fetch, loadEngine: async () => engine });
    await client.auth.signIn({ email: 'a@example.com', password: 'x' });
    let change, refreshed;
    if (order === 'refresh during the change') {
      change = client.auth.changePassword('x', 'a much better passphrase');
      await eventually(() => answerChange, 'the change sent');
      refreshed = client.auth.refresh(); // as the 4401 close does
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(answerRefresh, undefined, 'it waits instead of presenting the old token');
      answerChange();
      await change;
    } else {
      refreshed = client.auth.refresh();
      await eventually(() => answerRefresh, 'the refresh sent');
      change = client.auth.changePassword('x', 'a much better passphrase');
      await eventually(() => answerChange, 'the change sent');
      answerChange();
      await change;
      answerRefresh(); // 401 for the old token, after the new session came
    }
    assert.equal(await refreshed, true, order);
    assert.equal(client.auth.user?.email, 'a@example.com', `${order}: still signed in`);
    assert.equal(await client.auth.accessToken(), 'token-new', order);
    await client.close();
  }
});

test('a refreshed session local storage refuses is used all the same, and the refusal reported', async () => {
  const fake = new FakeServer();
  const presented = [];
  const fetch = async (url, init = {}) => {
    if (new URL(url).pathname === '/api/v1/auth/refresh') presented.push(JSON.parse(init.body).refresh_token);
    return fake.fetch(url, init);
  };
  const client = await WeftClient.create({ url: 'http://127.0.0.1:9', storage: 'memory', persistSession: true, WebSocket: fake.WebSocket, fetch, loadEngine: async () => engine });
  const errors = [];
  client.on('error', (e) => errors.push(e));
  const store = client.store;
  const save = store.saveSession.bind(store);
  store.saveSession = async () => {
    throw new DOMException('the quota is used up', 'QuotaExceededError');
  };
  // Signing in: the session is used though it could not be stored.
  await client.auth.signIn({ email: 'a@example.com', password: 'x' });
  assert.equal(client.auth.user?.id, 'u1');
  assert.equal(await client.auth.accessToken(), 'token-1');
  // The server answers the refresh (and has marked wrt_1 used): the new
  // session is used, never the one it replaced.
  assert.equal(await client.auth.refresh(), true);
  assert.equal(await client.auth.accessToken(), 'token-2');
  assert.equal(errors.length, 2);
  assert.ok(errors.every((e) => e.codeName === 'storage_failed' && e.kind === 'session'));
  store.saveSession = save;
  assert.equal(await client.auth.refresh(), true);
  assert.deepEqual(presented, ['wrt_1', 'wrt_2'], 'each refresh token presented once');
  assert.equal((await store.loadSession()).refreshToken, 'wrt_3', 'stored again once storage takes it');
  await client.close();
});

test('a refresh refused because another tab changed the password takes that tab\'s session without closing anything', async () => {
  const fake = new FakeServer();
  let client;
  const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const fetch = async (url, init = {}) => {
    if (new URL(url).pathname === '/api/v1/auth/refresh') {
      // The other tab changed the password (revoking wrt_1) and stores
      // its new session while our refresh is on its way.
      await client.store.saveSession({ refreshToken: 'wrt_other', accessToken: 'token-other', expiresAt: Date.now() + 900_000, user: { id: 'u1', email: 'a@example.com', display_name: 'A' } });
      return json({ error: { code: 'invalid_refresh_token', message: 'ended', details: {}, request_id: 'x' } }, 401);
    }
    return fake.fetch(url, init);
  };
  client = await WeftClient.create({ url: 'http://127.0.0.1:9', storage: 'memory', persistSession: true, WebSocket: fake.WebSocket, fetch, loadEngine: async () => engine });
  await client.auth.signIn({ email: 'a@example.com', password: 'x' });
  const changes = [];
  client.auth.on('change', (u) => changes.push(u?.id ?? null));
  const opening = client.openText(DOC);
  await serveSubscribe(fake);
  const text = await opening;
  text.insert(0, 'kept');
  assert.equal(await client.auth.refresh(), true);
  assert.equal(await client.auth.accessToken(), 'token-other');
  assert.deepEqual(changes, [], 'never signed out');
  assert.equal(text.isClosed, false, 'the handle stays open');
  assert.equal(text.value(), 'kept');
  assert.equal(client.pending, 1, 'the edit is still queued');
  await client.close();
});

test('a tab whose session ended does not sign out the user another tab signed in', async () => {
  const fake = new FakeServer();
  const idb = new IDBFactory();
  const json = (body, status = 200) => new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
  const session = (id, n) => json({ user: { id, email: `${id}@example.com`, display_name: id }, access_token: `token-${n}`, refresh_token: `wrt_${n}`, expires_in: 900 });
  const fetch = async (url, init = {}) => {
    const p = new URL(url).pathname;
    const body = init.body ? JSON.parse(init.body) : {};
    if (p === '/api/v1/auth/login') return session(body.email.split('@')[0], body.email[0]);
    if (p === '/api/v1/auth/refresh') return json({ error: { code: 'invalid_refresh_token', message: 'ended', details: {}, request_id: 'x' } }, 401);
    return fake.fetch(url, init);
  };
  const open = () => WeftClient.create({ url: 'http://127.0.0.1:9', storage: 'indexeddb', indexedDB: idb, IDBKeyRange, WebSocket: fake.WebSocket, fetch, loadEngine: async () => engine });
  const tabA = await open();
  await tabA.auth.signIn({ email: 'ann@example.com', password: 'x' });
  const tabB = await open();
  await tabB.auth.signIn({ email: 'bob@example.com', password: 'x' });
  // Ann's session ends (her refresh is refused): tab A is signed out...
  assert.equal(await tabA.auth.refresh(), false);
  assert.equal(tabA.auth.user, null);
  // ... and Bob, signed in since in tab B, stays signed in in this browser.
  const reload = await open();
  assert.equal(reload.auth.user?.id, 'bob');
  for (const c of [tabA, tabB, reload]) await c.close();
});

test('an auth the server could not take now is sent again', async () => {
  const { fake, client } = await openSynced({ storage: 'memory' });
  const n = fake.received.length;
  await client.auth.refresh(); // a new token: auth on the open connection
  const first = await fake.next((m) => m.type === 'auth', 'auth', 3000, n);
  fake.send(fake.socket, { type: 'error', code: 503, doc: '', message: 'store down', expectedSeq: 0 });
  const m = fake.received.length;
  const again = await fake.next((x) => x.type === 'auth', 'the auth again', 3000, m);
  assert.equal(again.token, first.token);
  await client.close();
});

test('a closed client neither refreshes nor schedules a refresh', async () => {
  const { fake, client } = await setup({ storage: 'memory' });
  const before = fake.logins;
  // A refresh in progress when the client closes must not re-arm the timer either.
  const racing = client.auth.refresh();
  await client.close();
  await racing;
  assert.equal(await client.auth.refresh(), false);
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(fake.logins <= before + 1, `${fake.logins - before} token rotations after close`);
  assert.equal(client.auth.hasRefreshTimer, false);
});

test('an invalid document id is refused at once, before anything is sent', async () => {
  const { fake, client, text } = await openSynced({ storage: 'memory' });
  const n = fake.received.length;
  for (const id of ['my doc', '', 'x'.repeat(129), 'doc/1', 'é']) {
    await assert.rejects(client.openText(id), (e) => e.code === 400 && /invalid document id/.test(e.message), JSON.stringify(id));
  }
  assert.deepEqual(fake.received.slice(n).filter((m) => m.type === 'subscribe'), [], 'nothing sent');
  const longest = 'a.B_-9'.repeat(21) + 'xy'; // 128 characters: valid
  void client.openText(longest).catch(() => undefined);
  await fake.next((m) => m.type === 'subscribe' && m.doc === longest, 'the subscribe of the longest id', 3000, n);
  assert.equal(text.isClosed, false);
  await client.close();
});

test('a server that welcomes and then closes the connection at once is retried with a growing backoff', async () => {
  const fake = new FakeServer();
  const client = await WeftClient.create({
    url: 'http://127.0.0.1:9',
    storage: 'memory',
    WebSocket: fake.WebSocket,
    fetch: fake.fetch,
    loadEngine: async () => engine,
    reconnect: { initialDelayMs: 40, maxDelayMs: 5000 },
  });
  // Every subscribe is answered by closing the connection, as weftd does
  // for a message it cannot decode (4400).
  const send = fake.WebSocket.prototype.send;
  fake.WebSocket.prototype.send = function (bytes) {
    send.call(this, bytes);
    const m = fake.received[fake.received.length - 1];
    if (m?.type === 'subscribe') setTimeout(() => fake.drop(4400), 0);
  };
  await client.auth.signIn({ email: 'a@example.com', password: 'x' });
  void client.openText(DOC).catch(() => undefined);
  await new Promise((r) => setTimeout(r, 1500));
  // 20-40, 40-80, 80-160, 160-320, 320-640 ms...: at most 6 sockets in 1.5 s; without backoff ~30.
  assert.ok(fake.sockets.length <= 7, `${fake.sockets.length} connections in 1.5 s`);
  await client.close();
});

test('a connection whose handshake hangs is dropped and tried again', async () => {
  const fake = new FakeServer();
  fake.hangNext = 1;
  const client = await WeftClient.create({
    url: 'http://127.0.0.1:9',
    storage: 'memory',
    WebSocket: fake.WebSocket,
    fetch: fake.fetch,
    loadEngine: async () => engine,
    reconnect: { initialDelayMs: 10, maxDelayMs: 20, welcomeTimeoutMs: 100 },
  });
  await client.auth.signIn({ email: 'a@example.com', password: 'x' });
  await eventually(() => client.status === 'online', 'online through a second socket', 3000);
  assert.equal(fake.sockets.length, 2);
  assert.equal(fake.sockets[0].open, false, 'the hanging one was closed');
  await client.close();
});
