#!/usr/bin/env node
// node bench/wasm-trace.mjs FILE [runs]
// Replays an editing trace (josephg format, .json or .json.gz) through the
// WASM build (build/wasm/weft.js, `make wasm`; WEFT_WASM overrides) and
// prints the same JSON line as `weft trace`. Exit 1 if the text differs.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
const wasmJs = process.env.WEFT_WASM ?? path.join(here, '../build/wasm/weft.js');
const weft = await createRequire(import.meta.url)(wasmJs)();

const [file, runsArg] = process.argv.slice(2);
if (!file) {
  console.error('usage: node bench/wasm-trace.mjs FILE [runs]');
  process.exit(2);
}
const runs = Math.max(1, Number(runsArg ?? 5));
let raw = fs.readFileSync(file);
if (file.endsWith('.gz')) raw = zlib.gunzipSync(raw);
const trace = JSON.parse(raw.toString('utf8'));
const concurrent = trace.kind === 'concurrent';
const patches = trace.txns.reduce((n, t) => n + t.patches.length, 0);

// State vectors as Map(client -> seq) <-> bytes (docs/format.md, kind 3).
function decodeSv(bytes) {
  let p = 2;
  const v = () => {
    let r = 0n, shift = 0n, b;
    do { b = bytes[p++]; r |= BigInt(b & 0x7f) << shift; shift += 7n; } while (b & 0x80);
    return r;
  };
  const n = Number(v());
  const m = new Map();
  for (let i = 0; i < n; i++) { const c = v(); m.set(c, Number(v())); }
  return m;
}
function encodeSv(m) {
  const out = [1, 3];
  const put = (x) => {
    x = BigInt(x);
    do { let b = Number(x & 0x7fn); x >>= 7n; if (x) b |= 0x80; out.push(b); } while (x);
  };
  const entries = [...m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  put(entries.length);
  for (const [c, s] of entries) { put(c); put(s); }
  return new Uint8Array(out);
}

function applyPatch(doc, [pos, del, ins]) {
  if (del > 0) doc.remove(pos, del);
  if (ins.length > 0) doc.insert(pos, ins);
}

const BASE = 0x5eed0000;
function replaySequential() {
  const doc = new weft.TextDoc(BASE);
  for (const txn of trace.txns) for (const p of txn.patches) applyPatch(doc, p);
  return doc;
}
function replayConcurrent() {
  const reps = [];
  for (let a = 0; a < trace.numAgents; a++) reps.push(new weft.TextDoc(BASE + a));
  const versions = new Array(trace.txns.length);
  trace.txns.forEach((txn, i) => {
    const doc = reps[txn.agent];
    const want = new Map();
    for (const p of txn.parents) {
      for (const [c, s] of versions[p]) want.set(c, Math.max(want.get(c) ?? 0, s));
    }
    const haveBytes = doc.stateVector();
    const have = decodeSv(haveBytes);
    for (const [c, s] of want) {
      if ((have.get(c) ?? 0) >= s) continue;
      const src = reps[Number(c) - BASE];
      doc.applyUpdateQuiet(src.diffRange(haveBytes, encodeSv(new Map([[c, s]]))));
    }
    for (const p of txn.patches) applyPatch(doc, p);
    versions[i] = decodeSv(doc.stateVector());
  });
  const last = trace.txns.length ? trace.txns[trace.txns.length - 1].agent : 0;
  for (let a = 0; a < reps.length; a++) {
    if (a !== last) reps[last].applyUpdateQuiet(reps[a].diff(reps[last].stateVector()));
  }
  for (let a = 0; a < reps.length; a++) if (a !== last) reps[a].delete();
  return reps[last];
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
};

const applyMs = [];
let doc = null;
for (let i = 0; i < runs; i++) {
  if (doc) doc.delete();
  const t0 = performance.now();
  doc = concurrent ? replayConcurrent() : replaySequential();
  applyMs.push(performance.now() - t0);
}
let ok = doc.text() === trace.endContent;
const snap = doc.snapshot();
const loadMs = [];
for (let i = 0; i < runs; i++) {
  const t0 = performance.now();
  const loaded = weft.TextDoc.load(snap, 1);
  loadMs.push(performance.now() - t0);
  if (i === 0 && loaded.text() !== trace.endContent) ok = false;
  loaded.delete();
}
const line = {
  trace: path.basename(file),
  kind: concurrent ? 'concurrent' : 'sequential',
  patches,
  ok,
  apply_ms_median: Number(median(applyMs).toFixed(3)),
  load_ms_median: Number(median(loadMs).toFixed(3)),
  encoded_bytes: snap.length,
  peak_rss_mib: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
};
console.log(JSON.stringify(line));
process.exit(ok ? 0 : 1);
