// Unit tests: the protocol codec (bytes as docs/protocol.md spells them,
// hostile input), the in-flight queue, UTF-16/code point conversion, and
// both local stores against one contract.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDBFactory, IDBKeyRange } from 'fake-indexeddb';
import { decodeServer, encodeClient, encodeServer, decodeClient, CodecError } from '../dist/codec.js';
import { PendingQueue, kMaxChangesPerSubmit } from '../dist/queue.js';
import { resendOrder } from '../dist/pending_order.js';
import {
  utf16ToCodePoint,
  codePointToUtf16,
  diffStrings,
  mapPosition,
  PositionIndex,
  replaceLoneSurrogates,
  wellFormed,
} from '../dist/unicode.js';
import { IndexedDbStore, MemoryStore } from '../dist/storage.js';
import { TextRope } from '../dist/rope.js';
import { Emitter } from '../dist/emitter.js';
import { cssColor } from '../dist/presence.js';

const bytes = (...b) => new Uint8Array(b);

test('client messages encode as docs/protocol.md spells them', () => {
  assert.deepEqual(encodeClient({ type: 'hello', version: 1, token: 'tk', clientName: 'c' }), bytes(0x01, 1, 2, 0x74, 0x6b, 1, 0x63));
  assert.deepEqual(encodeClient({ type: 'subscribe', doc: 'd', sinceSeq: 300 }), bytes(0x03, 1, 0x64, 0xac, 0x02));
  assert.deepEqual(
    encodeClient({ type: 'submit', doc: 'd', changes: [{ clientId: 7, firstSeq: 0, span: 2, update: bytes(9, 9) }] }),
    bytes(0x05, 1, 0x64, 1, 7, 0, 2, 2, 9, 9),
  );
  assert.deepEqual(encodeClient({ type: 'ping', nonce: 2 ** 40 }).length, 1 + 6);
  assert.throws(() => encodeClient({ type: 'ping', nonce: -1 }), RangeError);
});

test('every message round-trips', () => {
  const change = { clientId: 2 ** 47 + 5, firstSeq: 128, span: 3, update: bytes(1, 2, 3) };
  const server = [
    { type: 'welcome', version: 1, userId: 'u', sessionId: 9, expiresIn: 900 },
    { type: 'subscribed', doc: 'd', role: 'owner', headSeq: 5 },
    { type: 'snapshot', doc: 'd', lastIncludedSeq: 4, state: bytes(1) },
    { type: 'ops', doc: 'd', firstSeq: 5, changes: [change, change] },
    { type: 'synced', doc: 'd', seq: 6 },
    { type: 'ack', doc: 'd', entries: [{ clientId: 1, firstSeq: 2, serverSeq: 3 }] },
    { type: 'presence_of', doc: 'd', sessionId: 3, state: bytes(0x7b, 0x7d) },
    { type: 'presence_gone', doc: 'd', sessionId: 3 },
    { type: 'unsubscribed', doc: 'd', code: 410, message: 'gone' },
    { type: 'error', code: 409, doc: '', message: 'gap', expectedSeq: 12 },
    { type: 'pong', nonce: 1 },
  ];
  for (const m of server) assert.deepEqual(decodeServer(encodeServer(m)), m);
  const client = [
    { type: 'hello', version: 1, token: 't', clientName: 'n' },
    { type: 'auth', token: 't2' },
    { type: 'subscribe', doc: 'd', sinceSeq: 0 },
    { type: 'unsubscribe', doc: 'd' },
    { type: 'submit', doc: 'd', changes: [change] },
    { type: 'presence', doc: 'd', state: bytes(1) },
    { type: 'ping', nonce: 3 },
  ];
  for (const m of client) assert.deepEqual(decodeClient(encodeClient(m)), m);
});

test('hostile bytes are CodecErrors, never crashes or huge allocations', () => {
  const bad = [
    bytes(),
    bytes(0x99),
    bytes(0x85, 1, 0x64), // truncated
    bytes(0x85, 1, 0x64, 1, 0), // trailing byte
    bytes(0x85, 1, 0x64, 0x81, 0x00), // overlong varuint
    bytes(0x85, 1, 0x64, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01), // > 10 bytes
    bytes(0x83, 1, 0x64, 0, 0xff, 0xff, 0xff, 0xff, 0x0f), // length far beyond the message
    bytes(0x85, 2, 0xc3, 0x28, 1), // invalid UTF-8 doc id
    bytes(0x82, 1, 0x64, 4, 0), // unknown role
  ];
  for (const b of bad) assert.throws(() => decodeServer(b), CodecError, `bytes ${[...b]}`);
});

test('the queue leaves only on ack, resends when told, and batches within the limits', () => {
  const q = new PendingQueue();
  const c = (clientId, firstSeq, size = 1) => ({ clientId, firstSeq, span: 1, update: new Uint8Array(size) });
  q.add(c(1, 0));
  q.add(c(1, 1));
  q.add(c(2, 0));
  assert.throws(() => q.add({ ...c(1, 2), span: 0 }), RangeError);
  let batches = q.takeUnsent();
  assert.equal(batches.length, 1);
  assert.equal(batches[0].length, 3);
  assert.deepEqual(q.takeUnsent(), [], 'nothing is sent twice on one connection');
  assert.deepEqual(q.ack([{ clientId: 1, firstSeq: 1, serverSeq: 8 }, { clientId: 9, firstSeq: 0, serverSeq: 9 }]).map((x) => x.firstSeq), [1]);
  assert.equal(q.size, 2);
  q.markAllUnsent();
  batches = q.takeUnsent();
  assert.deepEqual(batches[0].map((x) => [x.clientId, x.firstSeq]), [[1, 0], [2, 0]], 'order kept');
  q.clear();
  for (let i = 0; i < kMaxChangesPerSubmit + 5; i++) q.add(c(3, i));
  q.add(c(3, 5000, 600 * 1024));
  batches = q.takeUnsent();
  assert.deepEqual(batches.map((b) => b.length), [kMaxChangesPerSubmit, 5, 1]);
});

test('stored changes go out again in the order they were made, each session in its own order', () => {
  const rec = (clientId, firstSeq, at) => ({ userId: 'u', docId: 'd', clientId, firstSeq, span: 1, update: new Uint8Array(), ...(at === undefined ? {} : { at }) });
  const order = (list) => resendOrder(list).map((r) => `${r.clientId}:${r.firstSeq}`);
  // A reload offline: the second session (a smaller client id) typed
  // after the first, on top of its text; a store sorts by client id.
  assert.deepEqual(order([rec(5, 0, 200), rec(5, 1, 201), rec(9, 0, 100), rec(9, 3, 101)]),
    ['9:0', '9:3', '5:0', '5:1']);
  // Three sessions, interleaved in time (two tabs, then a reload).
  assert.deepEqual(order([rec(1, 0, 30), rec(2, 0, 10), rec(3, 0, 20), rec(2, 1, 40), rec(3, 1, 50)]),
    ['2:0', '3:0', '1:0', '2:1', '3:1']);
  // A change sent again later (the server lost it) keeps its place before
  // the later changes of its own session.
  assert.deepEqual(order([rec(4, 2, 300), rec(4, 1, 100), rec(7, 0, 200)]),
    ['4:1', '7:0', '4:2']);
  assert.deepEqual(order([rec(4, 1, 500), rec(4, 2, 300), rec(7, 0, 400)]),
    ['4:1', '4:2', '7:0']);
  // Records of an older SDK (no time) keep the old order, before any timed one.
  assert.deepEqual(order([rec(8, 1), rec(3, 0), rec(8, 0), rec(1, 0, 5)]), ['3:0', '8:0', '8:1', '1:0']);
  assert.deepEqual(order([]), []);
});

test('UTF-16 offsets and code points convert both ways', () => {
  const s = 'a😀b\u{1F469}\u200D\u{1F4BB}c';
  assert.equal(utf16ToCodePoint(s, 3), 2);
  assert.equal(codePointToUtf16(s, 2), 3);
  assert.equal(utf16ToCodePoint(s, s.length), [...s].length);
  assert.throws(() => utf16ToCodePoint(s, 2), RangeError);
  assert.throws(() => utf16ToCodePoint(s, s.length + 1), RangeError);
  for (let cp = 0; cp <= [...s].length; cp++) assert.equal(utf16ToCodePoint(s, codePointToUtf16(s, cp)), cp);
  assert.deepEqual(diffStrings('x😀y', 'x😁y'), { pos: 1, deleted: 2, inserted: '😁' });
  assert.equal(diffStrings('same', 'same'), null);
  assert.equal(mapPosition(5, { pos: 5, deleted: 0, insertedLength: 3 }), 5);
  assert.equal(mapPosition(6, { pos: 5, deleted: 0, insertedLength: 3 }), 9);
  assert.equal(mapPosition(6, { pos: 5, deleted: 4, insertedLength: 0 }), 5);
  assert.equal(mapPosition(10, { pos: 5, deleted: 4, insertedLength: 1 }), 7);
});

/** A seeded generator of integers in [0, n), so a failure names its seed. */
function seeded(seed) {
  let state = seed;
  return (n) => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state % n;
  };
}

test('the position index agrees with walking the text through random splices', () => {
  for (let seed = 1; seed <= 20; seed++) {
    const rand = seeded(seed);
    const pieces = ['a', 'bc', '😀', 'x😀y', '\u{1F469}\u200D\u{1F4BB}', 'é', ''];
    let s = pieces[rand(pieces.length)];
    let at = PositionIndex.of(s);
    for (let step = 0; step < 200; step++) {
      const cps = [...s].length;
      assert.equal(at.codePoints, cps, `seed ${seed}`);
      const cp = rand(cps + 1);
      const del = rand(Math.min(3, cps - cp) + 1);
      const ins = pieces[rand(pieces.length)];
      const u = codePointToUtf16(s, cp);
      const end = codePointToUtf16(s, cp + del);
      assert.equal(at.toUtf16(cp), u, `seed ${seed} step ${step}`);
      assert.equal(at.toUtf16(cp + del), end);
      for (const probe of [u, end, rand(s.length + 1)]) {
        let expected;
        try {
          expected = utf16ToCodePoint(s, probe);
        } catch {
          expected = RangeError;
        }
        if (expected === RangeError) assert.throws(() => at.toCodePoint(probe), RangeError);
        else assert.equal(at.toCodePoint(probe), expected);
      }
      s = s.slice(0, u) + ins + s.slice(end);
      at.splice(cp, del, ins);
      if (rand(50) === 0) at = PositionIndex.of(s); // rebuilt agrees too
    }
    assert.throws(() => at.toUtf16(at.codePoints + 1), RangeError);
    assert.throws(() => at.toCodePoint(s.length + 1), RangeError);
    assert.throws(() => at.toCodePoint(0.5), RangeError);
    assert.throws(() => at.splice(at.codePoints, 1, ''), RangeError);
  }
});

test('lone surrogates become U+FFFD, pairs stay', () => {
  const rand = seeded(7);
  const units = ['a', '\uD83D', '\uDE00', '😀', 'é'];
  for (let i = 0; i < 500; i++) {
    let s = '';
    for (let k = rand(8); k > 0; k--) s += units[rand(units.length)];
    assert.equal(replaceLoneSurrogates(s), s.toWellFormed(), JSON.stringify(s));
    assert.equal(wellFormed(s), s.toWellFormed());
  }
  assert.equal(wellFormed('\uD83Da'), '\uFFFDa');
  assert.equal(wellFormed('x\uDE00\uD83D'), 'x\uFFFD\uFFFD');
});

test('the rope holds what splicing a plain string gives, over chunk boundaries', () => {
  for (let seed = 1; seed <= 10; seed++) {
    const rand = seeded(seed);
    const start = 'abcdefghij'.repeat(rand(3) * 700);
    let plain = start;
    const rope = new TextRope(start);
    for (let step = 0; step < 3000; step++) {
      const from = rand(plain.length + 1);
      // Mostly typing and small deletes, some long deletes and pastes, so
      // chunks split, empty and fold.
      const long = rand(40) === 0;
      const to = from + rand(Math.min(long ? 5000 : 3, plain.length - from) + 1);
      const ins = long && rand(2) ? 'xyz'.repeat(rand(2000)) : ['', 'a', 'bc', '😀'][rand(4)];
      plain = plain.slice(0, from) + ins + plain.slice(to);
      rope.splice(from, to, ins);
      assert.equal(rope.length, plain.length, `seed ${seed} step ${step}`);
      if (rand(10) === 0) assert.equal(rope.toString(), plain, `seed ${seed} step ${step}`);
    }
    assert.equal(rope.toString(), plain);
    assert.throws(() => rope.splice(plain.length + 1, plain.length + 1, 'x'), RangeError);
    assert.throws(() => rope.splice(2, 1, ''), RangeError);
    rope.reset('');
    rope.splice(0, 0, 'q');
    assert.equal(rope.toString(), 'q');
  }
});

for (const [name, make] of [
  ['memory', async () => new MemoryStore()],
  ['IndexedDB', async () => IndexedDbStore.open(new IDBFactory(), 'weft:test', IDBKeyRange)],
]) {
  test(`${name} store: documents and queues per user, dropped per change, cleared per document and per user`, async () => {
    const s = await make();
    const change = (docId, userId, firstSeq) => ({ userId, docId, clientId: 4, firstSeq, span: 1, update: bytes(firstSeq) });
    assert.equal(await s.loadSession(), null);
    await s.saveSession({ refreshToken: 'r', accessToken: 'a', expiresAt: 1, user: { id: 'u', email: 'e', display_name: 'n' } });
    assert.equal((await s.loadSession()).refreshToken, 'r');
    await s.saveDoc({ userId: 'u', docId: 'd', snapshot: bytes(1, 2), seq: 7, role: 'editor' });
    await s.addPending(change('d', 'u', 1));
    await s.addPending(change('d', 'u', 0));
    await s.addPending(change('d2', 'u', 0));
    await s.addPending(change('d', 'other', 0));
    let got = await s.loadDoc('u', 'd');
    assert.equal(got.doc.seq, 7);
    assert.deepEqual([...got.doc.snapshot], [1, 2]);
    assert.deepEqual(got.pending.map((p) => p.firstSeq), [0, 1], 'in seq order');
    // The documents with a queue, with their kind: from the copy, else from a record; null when none says.
    await s.saveDoc({ userId: 'u', docId: 'd', snapshot: bytes(1, 2), seq: 7, role: 'editor', kind: 'text' });
    await s.addPending({ ...change('d3', 'u', 0), kind: 'struct' });
    await s.addPending(change('d3', 'u', 1));
    const docs = (await s.pendingDocs('u')).sort((a, b) => a.docId.localeCompare(b.docId));
    assert.deepEqual(docs, [{ docId: 'd', kind: 'text' }, { docId: 'd2', kind: null }, { docId: 'd3', kind: 'struct' }]);
    assert.deepEqual(await s.pendingDocs('nobody'), []);
    await s.clearDoc('u', 'd3');
    await s.removePending('u', 'd', 4, 0);
    assert.deepEqual((await s.loadDoc('u', 'd')).pending.map((p) => p.firstSeq), [1]);
    await s.addPending(change('d', 'u', 5));
    await s.dropDoc('u', 'd', [{ clientId: 4, firstSeq: 1 }]);
    got = await s.loadDoc('u', 'd');
    assert.equal(got.doc, null, 'a rollback forgets the copy');
    assert.deepEqual(got.pending.map((p) => p.firstSeq), [5], 'and only the named changes');
    await s.saveDoc({ userId: 'u', docId: 'd', snapshot: bytes(1, 2), seq: 7, role: 'editor' });
    await s.clearDoc('u', 'd');
    got = await s.loadDoc('u', 'd');
    assert.equal(got.doc, null);
    assert.equal(got.pending.length, 0);
    assert.equal((await s.loadDoc('u', 'd2')).pending.length, 1, 'other documents kept');
    await s.clearUser('u');
    assert.equal((await s.loadDoc('u', 'd2')).pending.length, 0);
    assert.equal((await s.loadDoc('other', 'd')).pending.length, 1, 'other users kept');
    await s.saveSession(null);
    assert.equal(await s.loadSession(), null);
  });
}

test('the browser copy of the engine (dist/engine/weft.mjs) loads as an ES module where there is no Node', async () => {
  const mod = await import('../dist/engine/weft.mjs');
  const saved = globalThis.process;
  // As in a browser: no `process`, so Emscripten takes its web branch.
  Object.defineProperty(globalThis, 'process', { value: undefined, configurable: true, writable: true });
  let ready;
  try {
    ready = mod.default();
  } finally {
    Object.defineProperty(globalThis, 'process', { value: saved, configurable: true, writable: true });
  }
  const weft = await ready;
  const d = new weft.TextDoc(1);
  d.insert(0, 'hé😀');
  assert.equal(d.text(), 'hé😀');
  d.delete();
});

test('a creation whose answer is lost is resent under the same Idempotency-Key', async () => {
  const { Http } = await import('../dist/rest.js');
  const calls = [];
  const answers = [
    () => { throw new TypeError('fetch failed'); },  // the answer is lost
    () => new Response(JSON.stringify({ error: { code: 'idempotency_key_in_use' } }), { status: 409 }),
    () => new Response(JSON.stringify({ id: 'w1' }), { status: 201 }),
  ];
  const http = new Http('http://weft.test', async (url, init) => {
    calls.push(init.headers['Idempotency-Key']);
    return answers[calls.length - 1]();
  });
  http.tokens = { accessToken: async () => 't', refreshAfter401: async () => false };
  const body = await http.request('POST', '/api/v1/workspaces', { body: { name: 'W' }, idempotent: true });
  assert.deepEqual(body, { id: 'w1' });
  assert.equal(calls.length, 3);
  assert.ok(calls[0]);
  assert.ok(calls.every((k) => k === calls[0]), 'one key for every attempt');

  // Without a key (not a creation) nothing is resent.
  let plain = 0;
  const once = new Http('http://weft.test', async () => {
    plain++;
    throw new TypeError('fetch failed');
  });
  once.tokens = http.tokens;
  await assert.rejects(once.request('PATCH', '/api/v1/me', { body: { display_name: 'x' } }), { code: 'network_error' });
  assert.equal(plain, 1);
});

test('an answer that is not JSON (a proxy\'s error page) is an error, offline for 502-504', async () => {
  const { Http } = await import('../dist/rest.js');
  const page = (status) => new Http('http://weft.test', async () => new Response('<html>Bad Gateway</html>', { status }));
  const tokens = { accessToken: async () => 't', refreshAfter401: async () => false };
  for (const status of [502, 503, 504]) {
    const http = page(status);
    http.tokens = tokens;
    await assert.rejects(http.request('GET', '/api/v1/me'), { status: 0, code: 'network_error' });
  }
  for (const status of [500, 200]) {
    const http = page(status);
    http.tokens = tokens;
    await assert.rejects(http.request('GET', '/api/v1/me'), { status, code: `http_${status}` });
  }
});

test('an event emitted from inside a listener reaches every listener after the one it answers', () => {
  const e = new Emitter();
  const seen = [];
  e.on('n', (n) => {
    seen.push(`a${n}`);
    if (n === 1) {
      e.emit('n', 2);
      seen.push('a1 returned');
    }
  });
  e.on('n', (n) => seen.push(`b${n}`));
  e.on('n', (n) => {
    seen.push(`c${n}`);
    if (n === 2) e.emit('n', 3);
  });
  e.emit('n', 1);
  // Every listener sees 1, 2, 3 in that order; nothing is left queued.
  assert.deepEqual(seen, ['a1', 'a1 returned', 'b1', 'c1', 'a2', 'b2', 'c2', 'a3', 'b3', 'c3']);
  seen.length = 0;
  e.emit('n', 4);
  assert.deepEqual(seen, ['a4', 'b4', 'c4'], 'delivered at once again');
  // A listener that throws neither stops the others nor the queue.
  const f = new Emitter();
  const got = [];
  const quiet = console.error;
  console.error = () => {};
  try {
    f.on('n', (n) => {
      if (n === 1) f.emit('n', 2);
      throw new Error('boom');
    });
    f.on('n', (n) => got.push(n));
    f.emit('n', 1);
  } finally {
    console.error = quiet;
  }
  assert.deepEqual(got, [1, 2]);
  // Listeners are those of the moment an event is emitted, less those
  // removed since: one added during a delivery misses what was emitted
  // before it, one removed misses what is still to come.
  const g = new Emitter();
  const log = [];
  let offB = null;
  g.on('n', (n) => {
    log.push(`a${n}`);
    if (n === 1) {
      g.emit('n', 2); // queued, before c exists
      g.on('n', (m) => log.push(`c${m}`));
      offB();
      g.emit('n', 3);
    }
  });
  offB = g.on('n', (n) => log.push(`b${n}`));
  g.emit('n', 1);
  assert.deepEqual(log, ['a1', 'a2', 'a3', 'c3']);
});

test('only colours that cannot restyle a page pass cssColor', () => {
  for (const ok of ['#abc', '#abcd', '#12AB34', '#12ab34cc', 'hsl(120 65% 45%)', 'rgb(1, 2, 3)', 'rgba(1,2,3,0.5)', 'hsla(10deg 5% 5% / 50%)', 'red', 'rebeccapurple']) {
    assert.equal(cssColor(ok), ok);
  }
  for (const bad of ['#000;position:fixed', 'red;inset:0', 'url(x)', 'rgb(1,2,3);x:y', 'hsl(1 2% 3%) url(x)', 'rgb(1,(2),3)', '#12345', 'red blue', '', 7, null, undefined, {}, 'x'.repeat(65)]) {
    assert.equal(cssColor(bad), undefined, String(bad));
  }
});
