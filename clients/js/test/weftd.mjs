// Test support: a real weftd on a free loopback port with a throwaway data
// directory, and REST helpers to create users and teams. The weftd binary
// comes from WEFTD (ctest passes $<TARGET_FILE:weftd>), else
// build/release/app/weftd relative to the repository.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '../../..');
export const weftdPath = process.env.WEFTD ?? path.join(repoRoot, 'build/release/app/weftd');

export function haveWeftd() {
  return fs.existsSync(weftdPath);
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
    srv.on('error', reject);
  });
}

export class Weftd {
  /** `args`: more command-line options (the web app's browser tests pass --web-dir). */
  constructor(args = []) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-sdk-'));
    this.args = args;
    this.proc = null;
    this.port = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Starts weftd (again on the same port and data directory when restarted). */
  async start() {
    if (!this.port) this.port = await freePort();
    this.starts = (this.starts ?? 0) + 1;
    const log = fs.openSync(path.join(this.dir, 'weftd.log'), 'a');
    this.proc = spawn(
      weftdPath,
      ['--port', String(this.port), '--data-dir', path.join(this.dir, 'data'), '--auth-rate-limit', '1000', '--api-rate-limit', '1000', ...this.args],
      { env: { ...process.env, WEFT_PASSWORD_HASH_COST: 'test' }, stdio: ['ignore', log, log] },
    );
    const exited = new Promise((resolve) => this.proc.once('exit', resolve));
    for (let i = 0; i < 500; i++) {
      try {
        const r = await fetch(`${this.url}/livez`);
        // Ours, not another process that took the port while we were
        // stopped: ours would have exited (address in use).
        if (r.ok && this.proc.exitCode === null && (await this.ours())) return;
      } catch {
        /* not yet */
      }
      if (this.proc.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 10));
    }
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10))]);
    throw new Error(`weftd did not start:\n${this.log()}`);
  }

  /** Stops weftd with `signal`; one that is not gone 5 s after a gentler signal is killed. */
  async stop(signal = 'SIGKILL') {
    if (!this.proc || this.proc.exitCode !== null) return;
    const p = this.proc;
    const exited = new Promise((resolve) => p.once('exit', resolve));
    p.kill(signal);
    if (signal !== 'SIGKILL') {
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    }
    await exited;
  }

  /** Whether this run of weftd logged that it listens (the log is appended across restarts). */
  async ours() {
    const lines = this.log().trim().split('\n').filter((l) => l.includes('"msg":"listening"'));
    return lines.length >= this.starts;
  }

  log() {
    try {
      return fs.readFileSync(path.join(this.dir, 'weftd.log'), 'utf8');
    } catch {
      return '';
    }
  }

  async dispose() {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async call(method, p, body, token, expect) {
    const r = await fetch(this.url + p, {
      method,
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (expect && r.status !== expect) throw new Error(`${method} ${p}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  }

  async register(name) {
    const email = `${name}@example.com`;
    const password = 'correct horse battery';
    const s = await this.call('POST', '/api/v1/auth/register', { email, password, display_name: name }, '', 201);
    return { id: s.user.id, email, password, token: s.access_token };
  }

  /** alice owns a workspace with a document of `kind`; bob joins as `bobRole`. */
  async team(bobRole = 'editor', kind = 'text') {
    const alice = await this.register(`alice${++teamCount}`);
    const bob = await this.register(`bob${teamCount}`);
    const ws = await this.call('POST', '/api/v1/workspaces', { name: 'Team' }, alice.token, 201);
    const doc = await this.call('POST', `/api/v1/workspaces/${ws.id}/documents`, { kind, title: 'Notes' }, alice.token, 201);
    const inv = await this.call('POST', `/api/v1/workspaces/${ws.id}/invitations`, { email: bob.email, role: bobRole }, alice.token, 201);
    await this.call('POST', `/api/v1/invitations/${inv.token}/accept`, null, bob.token, 200);
    return { alice, bob, ws: ws.id, doc: doc.id };
  }
}
let teamCount = 0;

/** Waits until `cond()` is true, polling; fails after `ms`. */
export async function eventually(cond, what, ms = 5000) {
  const end = Date.now() + ms;
  for (;;) {
    if (await cond()) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** `promise`, or a failure naming `what` after `ms` (a hang fails instead of being cancelled). */
export async function within(promise, what, ms = 10000) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
