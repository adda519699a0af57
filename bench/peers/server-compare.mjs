#!/usr/bin/env node
// node bench/peers/server-compare.mjs [C...]   (after `make wasm`,
// `cmake --build --preset release --target weftd` and `npm ci` here)
//
// The same scenario against Hocuspocus 3.4.4 and weftd, in one run: one
// document, C clients each typing 10 edits per second for DURATION seconds
// (default 8, after WARMUP seconds of the same typing that are not
// measured, default 2), every edit one character inserted at a random place of the
// client's own text. Measures the edit-to-remote latency (performance.now()
// at the send to performance.now() when another client receives the
// message carrying that edit) and counts deliveries; p99 over every
// (edit, receiver) pair. The harness is lean: raw `ws` clients, one timer
// for all clients, no replica of other clients' edits (a receiver reads only
// the edit's id from the message: Yjs's (client, clock) from the update
// header, weft's (client_id, first_seq) from the `ops` change), so that the
// servers and not the harness are measured.
//
// SAMPLE=S (default: every client) makes only S clients, spread evenly over
// the indexes, measure: they read every message as above. The others still
// type and still receive every message from the server (the server cannot
// tell them apart, so its work is the same), but drop it unread. Latency
// and "nothing lost" are then over every (edit, sampled receiver) pair, and
// any client's connection that closes before the end counts as a loss. With
// hundreds of clients the per-edit bookkeeping of all C x C pairs would
// otherwise make the single-threaded harness the bottleneck.
//
// HARNESS=native (the default when build/release/bench/compare_clients
// exists; `cmake --build --preset release --target compare_clients`) runs
// the same clients, message for message, in native code
// (bench/compare_clients.cpp: raw sockets, one thread, epoll), so that with
// hundreds of clients the harness takes about half the CPU the Node clients
// take; its "loop lag" column is then how late edits were sent against
// their schedule (p99). HARNESS=node keeps the clients below. This script
// still starts the servers, sets weftd up and prints the table either way.
//
// Environment: WEFTD (default build/release/app/weftd), WEFTD_ARGS (more
// weftd arguments, space separated, e.g. `--threads 1`), WEFT_WASM (default
// build/wasm/weft.js), DURATION (s), RATE (edits/s per client, 10),
// DRAIN (s to wait for late deliveries, 5), WARMUP (s, 2), SERVERS
// (hocuspocus,weftd; weftd-memory is weftd on its memory store, which like
// Hocuspocus makes nothing durable). Both servers run as their own processes; the load
// average is printed with each row because on a shared machine a
// single-threaded server (Hocuspocus) gets a smaller share of the cores
// than a multi-threaded one (weftd) when more threads are runnable than
// there are cores.
// Prints one Markdown table (with the harness's own event-loop delay, p99,
// over the measured seconds) and the largest C per server with p99 < 20 ms
// and nothing lost.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance, monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';
import * as Y from 'yjs';

const require = createRequire(import.meta.url);
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const DURATION = Number(process.env.DURATION ?? 8);
const RATE = Number(process.env.RATE ?? 10);
const DRAIN = Number(process.env.DRAIN ?? 5);
const WARMUP = Number(process.env.WARMUP ?? 2);
const SERVERS = (process.env.SERVERS ?? 'hocuspocus,weftd').split(',');
const SAMPLE = Number(process.env.SAMPLE ?? 0);
const SWEEP = process.argv.slice(2).map(Number);
const NATIVE_BIN = process.env.COMPARE_CLIENTS ?? path.join(root, 'build/release/bench/compare_clients');
const HARNESS = process.env.HARNESS ?? (fs.existsSync(NATIVE_BIN) ? 'native' : 'node');
if (HARNESS !== 'native' && HARNESS !== 'node') throw new Error(`HARNESS must be native or node, not ${HARNESS}`);
if (HARNESS === 'native' && !fs.existsSync(NATIVE_BIN)) throw new Error(`${NATIVE_BIN} is missing: cmake --build --preset release --target compare_clients`);
const NATIVE = HARNESS === 'native' ? NATIVE_BIN : null;
const CLIENTS = SWEEP.length ? SWEEP : [25, 50, 75, 100, 200, 400, 600, 1000];
const weft = await require(process.env.WEFT_WASM ?? path.join(root, 'build/wasm/weft.js'))();
const pkgVersion = (name) => JSON.parse(fs.readFileSync(
  path.join(here, 'node_modules', name, 'package.json'), 'utf8')).version;

// ---- small binary helpers (no allocation on the receive path) ----------
function readVar(buf, pos) {  // -> [value, next]
  let v = 0, mul = 1, b;
  do { b = buf[pos++]; v += (b & 0x7f) * mul; mul *= 128; } while (b & 0x80);
  return [v, pos];
}
function varLen(v) { let n = 1; while (v >= 128) { v = Math.floor(v / 128); n++; } return n; }
function writeVar(out, pos, v) {
  while (v >= 128) { out[pos++] = (v % 128) | 0x80; v = Math.floor(v / 128); }
  out[pos++] = v; return pos;
}
const enc = new TextEncoder();

// ---- latency histogram: 10 µs bins up to 30 s -------------------------
class Histogram {
  constructor() { this.bins = new Uint32Array(3_000_000); this.count = 0; this.max = 0; }
  add(ms) {
    const i = Math.min(this.bins.length - 1, Math.floor(ms * 100));
    this.bins[i]++; this.count++; if (ms > this.max) this.max = ms;
  }
  q(p) {
    if (!this.count) return 0;
    const rank = Math.max(1, Math.ceil(p * this.count));
    let seen = 0;
    for (let i = 0; i < this.bins.length; i++) { seen += this.bins[i]; if (seen >= rank) return Math.min(this.max, (i + 0.5) / 100); }
    return this.max;
  }
}

// ---- processes ---------------------------------------------------------
function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}
async function waitFor(fn, what, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) { try { if (await fn()) return; } catch { /* not yet */ } await new Promise((r) => setTimeout(r, 50)); }
  throw new Error(`timed out waiting for ${what}`);
}
function cpuTicks(pid) {  // utime + stime of a process, in seconds
  const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
function rssMiB(pid) {
  const s = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
  return s ? Number(s[1]) / 1024 : 0;
}

async function startHocuspocus() {
  const port = await freePort();
  const child = spawn(process.execPath, [path.join(here, 'hocuspocus-server.mjs'), String(port)], { stdio: ['ignore', 'ignore', 'inherit'] });
  await waitFor(() => new Promise((res) => { const s = net.connect(port, '127.0.0.1', () => { s.destroy(); res(true); }); s.on('error', () => res(false)); }), 'hocuspocus');
  return { name: 'hocuspocus', version: pkgVersion('@hocuspocus/server'), port, pid: child.pid, stop: () => child.kill('SIGKILL') };
}

async function startWeftd(memory) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-compare-'));
  const bin = process.env.WEFTD ?? path.join(root, 'build/release/app/weftd');
  const child = spawn(bin, ['--port', String(port), '--data-dir', path.join(dir, 'data'),
    '--auth-rate-limit', '100000', '--api-rate-limit', '100000', ...(memory ? ['--store', 'memory'] : []),
    ...(process.env.WEFTD_ARGS ?? '').split(' ').filter(Boolean)],
  { stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, WEFT_PASSWORD_HASH_COST: 'test' } });
  const base = `http://127.0.0.1:${port}`;
  await waitFor(async () => (await fetch(`${base}/livez`)).ok, 'weftd');
  const call = async (method, p, body, token) => {
    const r = await fetch(base + p, { method, headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: body ? JSON.stringify(body) : undefined });
    if (!r.ok) throw new Error(`${method} ${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  const reg = await call('POST', '/api/v1/auth/register', { email: 'bench@example.com', password: 'bench password 123', display_name: 'bench' });
  const token = reg.access_token;
  const ws = await call('POST', '/api/v1/workspaces', { name: 'bench' }, token);
  return {
    name: memory ? 'weftd-memory' : 'weftd',
    version: memory ? 'this branch (memory store: nothing durable, like Hocuspocus)' : 'this branch (SQLite: acks and broadcasts after fsync)', port, pid: child.pid, token,
    newDoc: async (title) => (await call('POST', `/api/v1/workspaces/${ws.id}/documents`, { kind: 'text', title }, token)).id,
    stop: () => { child.kill('SIGKILL'); setTimeout(() => fs.rmSync(dir, { recursive: true, force: true }), 500); },
  };
}

// ---- clients -------------------------------------------------------------
// Every client: open(), then edit(now) per tick; onRemote(senderIndex, seq)
// is called for each edit of another client it receives.

class HocuspocusClient {
  constructor(run, index, port, docName) {
    this.run = run; this.index = index; this.docName = docName;
    this.doc = new Y.Doc(); this.text = this.doc.getText('t');
    this.update = null;
    this.doc.on('update', (u) => { this.update = u; });
    run.clientOf.set(this.doc.clientID, index);
    this.url = `ws://127.0.0.1:${port}/`;
    const name = enc.encode(docName);
    this.prefix = new Uint8Array(varLen(name.length) + name.length);
    this.prefix.set(name, writeVar(this.prefix, 0, name.length));
  }
  frame(type, sub, payload, payloadIsBytes) {
    const n = this.prefix.length + 2 + (payloadIsBytes ? varLen(payload.length) : 0) + payload.length;
    const out = new Uint8Array(n); out.set(this.prefix); let p = this.prefix.length;
    p = writeVar(out, p, type); p = writeVar(out, p, sub);
    if (payloadIsBytes) p = writeVar(out, p, payload.length);
    out.set(payload, p); return out;
  }
  open() {
    return new Promise((resolve, reject) => {
      const ws = this.ws = new WebSocket(this.url, { perMessageDeflate: false });
      ws.binaryType = 'nodebuffer';
      let state = 0;
      ws.on('error', reject);
      ws.on('close', () => { if (!this.run.ending) this.run.closedEarly++; });
      ws.on('open', () => {
        const token = enc.encode('token');  // Auth: token (no hooks: any)
        ws.send(this.frame(2, 0, token, true));
      });
      ws.on('message', (buf) => {
        let [len, p] = readVar(buf, 0); p += len;
        let type; [type, p] = readVar(buf, p);
        if (state === 0 && type === 2) {  // authenticated: sync step 1
          state = 1; ws.send(this.frame(0, 0, Y.encodeStateVector(this.doc), true)); return;
        }
        if (type !== 0) return;
        let sub; [sub, p] = readVar(buf, p);
        if (state === 1 && sub === 1) { state = 2; resolve(); return; }
        if (sub !== 2 || !this.run.measures[this.index]) return;
        [len, p] = readVar(buf, p);  // update := groups, structs, client, clock
        let groups; [groups, p] = readVar(buf, p);
        if (!groups) return;
        let structs, client, clock; [structs, p] = readVar(buf, p); [client, p] = readVar(buf, p); [clock] = readVar(buf, p);
        const from = this.run.clientOf.get(client);
        if (from !== undefined && from !== this.index) this.run.onRemote(from, clock);
      });
    });
  }
  edit() {
    const clock = Y.getState(this.doc.store, this.doc.clientID);
    const pos = Math.floor(Math.random() * (this.text.length + 1));
    this.text.insert(pos, 'abcdefghij'[clock % 10]);
    this.ws.send(this.frame(0, 2, this.update, true));
    return clock;
  }
  close() { this.ws?.terminate(); this.doc.destroy(); }
}

class WeftClient {
  constructor(run, index, port, docId, token) {
    this.run = run; this.index = index; this.docId = docId; this.token = token;
    this.clientId = 1 + index + Math.floor(Math.random() * 2 ** 40) * 4096;
    run.clientOf.set(this.clientId, index);
    this.doc = new weft.TextDoc(this.clientId);
    this.url = `ws://127.0.0.1:${port}/api/v1/sync`;
    this.docBytes = enc.encode(docId);
  }
  open() {
    return new Promise((resolve, reject) => {
      const ws = this.ws = new WebSocket(this.url, ['weft.v1'], { perMessageDeflate: false });
      ws.binaryType = 'nodebuffer';
      ws.on('error', reject);
      ws.on('close', (code) => {
        if (!this.run.ending) this.run.closedEarly++;
        reject(new Error(`weftd closed the connection: ${code}`));
      });
      ws.on('open', () => {
        const t = enc.encode(this.token), name = enc.encode('bench');
        const out = new Uint8Array(2 + varLen(t.length) + t.length + varLen(name.length) + name.length);
        let p = writeVar(out, 0, 1); p = writeVar(out, p, 1);
        p = writeVar(out, p, t.length); out.set(t, p); p += t.length;
        p = writeVar(out, p, name.length); out.set(name, p);
        ws.send(out);
      });
      ws.on('message', (buf) => {
        const type = buf[0];
        if (type === 0x81) {  // welcome -> subscribe(doc, 0)
          const d = this.docBytes, out = new Uint8Array(1 + varLen(d.length) + d.length + 1);
          let p = writeVar(out, 0, 3); p = writeVar(out, p, d.length); out.set(d, p);
          ws.send(out); return;
        }
        if (type === 0x85) { resolve(); return; }  // synced
        // ops := doc first_seq count change*
        if (type !== 0x84 || !this.run.measures[this.index]) return;
        let [len, p] = readVar(buf, 1); p += len;
        let count; [, p] = readVar(buf, p); [count, p] = readVar(buf, p);
        for (let i = 0; i < count; i++) {
          let client, first; [client, p] = readVar(buf, p); [first, p] = readVar(buf, p); [, p] = readVar(buf, p);
          [len, p] = readVar(buf, p); p += len;
          const from = this.run.clientOf.get(client);
          if (from !== undefined && from !== this.index) this.run.onRemote(from, first);
        }
      });
    });
  }
  edit() {
    const first = this.doc.opCount(this.clientId);
    const sv = this.doc.stateVector();
    this.doc.insert(Math.floor(Math.random() * (this.doc.length() + 1)), 'abcdefghij'[first % 10]);
    const u = this.doc.diff(sv), d = this.docBytes;
    const out = new Uint8Array(1 + varLen(d.length) + d.length + 1 + varLen(this.clientId) + varLen(first) + 1 + varLen(u.length) + u.length);
    let p = writeVar(out, 0, 5); p = writeVar(out, p, d.length); out.set(d, p); p += d.length;
    p = writeVar(out, p, 1); p = writeVar(out, p, this.clientId); p = writeVar(out, p, first); p = writeVar(out, p, 1);
    p = writeVar(out, p, u.length); out.set(u, p);
    this.ws.send(out);
    return first;
  }
  close() { this.ws?.terminate(); this.doc.delete(); }
}

// ---- one run ------------------------------------------------------------
// HARNESS=native: the same clients in native code (bench/compare_clients.cpp),
// one process on one thread, printing one JSON object.
async function runNative(server, C) {
  const weftd = server.name.startsWith('weftd');
  const doc = weftd ? await server.newDoc(`bench-${C}-${Date.now()}`) : `bench-${C}-${Date.now()}`;
  const args = [`kind=${weftd ? 'weftd' : 'hocuspocus'}`, `port=${server.port}`,
    `path=${weftd ? '/api/v1/sync' : '/'}`, `doc=${doc}`, `clients=${C}`, `sample=${SAMPLE}`,
    `rate=${RATE}`, `duration=${DURATION}`, `warmup=${WARMUP}`, `drain=${DRAIN}`,
    `server_pid=${server.pid}`, ...(weftd ? [`token=${server.token}`] : [])];
  const child = spawn(NATIVE, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  const [code, signal] = await new Promise((resolve) => child.on('close', (c, s) => resolve([c, s])));
  let r;
  try { r = JSON.parse(out); } catch { r = { error: `no report (exit ${code ?? signal})` }; }
  if (r.error || code !== 0) {  // (a throw would print the WASM module's source)
    console.error(`${server.name} ${C}: ${r.error ?? `exit ${code ?? signal}`}`);
    for (const s of Object.values(servers)) s.stop();
    process.exit(1);
  }
  if (r.lastError) console.error(`${server.name} ${C}: ${r.lastError}`);
  if (r.errors) console.error(`${server.name} ${C}: ${r.errors} error messages from the server`);
  await new Promise((res) => setTimeout(res, 500));
  return { server: server.name, C, ...r };
}

async function runOne(server, C) {
  if (NATIVE) return runNative(server, C);
  const perClient = Math.ceil(RATE * (DURATION + WARMUP)) + 8;
  const sampled = SAMPLE > 0 && SAMPLE < C ? SAMPLE : C;
  const measures = new Uint8Array(C);
  for (let k = 0; k < sampled; k++) measures[Math.floor((k * C) / sampled)] = 1;
  const run = {
    clientOf: new Map(), hist: new Histogram(), delivered: 0, measures,
    ending: false, closedEarly: 0,
    sentAt: Array.from({ length: C }, () => new Float64Array(perClient)),
    onRemote(from, seq) {
      const t = this.sentAt[from][seq];
      if (t > 0) { this.hist.add(performance.now() - t); this.delivered++; }
    },
  };
  const docName = `bench-${C}-${Date.now()}`;
  const docId = server.newDoc ? await server.newDoc(docName) : docName;
  const clients = [];
  for (let i = 0; i < C; i++) {
    clients.push(server.name.startsWith('weftd') ? new WeftClient(run, i, server.port, docId, server.token)
      : new HocuspocusClient(run, i, server.port, docName));
  }
  for (let i = 0; i < C; i += 50) await Promise.all(clients.slice(i, i + 50).map((c) => c.open()));
  const interval = 1000 / RATE;
  const start = performance.now() + 50;
  const measureFrom = start + WARMUP * 1000;  // JIT and document warm-up
  const next = clients.map(() => start + Math.random() * interval);
  const sent = new Uint32Array(C);
  let edits = 0, expected = 0;
  let cpu0 = process.cpuUsage(), srv0 = cpuTicks(server.pid);
  // The harness's own event-loop delay over the measured seconds: a
  // message that arrives while the loop is busy waits that long before it
  // is timed, so a high lag means the harness, not the server, sets the tail.
  const lag = monitorEventLoopDelay({ resolution: 1 });
  setTimeout(() => { cpu0 = process.cpuUsage(); srv0 = cpuTicks(server.pid); lag.enable(); }, measureFrom - performance.now());
  await new Promise((resolve) => {
    const timer = setInterval(() => {  // one timer drives every client
      const now = performance.now();
      if (now >= measureFrom + DURATION * 1000) { clearInterval(timer); resolve(); return; }
      for (let i = 0; i < C; i++) {
        while (next[i] <= now && sent[i] < perClient) {
          const seq = clients[i].edit();
          // Warm-up edits keep sentAt 0: receivers ignore them.
          if (next[i] >= measureFrom) {
            run.sentAt[i][seq] = performance.now(); edits++;
            expected += sampled - measures[i];  // every sampled receiver but itself
          }
          sent[i]++; next[i] += interval;
        }
      }
    }, 1);
  });
  const drainEnd = performance.now() + DRAIN * 1000;
  while (run.delivered < expected && performance.now() < drainEnd) await new Promise((r) => setTimeout(r, 20));
  lag.disable();
  const cpu = process.cpuUsage(cpu0), wall = (performance.now() - measureFrom) / 1000;
  const serverCpu = cpuTicks(server.pid) - srv0;
  const rss = rssMiB(server.pid);
  run.ending = true;
  for (const c of clients) c.close();
  await new Promise((r) => setTimeout(r, 500));
  return {
    server: server.name, C, sampled, closedEarly: run.closedEarly, edits, expected, delivered: run.delivered,
    p50: run.hist.q(0.5), p99: run.hist.q(0.99), max: run.hist.max,
    serverCpu: (100 * serverCpu) / wall, harnessCpu: (100 * (cpu.user + cpu.system) / 1e6) / wall, rss,
    lagP99: lag.count ? lag.percentile(99) / 1e6 : 0,
  };
}

const fmt = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
const servers = {};
for (const s of SERVERS) {
  servers[s] = s === 'hocuspocus' ? await startHocuspocus() : await startWeftd(s === 'weftd-memory');
}
const results = [];
const collapsed = new Set();
console.log(`Harness: ${HARNESS}${NATIVE ? ` (${path.relative(root, NATIVE)})` : ' (ws clients in this process)'}\n`);
console.log(`| server | clients | sampled | edits | delivered | p50 ms | p99 ms | max ms | server CPU % | harness CPU % | harness loop lag p99 ms | server RSS MiB | load avg |`);
console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
for (const C of CLIENTS) {
  for (const name of SERVERS) {  // interleaved, so both see the same machine load
    if (collapsed.has(name)) continue;
    const r = await runOne(servers[name], C);
    results.push(r);
    const lost = r.expected - r.delivered;
    const closed = r.closedEarly ? `, ${r.closedEarly} connections closed` : '';
    const load = fs.readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
    console.log(`| ${name} | ${C} | ${r.sampled} | ${r.edits} | ${r.delivered}/${r.expected}${lost ? ` (${(100 * lost / r.expected).toFixed(1)}% lost)` : ''}${closed} | ${fmt(r.p50)} | ${fmt(r.p99)} | ${fmt(r.max)} | ${r.serverCpu.toFixed(0)} | ${r.harnessCpu.toFixed(0)} | ${fmt(r.lagP99)} | ${r.rss.toFixed(0)} | ${load} |`);
    if (r.p99 > 2000 || r.delivered < 0.5 * r.expected) collapsed.add(name);
  }
}
console.log('');
for (const name of SERVERS) {
  const ok = results.filter((r) => r.server === name && r.p99 < 20 && r.delivered === r.expected && !r.closedEarly);
  const best = ok.length ? Math.max(...ok.map((r) => r.C)) : 0;
  console.log(`${name} ${servers[name].version}: largest C with p99 < 20 ms and nothing lost: ${best || 'none'}`);
}
for (const s of Object.values(servers)) s.stop();
setTimeout(() => process.exit(0), 600);
