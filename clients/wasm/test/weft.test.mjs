// Node 20 tests of the WASM build: the shared vectors in tests/vectors,
// convergence of two replicas, hostile bytes, UTF-16 helpers.
// Run: make wasm (builds, then runs `node --test clients/wasm/test/`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const wasmJs = process.env.WEFT_WASM ?? path.join(root, 'build/wasm/weft.js');
const createWeft = createRequire(import.meta.url)(wasmJs);
const weft = await createWeft();
const vectors = path.join(root, 'tests/vectors');

test('shared vectors decode to their expected text', () => {
  const names = fs.readdirSync(vectors).filter((f) => f.endsWith('.txt'));
  assert.ok(names.length >= 3);
  for (const file of names) {
    const name = file.slice(0, -4);
    const want = fs.readFileSync(path.join(vectors, file), 'utf8');
    const doc = new weft.TextDoc(0xabcdef);
    for (let k = 0; ; k++) {
      const u = path.join(vectors, `${name}.${k}.update`);
      if (!fs.existsSync(u)) break;
      doc.applyUpdate(new Uint8Array(fs.readFileSync(u)));
    }
    assert.equal(doc.text(), want, name);
    assert.equal(doc.pendingRuns(), 0);
    // The current format, and version 1 (text after the spans) where kept.
    for (const suffix of ['.snapshot', '.v1.snapshot']) {
      const file = path.join(vectors, `${name}${suffix}`);
      if (suffix !== '.snapshot' && !fs.existsSync(file)) continue;
      const loaded = weft.TextDoc.load(new Uint8Array(fs.readFileSync(file)), 5);
      assert.equal(loaded.text(), want, `${name}${suffix}`);
      assert.equal(loaded.length(), [...want].length);
      assert.deepEqual(loaded.snapshot(), doc.snapshot());
      loaded.delete();
    }
    doc.delete();
  }
});

test('bad vectors throw corruption errors', () => {
  const bad = fs.readdirSync(vectors).filter((f) => f.startsWith('bad-'));
  assert.ok(bad.length >= 3);
  for (const file of bad) {
    const doc = new weft.TextDoc(1);
    assert.throws(() => doc.applyUpdate(new Uint8Array(fs.readFileSync(path.join(vectors, file)))),
      /^Error: corruption/, file);
    doc.delete();
  }
});

test('two replicas converge and report changes', () => {
  const a = new weft.TextDoc(1);
  const b = new weft.TextDoc(2);
  a.insert(0, 'ab');
  b.applyUpdate(a.diff(b.stateVector()));
  a.insert(1, 'xxx');
  b.insert(1, 'yé😀');
  b.remove(0, 1);
  const changes = a.applyUpdate(b.diff(a.stateVector()));
  b.applyUpdate(a.diff(b.stateVector()));
  assert.equal(a.text(), b.text());
  assert.deepEqual(a.snapshot(), b.snapshot());
  assert.ok(changes.length >= 2);
  assert.throws(() => a.insert(99, 'x'), /invalid_argument/);
  a.delete();
  b.delete();
});

test('typing fast paths: insert, insertCodePoint and remove', () => {
  // insert() and remove() go through plain wasm exports (weft_post.js);
  // they must agree with a snapshot reload and throw the same errors.
  const doc = new weft.TextDoc(7);
  doc.insert(0, 'a');                       // one UTF-16 unit
  doc.insert(1, '\u00e9');                  // 2-byte UTF-8
  doc.insert(2, '\u20ac');                  // 3-byte UTF-8
  doc.insert(3, '\u{1F600}');               // surrogate pair, 4-byte UTF-8
  doc.insert(4, 'x\u{10FFFF}y\u00e9');       // longer strings: UTF-8 scratch
  doc.insertCodePoint(0, 0x1f600);
  doc.insertCodePoint(0, 0x41);
  assert.equal(doc.text(), 'A\u{1F600}a\u00e9\u20ac\u{1F600}x\u{10FFFF}y\u00e9');
  assert.equal(doc.length(), 10);
  doc.remove(1, 2);
  assert.equal(doc.text(), 'A\u00e9\u20ac\u{1F600}x\u{10FFFF}y\u00e9');
  doc.insert(8, 'z'.repeat(5000));          // grows the scratch buffer
  assert.equal(doc.length(), 5008);
  for (const [f, re] of [
    [() => doc.insert(99999, 'a'), /^Error: invalid_argument/],
    [() => doc.insert(99999, 'abc'), /^Error: invalid_argument/],
    [() => doc.insertCodePoint(0, 0xd800), /^Error: invalid_argument/],
    [() => doc.insertCodePoint(0, 0x110000), /^Error: invalid_argument/],
    [() => doc.insertCodePoint(0, 1.5), /^Error: invalid_argument/],
    [() => doc.remove(0, 99999), /^Error: invalid_argument/],
  ]) {
    assert.throws(f, re);
  }
  assert.equal(doc.length(), 5008);
  const loaded = weft.TextDoc.load(doc.snapshot(), 8);
  assert.equal(loaded.text(), doc.text());
  doc.delete();
  loaded.delete();
  // A freed document is refused, not written through a stale pointer.
  assert.throws(() => doc.insert(0, 'a'), /deleted object/);
  assert.throws(() => doc.insert(0, 'abc'), /deleted object/);
  assert.throws(() => doc.remove(0, 1), /deleted object/);
});

test('a loaded document is built when first needed, and a bad one fails then for good', () => {
  const doc = new weft.TextDoc(1);
  doc.insert(0, 'hé😀llo world');
  doc.remove(1, 2);
  const snap = doc.snapshot();
  // Every call that needs the document builds it; the text is the same.
  const calls = [
    (d) => d.insert(2, 'X'), (d) => d.remove(0, 1), (d) => d.stateVector(),
    (d) => d.applyUpdate(doc.diff(new weft.TextDoc(9).stateVector())),
    (d) => d.snapshot(), (d) => d.anchorAt(1), (d) => d.opCount(1),
  ];
  for (const call of calls) {
    const d = weft.TextDoc.load(snap, 2);
    assert.equal(d.text(), doc.text());
    assert.equal(d.length(), 10);
    call(d);
    assert.equal(d.opCount(1), doc.opCount(1));
    d.delete();
  }
  const edited = weft.TextDoc.load(snap, 2);
  edited.insert(10, '!');
  assert.equal(edited.text(), doc.text() + '!');
  edited.delete();
  // The header and the text are checked by the load itself.
  const badText = Uint8Array.from(snap);
  badText[Buffer.from(snap).indexOf('world')] = 0xff;
  assert.throws(() => weft.TextDoc.load(badText, 2), /^Error: corruption/);
  // A snapshot cut inside its delete runs (after the text) loads; the
  // first call that needs the document throws, and so does every later one.
  const cut = weft.TextDoc.load(snap.subarray(0, snap.length - 1), 2);
  assert.equal(cut.text(), doc.text());
  assert.equal(cut.text(), doc.text());  // reading does not build
  assert.equal(cut.length(), 10);
  assert.throws(() => cut.insert(0, 'a'), /^Error: corruption/);
  assert.throws(() => cut.insert(0, 'a'), /^Error: corruption/);
  assert.throws(() => cut.insertCodePoint(0, 97), /^Error: corruption/);
  assert.throws(() => cut.text(), /^Error: corruption/);
  assert.throws(() => cut.text(), /^Error: corruption/);
  assert.throws(() => cut.length(), /^Error: corruption/);
  assert.throws(() => cut.stateVector(), /^Error: corruption/);
  cut.delete();
  doc.delete();
});

test('anchors stay on their character while the other replica edits', () => {
  const a = new weft.TextDoc(1);
  a.insert(0, 'hello world');
  const b = new weft.TextDoc(2);
  b.applyUpdate(a.diff(b.stateVector()));
  const at = b.anchorAt(6); // before "w"
  assert.deepEqual(at, [1, 6]);
  assert.deepEqual(b.anchorAt(b.length()), [1, 10, 1], 'after the last character');
  const blank = new weft.TextDoc(3);
  assert.equal(blank.anchorAt(0), null, 'an empty text');
  blank.delete();
  assert.throws(() => b.anchorAt(99), /invalid_argument/);
  a.insert(0, '>> ');
  a.remove(3, 5); // "hello" gone
  b.applyUpdate(a.diff(b.stateVector()));
  assert.equal(b.text(), '>>  world');
  assert.equal(b.resolveAnchor(at[0], at[1], false), 4);
  assert.equal(b.resolveAnchor(1, 10, true), b.length(), 'after the last character');
  assert.equal(b.resolveAnchor(1, 500, false), -1, 'a character not held');
  assert.equal(b.resolveAnchor(9, 0, false), -1, 'an unknown client');
  a.delete();
  b.delete();
});

test('UTF-16 offsets convert to code points', () => {
  const s = 'a😀b';
  assert.equal(weft.utf16ToCodePoint(s, 3), 2);
  assert.equal(weft.codePointToUtf16(s, 2), 3);
  assert.throws(() => weft.utf16ToCodePoint(s, 2), /invalid_argument/);
});

test('Doc: a board of shapes with nested text converges', () => {
  const a = new weft.Doc(1);
  const b = new weft.Doc(2);
  const shape = a.mapSet('map:shapes', 's1', { new: 'map' });
  a.mapSet(shape, 'x', 10);
  a.mapSet(shape, 'fill', 'red');
  const label = a.mapSet(shape, 'label', { new: 'text' });
  a.textInsert(label, 0, 'hi');
  const t1 = a.listInsert('list:todo', 0, 'one');
  a.listInsert('list:todo', 1, 'two');
  b.applyUpdate(a.diff(b.stateVector()));
  a.listMove('list:todo', t1, 1);
  assert.equal(b.mapContainer(b.mapContainer('map:shapes', 's1'), 'label'), label);
  b.textInsert(label, 2, ' there');
  b.mapSet(shape, 'w', 2.5);
  const toA = a.applyUpdate(b.diff(a.stateVector()));
  assert.deepEqual(new Set(toA.map((c) => JSON.stringify(c))),
    new Set([JSON.stringify({ container: label }), JSON.stringify({ container: shape, key: 'w' })]),
    'what changed: the label text and the key w');
  const update = a.diff(b.stateVector());
  assert.deepEqual(b.applyUpdate(update), [{ container: 'list:todo', item: t1 }], 'the moved item');
  assert.deepEqual(b.applyUpdate(update), [], 'applied again: nothing changed');
  assert.equal(a.toJson(), b.toJson());
  assert.equal(a.toJson(),
    '{"map:shapes":{"s1":{"fill":"red","label":"hi there","w":2.5,"x":10}},"list:todo":["two","one"]}');
  assert.deepEqual(a.snapshot(), b.snapshot());
  const c = weft.Doc.load(a.snapshot(), 3);
  assert.equal(c.toJson(), a.toJson());
  assert.throws(() => a.applyUpdate(new Uint8Array([1, 6, 9])), /corruption/);
  assert.throws(() => a.mapSet('nope', 'k', 1), /invalid_argument/);
  assert.throws(() => a.listMove('list:todo', 'x:99999999999999999999999', 0), /invalid_argument/);
  assert.throws(() => a.text('text@1:99'), /not_found/);
  [a, b, c].forEach((d) => d.delete());
});

test('text() decodes every script, before and after edits of a loaded doc', () => {
  const doc = new weft.TextDoc(11);
  const s = 'añ€𝄞 line\nzwölf 漢字 🙂';
  doc.insert(0, s);
  assert.equal(doc.text(), s);
  doc.remove(1, 2);  // ñ€
  assert.equal(doc.text(), 'a𝄞 line\nzwölf 漢字 🙂');
  const loaded = weft.TextDoc.load(doc.snapshot(), 12);
  assert.equal(loaded.text(), doc.text());
  loaded.insert(0, '𝄞');
  assert.equal(loaded.text(), '𝄞a𝄞 line\nzwölf 漢字 🙂');
  loaded.remove(0, 1);  // positions count code points
  doc.insert(doc.length(), '!');
  loaded.applyUpdate(doc.diff(loaded.stateVector()));
  assert.equal(loaded.text(), 'a𝄞 line\nzwölf 漢字 🙂!');
  assert.equal(new weft.TextDoc(13).text(), '');
  doc.delete();
  loaded.delete();
  assert.throws(() => loaded.text(), /deleted/);
});

test('a local change from its own client state vector equals the whole diff', () => {
  // A document 60 other clients wrote to, for Doc and TextDoc.
  const doc = new weft.Doc(1);
  const text = new weft.TextDoc(1);
  for (let c = 2; c < 62; c++) {
    const o = new weft.Doc(c);
    o.textInsert('text:body', 0, 'x');
    o.mapSet('map:m', `k${c}`, c);
    doc.applyUpdate(o.diff(doc.stateVector()));
    o.delete();
    const t = new weft.TextDoc(c);
    t.insert(0, 'y');
    text.applyUpdate(t.diff(text.stateVector()));
    t.delete();
  }
  const peer = new weft.Doc(99);
  peer.applyUpdate(doc.diff(peer.stateVector()));
  for (let round = 0; round < 3; round++) {
    const own = doc.clientStateVector(1);
    const whole = doc.stateVector();
    assert.ok(own.length * 4 < whole.length, 'it lists only the client itself');
    const shape = doc.mapSet('map:shapes', `s${round}`, { new: 'map' });
    const label = doc.mapSet(shape, 'label', { new: 'text' });
    doc.textInsert(label, 0, 'é€😀');
    doc.textInsert('text:body', 10 + round, 'ab');
    doc.textRemove('text:body', 0, 2);
    const update = doc.clientDiff(1, own);
    assert.deepEqual(update, doc.diff(whole));
    peer.applyUpdate(update);
    assert.equal(peer.toJson(), doc.toJson());

    const tOwn = text.clientStateVector(1);
    const tWhole = text.stateVector();
    text.insert(5, 'zz');
    text.remove(0, 3);
    assert.deepEqual(text.clientDiff(1, tOwn), text.diff(tWhole));
  }
  assert.deepEqual(doc.clientDiff(12345, doc.clientStateVector(12345)),
    doc.diff(doc.stateVector()), 'a client with nothing new: an empty update');
  assert.throws(() => doc.clientDiff(1, new Uint8Array([1, 7])), /corruption/);
  assert.throws(() => text.clientDiff(1, new Uint8Array([1, 3, 5])), /corruption/);
  [doc, text, peer].forEach((d) => d.delete());
});

test('numbers that are not ids, positions or lengths are refused, not rounded', () => {
  const d = new weft.TextDoc(5);
  d.insert(0, 'hello');
  const bad = [-1, NaN, 1.5, Infinity, 2 ** 53];
  for (const v of bad) {
    assert.throws(() => new weft.TextDoc(v), /invalid_argument/, `TextDoc(${v})`);
    assert.throws(() => new weft.Doc(v), /invalid_argument/, `Doc(${v})`);
    assert.throws(() => d.insert(v, 'x'), /invalid_argument/, `insert(${v}, one code point)`);
    assert.throws(() => d.insert(v, 'xy'), /invalid_argument/, `insert(${v}, text)`);
    assert.throws(() => d.insertCodePoint(v, 120), /invalid_argument/, `insertCodePoint(${v})`);
    assert.throws(() => d.remove(v, 1), /invalid_argument/, `remove(${v}, 1)`);
    assert.throws(() => d.remove(0, v), /invalid_argument/, `remove(0, ${v})`);
    assert.throws(() => d.anchorAt(v), /invalid_argument/, `anchorAt(${v})`);
    assert.throws(() => d.opCount(v), /invalid_argument/, `opCount(${v})`);
    assert.throws(() => d.clientStateVector(v), /invalid_argument/);
    assert.throws(() => weft.utf16ToCodePoint('abc', v), /invalid_argument/);
    assert.equal(d.resolveAnchor(v, 0, false), -1);
  }
  assert.equal(d.text(), 'hello', 'nothing was inserted or removed');
  const doc = new weft.Doc(3);
  assert.throws(() => doc.textInsert('text:a', -1, 'x'), /invalid_argument/);
  assert.throws(() => doc.textRemove('text:a', 0, -1), /invalid_argument/);
  assert.throws(() => doc.listInsert('list:l', -1, 1), /invalid_argument/);
  assert.throws(() => doc.clientDiff(NaN, doc.clientStateVector(3)), /invalid_argument/);
  assert.equal(doc.toJson(), '{}');
  [d, doc].forEach((x) => x.delete());
});

test('a lone surrogate goes in as U+FFFD and takes nothing with it', () => {
  // Emscripten's UTF-8 conversion used to read "\uD83Da" as one astral
  // character: the "a" vanished and positions after it were off by one.
  const t = new weft.TextDoc(1);
  t.insert(0, '\uD83Da');
  assert.equal(t.text(), '\uFFFDa');
  t.insert(t.length(), 'z\uDE00');
  assert.equal(t.text(), '\uFFFDaz\uFFFD');
  t.insert(1, '😀'); // a pair stays a pair
  assert.equal(t.text(), '\uFFFD😀az\uFFFD');
  t.delete();
  const d = new weft.Doc(2);
  d.textInsert('text:t', 0, 'x\uD83Dy');
  assert.equal(d.text('text:t'), 'x\uFFFDy');
  // Keys and values of maps and lists too.
  d.mapSet('map:m', 'k\uD83D', 'v\uDE00w');
  d.listInsert('list:l', 0, '\uD83Dz');
  const json = JSON.parse(d.toJson());
  assert.deepEqual(json['map:m'], { 'k\uFFFD': 'v\uFFFDw' });
  assert.deepEqual(json['list:l'], ['\uFFFDz']);
  d.mapDelete('map:m', 'k\uD83D'); // the same key as it was written
  assert.deepEqual(JSON.parse(d.toJson())['map:m'], {});
  d.delete();
});

