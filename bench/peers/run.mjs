#!/usr/bin/env node
// node bench/peers/run.mjs [TRACE...]   (after `make wasm` and `npm ci`
// in bench/peers)
// Replays sequential editing traces through weft's WASM build and pinned
// npm versions of yjs, @automerge/automerge, loro-crdt and
// diamond-types-node in one process, and prints one markdown table:
// apply (median), snapshot size, load (median), and load followed by reading
// the whole text (median: the time until a loaded document can be shown;
// loro-crdt's import defers decoding until the first read). Default traces: every
// sequential *.json.gz directly in $WEFT_TRACES_DIR (../shared/traces
// next to the repository). RUNS (default 5) sets the repetitions;
// automerge runs once per trace (it takes seconds).
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
  },
  {
    name: 'diamond-types-node', version: pkg('diamond-types-node'), runs: RUNS,
    replay(ps) { const d = new DT.Doc('a'); for (const [p, n, s] of ps) { if (n) d.del(p, n); if (s) d.ins(p, s); } return d; },
    text: (d) => d.get(), save: (d) => d.toBytes(), load: (b) => DT.Doc.fromBytes(b, 'b'), free: (d) => d.free?.(),
  },
  {
    name: 'loro-crdt', version: pkg('loro-crdt'), runs: RUNS,
    replay(ps) { const d = new LoroDoc(); const t = d.getText('t'); for (const [p, n, s] of ps) { if (n) t.delete(p, n); if (s) t.insert(p, s); } d.commit(); return d; },
    text: (d) => d.getText('t').toString(), save: (d) => d.export({ mode: 'snapshot' }),
    load: (b) => LoroDoc.fromSnapshot(b), free: (d) => d.free?.(),
  },
  {
    name: 'yjs', version: pkg('yjs'), runs: RUNS,
    replay(ps) { const d = new Y.Doc(); const t = d.getText('t'); for (const [p, n, s] of ps) { if (n) t.delete(p, n); if (s) t.insert(p, s); } return d; },
    text: (d) => d.getText('t').toString(), save: (d) => Y.encodeStateAsUpdate(d),
    load: (b) => { const d = new Y.Doc(); Y.applyUpdate(d, b); return d; }, free: (d) => d.destroy(),
  },
  {
    name: '@automerge/automerge', version: pkg('@automerge/automerge'), runs: 1,
    replay(ps) { let d = A.from({ text: '' }); for (const [p, n, s] of ps) d = A.change(d, (x) => A.splice(x, ['text'], p, n, s)); return d; },
    text: (d) => d.text, save: (d) => A.save(d), load: (b) => A.load(b), free: () => {},
  },
];

function tracesFromArgs() {
  const args = process.argv.slice(2);
  if (args.length) return args;
  const dir = process.env.WEFT_TRACES_DIR ?? path.resolve(root, '../shared/traces');
  if (!fs.existsSync(dir)) { console.error(`no traces at ${dir}`); process.exit(2); }
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json.gz')).map((f) => path.join(dir, f));
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

const rows = [];
for (const file of tracesFromArgs()) {
  let raw = fs.readFileSync(file);
  if (file.endsWith('.gz')) raw = zlib.gunzipSync(raw);
  const trace = JSON.parse(raw.toString('utf8'));
  if (trace.kind === 'concurrent') continue;
  const patches = trace.txns.flatMap((t) => t.patches);
  for (const e of engines) {
    const apply = [], load = [], loadRead = [];
    let doc = null, bytes = null, ok = true;
    for (let i = 0; i < e.runs; i++) {
      if (doc) e.free(doc);
      const t0 = performance.now();
      doc = e.replay(patches);
      apply.push(performance.now() - t0);
    }
    ok = e.text(doc) === trace.endContent;
    bytes = e.save(doc);
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
    e.free(doc);
    rows.push({ trace: path.basename(file), engine: `${e.name} ${e.version}`, ok, apply: median(apply), load: median(load), loadRead: median(loadRead), bytes: bytes.length, runs: e.runs });
  }
}

console.log('| trace | engine | ok | apply ms | load ms | load + read text ms | snapshot bytes | runs |');
console.log('|---|---|---|---:|---:|---:|---:|---:|');
for (const r of rows) {
  console.log(`| ${r.trace} | ${r.engine} | ${r.ok ? 'yes' : 'NO'} | ${r.apply.toFixed(1)} | ${r.load.toFixed(2)} | ${r.loadRead.toFixed(2)} | ${r.bytes} | ${r.runs} |`);
}
