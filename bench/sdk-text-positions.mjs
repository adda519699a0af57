#!/usr/bin/env node
// node bench/sdk-text-positions.mjs TRACE... [RUNS]
// What the browser SDK's text handle spends per edit outside the engine:
// converting the engine's code point positions to the JavaScript string's
// UTF-16 offsets (and back for local edits) and splicing its copy of the
// text. Replays every patch of each sequential trace (josephg
// editing-traces format, positions in code points) as a remote change is
// applied: walking the string from its start (codePointToUtf16) and
// splicing a plain string (what the SDK did until 2026-12-06); through
// PositionIndex with a plain string; through PositionIndex with TextRope
// (what it does now); and the plain splice alone. Checks that both end at the trace's
// endContent. Prints a Markdown row per trace: medians over RUNS replays
// (default 5) of the time per patch. Needs the SDK built (clients/js/dist).
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const here = path.dirname(fileURLToPath(import.meta.url));
const { codePointToUtf16, PositionIndex } = await import(path.join(here, '../clients/js/dist/unicode.js'));
const { TextRope } = await import(path.join(here, '../clients/js/dist/rope.js'));

const args = process.argv.slice(2);
const runs = /^\d+$/.test(args[args.length - 1] ?? '') ? Number(args.pop()) : 5;
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[s.length >> 1]; };

const ways = {
  'splice only': (patches) => {
    let s = '';
    for (const [pos, del, ins] of patches) s = s.slice(0, pos) + ins + s.slice(pos + del);
    return s; // right only for text without astral characters
  },
  'walk from the start': (patches) => {
    let s = '';
    for (const [pos, del, ins] of patches) {
      const u = codePointToUtf16(s, pos);
      const end = codePointToUtf16(s, pos + del, u, pos);
      s = s.slice(0, u) + ins + s.slice(end);
    }
    return s;
  },
  PositionIndex: (patches) => {
    let s = '';
    const at = new PositionIndex();
    for (const [pos, del, ins] of patches) {
      const u = at.toUtf16(pos);
      const end = at.toUtf16(pos + del);
      s = s.slice(0, u) + ins + s.slice(end);
      at.splice(pos, del, ins);
    }
    return s;
  },
  'PositionIndex + TextRope': (patches) => {
    const s = new TextRope();
    const at = new PositionIndex();
    for (const [pos, del, ins] of patches) {
      const u = at.toUtf16(pos);
      s.splice(u, at.toUtf16(pos + del), ins);
      at.splice(pos, del, ins);
    }
    return s.toString();
  },
};

console.log(`| trace | patches | final UTF-16 length | astral characters | ${Object.keys(ways).map((w) => `${w}, µs/patch`).join(' | ')} |`);
console.log(`|---|---:|---:|---:|${Object.keys(ways).map(() => '---:').join('|')}|`);
for (const file of args) {
  let raw = fs.readFileSync(file);
  if (file.endsWith('.gz')) raw = zlib.gunzipSync(raw);
  const trace = JSON.parse(raw);
  const patches = trace.txns.flatMap((t) => t.patches);
  const astral = [...trace.endContent].filter((c) => c.length === 2).length;
  const times = Object.fromEntries(Object.keys(ways).map((w) => [w, []]));
  for (let r = 0; r < runs; r++) {
    for (const [name, way] of Object.entries(ways)) {
      const t0 = performance.now();
      const s = way(patches);
      times[name].push(((performance.now() - t0) * 1000) / patches.length);
      if (name !== 'splice only' || astral === 0) {
        if (s !== trace.endContent) throw new Error(`${file}: ${name} does not end at endContent`);
      }
    }
  }
  const cells = Object.keys(ways).map((w) => median(times[w]).toFixed(3));
  console.log(`| ${path.basename(path.dirname(file)) === 'traces' ? '' : path.basename(path.dirname(file)) + '/'}${path.basename(file, '.json.gz')} | ${patches.length} | ${trace.endContent.length} | ${astral} | ${cells.join(' | ')} |`);
}
