#!/usr/bin/env node
// node bench/wasm-keystroke.mjs [CLIENTS...]   (default 10 1000 10000)
// What one local keystroke costs the WASM build in a document that CLIENTS
// other clients have written to (each one character of a root text and
// one map key): the keystroke plus the update a client sends for it, taken
// two ways, in alternating blocks of 25 in one process: the whole state
// vector before the edit and diff() against it (what the SDK did until
// 2026-12-06; run in this build, whose opCount and update table are
// already the cheap ones), and the client's own state vector and
// clientDiff() (what it does now). Prints a Markdown table of medians over
// RUNS keystrokes per way (default 300, rounded up to a multiple of 25),
// and whether the two give the same bytes for one more keystroke.
// Then the same for a canvas of SHAPES labelled shapes (default 10 1000
// 10000; a root map of shapes, each holding a one-character text label,
// written by one client per 100 shapes), typing into one label.
// Environment: WEFT_WASM (default build/wasm/weft.js), RUNS, SHAPES.
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmJs = process.env.WEFT_WASM ?? path.join(here, '../build/wasm/weft.js');
const weft = await createRequire(import.meta.url)(wasmJs)();
const RUNS = Number(process.env.RUNS ?? 300);
const sweep = process.argv.slice(2).map(Number);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

// Times a keystroke plus its update both ways for each [name, size, doc,
// type] and prints one row each.
function timeWays(rows) {
  const me = 1;
  for (const [name, n, d, type] of rows) {
    const whole = [], own = [];
    // Blocks of 25 keystrokes one way, then 25 the other: interleaving
    // single keystrokes would let the expensive way's garbage and cache
    // misses land on the cheap one.
    for (let i = 0; i < RUNS; i += 25) {
      for (let k = 0; k < 25; k++) {
        const t0 = performance.now();
        const mine = d.clientStateVector(me);
        d.opCount(me);
        type(d);
        d.clientDiff(me, mine);
        own.push(performance.now() - t0);
      }
      for (let k = 0; k < 25; k++) {
        const t0 = performance.now();
        const sv = d.stateVector();
        d.opCount(me);
        type(d);
        d.diff(sv);
        whole.push(performance.now() - t0);
      }
    }
    // The two ways on one edit: identical bytes.
    const sv = d.stateVector(), mine = d.clientStateVector(me);
    type(d);
    const a = d.diff(sv), b = d.clientDiff(me, mine);
    const same = a.length === b.length && a.every((x, i) => x === b[i]);
    console.log(`| ${name} | ${n} | ${median(whole).toFixed(4)} | ${median(own).toFixed(4)} | ${same ? 'yes' : 'NO'} |`);
  }
}

console.log('| engine | other clients | whole state vector + diff, ms | own state vector + clientDiff, ms | same update bytes |');
console.log('|---|---:|---:|---:|---|');
for (const n of sweep.length ? sweep : [10, 1000, 10000]) {
  const me = 1;
  const doc = new weft.Doc(me);
  const text = new weft.TextDoc(me);
  doc.textInsert('text:body', 0, 'hello world');
  text.insert(0, 'hello world');
  for (let c = 0; c < n; c++) {
    const o = new weft.Doc(1000 + c);
    o.applyUpdate(doc.diff(o.stateVector()));
    const sv = o.stateVector();
    o.textInsert('text:body', c % 10, 'x');
    o.mapSet('map:m', `k${c}`, c);
    doc.applyUpdate(o.diff(sv));
    o.delete();
    const t = new weft.TextDoc(1000 + c);
    t.applyUpdate(text.diff(t.stateVector()));
    const tsv = t.stateVector();
    t.insert(c % 10, 'x');
    text.applyUpdate(t.diff(tsv));
    t.delete();
  }
  timeWays([
    ['Doc', n, doc, (d) => d.textInsert('text:body', 5, 'a')],
    ['TextDoc', n, text, (d) => d.insert(5, 'a')],
  ]);
  doc.delete();
  text.delete();
}

console.log();
console.log('| engine | labelled shapes | whole state vector + diff, ms | own state vector + clientDiff, ms | same update bytes |');
console.log('|---|---:|---:|---:|---|');
for (const n of (process.env.SHAPES ?? '10 1000 10000').split(/\s+/).map(Number)) {
  const doc = new weft.Doc(1);
  let label;
  for (let c = 0; c * 100 < n; c++) {
    const o = new weft.Doc(1000 + c);
    for (let i = c * 100; i < n && i < (c + 1) * 100; i++) {
      const t = o.mapSet('map:shapes', `s${i}`, { new: 'text' });
      o.textInsert(t, 0, 'x');
      if (i === 0) label = t;
    }
    doc.applyUpdate(o.diff(doc.stateVector()));
    o.delete();
  }
  timeWays([['Doc', n, doc, (d) => d.textInsert(label, 1, 'a')]]);
  doc.delete();
}
