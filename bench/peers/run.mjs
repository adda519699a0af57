#!/usr/bin/env node
// node bench/peers/run.mjs [TRACE...]   (after `make wasm` and `npm ci`
// in bench/peers)
// Replays sequential editing traces through weft's WASM build and pinned
// npm versions of yjs, @automerge/automerge, loro-crdt and
// diamond-types-node in one process, and prints one markdown table:
// apply (median), snapshot size, load (median), load followed by reading
// the whole text (median: the time until a loaded document can be shown),
// and load followed by one edit in the middle and reading the text (median:
// loro-crdt's import, and weft's WASM load, defer building the document
// until a call needs it, so the first edit pays for it). Default traces: every
// sequential *.json.gz directly in $WEFT_TRACES_DIR (../shared/traces
// next to the repository). RUNS (default 5) sets the repetitions, after
// one untimed load per engine; automerge runs once per trace (it takes
// seconds) and gets no untimed load. ENGINES (comma-separated name
// prefixes) picks some engines only.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import * as Y from 'yjs';
import * as A from '@automerge/automerge';
import { LoroDoc } from 'loro-crdt';

const require = createRequire(import.meta.url);
const DT = require('diamond-types-node');
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const weft = await require(process.env.WEFT_WASM ?? path.join(root, 'build/wasm/weft.js'))();
const pkg = (name) => JSON.parse(fs.readFileSync(
  path.join(here, 'node_modules', name, 'package.json'), 'utf8')).version;
const RUNS = Number(process.env.RUNS ?? 5);

const engines = [
  {
    name: 'weft (wasm)', version: 'this branch', runs: RUNS,
    replay(ps) { const d = new weft.TextDoc(1); for (const [p, n, s] of ps) { if (n) d.remove(p, n); if (s) d.insert(p, s); } return d; },
    text: (d) => d.text(), save: (d) => d.snapshot(), load: (b) => weft.TextDoc.load(b, 2), free: (d) => d.delete(),
    edit: (d, p) => d.insert(p, 'x'),
  },
  {
    name: 'diamond-types-node', version: pkg('diamond-types-node'), runs: RUNS,
    replay(ps) { const d = new DT.Doc('a'); for (const [p, n, s] of ps) { if (n) d.del(p, n); if (s) d.ins(p, s); } return d; },
    text: (d) => d.get(), save: (d) => d.toBytes(), load: (b) => DT.Doc.fromBytes(b, 'b'), free: (d) => d.free?.(),
    edit: (d, p) => d.ins(p, 'x'),
  },
  {
    name: 'loro-crdt', version: pkg('loro-crdt'), runs: RUNS,
    replay(ps) { const d = new LoroDoc(); const t = d.getText('t'); for (const [p, n, s] of ps) { if (n) t.delete(p, n); if (s) t.insert(p, s); } d.commit(); return d; },
    text: (d) => d.getText('t').toString(), save: (d) => d.export({ mode: 'snapshot' }),
    load: (b) => LoroDoc.fromSnapshot(b), free: (d) => d.free?.(),
    edit: (d, p) => { d.getText('t').insert(p, 'x'); d.commit(); },
  },
  {
    name: 'yjs', version: pkg('yjs'), runs: RUNS,
    replay(ps) { const d = new Y.Doc(); const t = d.getText('t'); for (const [p, n, s] of ps) { if (n) t.delete(p, n); if (s) t.insert(p, s); } return d; },
    text: (d) => d.getText('t').toString(), save: (d) => Y.encodeStateAsUpdate(d),
    load: (b) => { const d = new Y.Doc(); Y.applyUpdate(d, b); return d; }, free: (d) => d.destroy(),
    edit: (d, p) => d.getText('t').insert(p, 'x'),
  },
  {
    name: '@automerge/automerge', version: pkg('@automerge/automerge'), runs: 1,
    replay(ps) { let d = A.from({ text: '' }); for (const [p, n, s] of ps) d = A.change(d, (x) => A.splice(x, ['text'], p, n, s)); return d; },
    text: (d) => d.text, save: (d) => A.save(d), load: (b) => A.load(b), free: () => {},
    // Automerge documents are immutable: the edited one is returned.
    edit: (d, p) => A.change(d, (x) => A.splice(x, ['text'], p, 0, 'x')),
  },
];
// ENGINES=weft,diamond-types-node: only the engines whose names start
// with one of these (default: all).
const wanted = process.env.ENGINES?.split(',').filter(Boolean);
const selected = wanted ? engines.filter((e) => wanted.some((w) => e.name.startsWith(w))) : engines;
if (selected.length === 0) { console.error(`ENGINES=${process.env.ENGINES} names no engine`); process.exit(2); }

function tracesFromArgs() {
  const args = process.argv.slice(2);
  if (args.length) return args;
  const dir = tracesRoot;
  if (!fs.existsSync(dir)) { console.error(`no traces at ${dir}`); process.exit(2); }
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json.gz')).map((f) => path.join(dir, f));
}

// The file's name, with its directory when that is not the traces root's
// (ascii_only/seph-blog1.json.gz).
const tracesRoot = process.env.WEFT_TRACES_DIR ?? path.resolve(root, '../shared/traces');
const traceName = (file) => {
  const rel = path.relative(tracesRoot, path.resolve(file));
  return rel.startsWith('..') ? path.basename(file) : rel;
};

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

const rows = [];
for (const file of tracesFromArgs()) {
  let raw = fs.readFileSync(file);
  if (file.endsWith('.gz')) raw = zlib.gunzipSync(raw);
  const trace = JSON.parse(raw.toString('utf8'));
  if (trace.kind === 'concurrent') continue;
  const patches = trace.txns.flatMap((t) => t.patches);
  for (const e of selected) {
    const apply = [], load = [], loadRead = [], loadEdit = [];
    let doc = null, bytes = null, ok = true;
    for (let i = 0; i < e.runs; i++) {
      if (doc) e.free(doc);
      const t0 = performance.now();
      doc = e.replay(patches);
      apply.push(performance.now() - t0);
    }
    ok = e.text(doc) === trace.endContent;
    bytes = e.save(doc);
    // One untimed load first (not for automerge, which runs once): the
    // first loads in a process run the JIT's baseline code, which is not
    // the load a page that opens documents keeps paying.
    if (e.runs > 1) e.free(e.load(bytes));
    for (let i = 0; i < e.runs; i++) {
      const t0 = performance.now();
      const d = e.load(bytes);
      load.push(performance.now() - t0);
      if (i === 0 && e.text(d) !== trace.endContent) ok = false;
      e.free(d);
    }
    for (let i = 0; i < e.runs; i++) {
      const t0 = performance.now();
      const d = e.load(bytes);
      const len = e.text(d).length;
      loadRead.push(performance.now() - t0);
      if (len !== trace.endContent.length) ok = false;
      e.free(d);
    }
    const mid = Math.floor(trace.endContent.length / 2);  // the replays above pass these positions to every engine
    const edited = trace.endContent.slice(0, mid) + 'x' + trace.endContent.slice(mid);
    for (let i = 0; i < e.runs; i++) {
      const t0 = performance.now();
      let d = e.load(bytes);
      d = e.edit(d, mid) ?? d;
      const text = e.text(d);
      loadEdit.push(performance.now() - t0);
      if (text.length !== edited.length || (i === 0 && text !== edited)) ok = false;
      e.free(d);
    }
    e.free(doc);
    rows.push({ trace: traceName(file), engine: `${e.name} ${e.version}`, ok, apply: median(apply), load: median(load), loadRead: median(loadRead), loadEdit: median(loadEdit), bytes: bytes.length, runs: e.runs });
  }
}

console.log('| trace | engine | ok | apply ms | load ms | load + read text ms | load + edit + read text ms | snapshot bytes | runs |');
console.log('|---|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.trace} | ${r.engine} | ${r.ok ? 'yes' : 'NO'} | ${r.apply.toFixed(1)} | ${r.load.toFixed(2)} | ${r.loadRead.toFixed(2)} | ${r.loadEdit.toFixed(2)} | ${r.bytes} | ${r.runs} |`);
}
