// Test support: an in-process fake of weftd's sync endpoint and of the
// auth routes, so the SDK's protocol logic (queue, acks, resume, errors)
// can be driven message by message. The tests script what the "server"
// answers; the fake only speaks the wire format (src/codec.ts).
import { decodeClient, encodeServer } from '../dist/codec.js';

export class FakeServer {
  constructor() {
    this.sockets = [];
    /** Every client message, decoded, with the socket index it came on. */
    this.received = [];
    this.waiters = [];
    this.sessionId = 0;
    /** Sockets opened while this is above 0 never open (a hanging handshake); each takes one. */
    this.hangNext = 0;
    /** Pings are answered with their pong, as weftd does; false holds every pong back. */
    this.answerPings = true;
    /** GET /api/v1/documents/:id answers these (doc id → kind: 'text', 'board', 'canvas'); others 404. */
    this.documents = {};
    this.WebSocket = this.makeWebSocketClass();
    this.fetch = this.fakeFetch.bind(this);
  }

  makeWebSocketClass() {
    const server = this;
    return class FakeWebSocket {
      constructor(url, protocol) {
        this.url = url;
        this.protocol = protocol;
        this.binaryType = 'blob';
        this.open = true;
        this.index = server.sockets.length;
        server.sockets.push(this);
        if (server.hangNext > 0) {
          server.hangNext--;
          return;
        }
        setTimeout(() => this.onopen?.({}), 0);
      }
      send(bytes) {
        if (!this.open) return;
        const m = decodeClient(bytes);
        server.received.push({ socket: this.index, at: Date.now(), ...m });
        if (m.type === 'hello') server.send(this, { type: 'welcome', version: 1, userId: 'u1', sessionId: ++server.sessionId, expiresIn: 900 });
        // As weftd: in order, after whatever the test already sent on this socket.
        if (m.type === 'ping' && server.answerPings) server.send(this, { type: 'pong', nonce: m.nonce });
        server.notify();
      }
      close(code = 1000) {
        if (!this.open) return;
        this.open = false;
        setTimeout(() => this.onclose?.({ code }), 0);
      }
    };
  }

  get socket() {
    return this.sockets[this.sockets.length - 1];
  }

  send(ws, m) {
    if (!ws.open) return;
    const bytes = encodeServer(m);
    const data = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    setTimeout(() => ws.open && ws.onmessage?.({ data }), 0);
  }

  /** The server side drops the connection with `code`. */
  drop(code = 1006) {
    const ws = this.socket;
    ws.open = false;
    setTimeout(() => ws.onclose?.({ code }), 0);
  }

  notify() {
    for (const w of [...this.waiters]) w();
  }

  /** Waits for the n-th (from `from`) client message matching `pred`. */
  async next(pred, what = 'a message', ms = 3000, from = 0) {
    const end = Date.now() + ms;
    for (;;) {
      const hit = this.received.slice(from).find(pred);
      if (hit) return hit;
      if (Date.now() > end) throw new Error(`fake server: timed out waiting for ${what}; got ${JSON.stringify(this.received.map((m) => m.type))}`);
      await new Promise((r) => {
        this.waiters.push(r);
        setTimeout(r, 20);
      });
      this.waiters = [];
    }
  }

  async fakeFetch(url, init = {}) {
    const path = new URL(url).pathname;
    if (path === '/api/v1/auth/login' || path === '/api/v1/auth/refresh') {
      this.logins = (this.logins ?? 0) + 1;
      return json(200, {
        user: { id: 'u1', email: 'a@example.com', display_name: 'A' },
        access_token: `token-${this.logins}`,
        refresh_token: `wrt_${this.logins}`,
        expires_in: 900,
      });
    }
    if (path === '/api/v1/auth/logout') return new Response(null, { status: 204 });
    const doc = /^\/api\/v1\/documents\/([^/]+)$/.exec(path);
    if (doc && (init.method ?? 'GET') === 'GET' && this.documents[doc[1]]) {
      return json(200, { id: doc[1], workspace_id: 'w1', kind: this.documents[doc[1]], title: 'T', created_at: '', updated_at: '' });
    }
    return json(404, { error: { code: 'not_found', message: `no fake route ${init.method ?? 'GET'} ${path}`, details: {}, request_id: 'x' } });
  }
}

function json(status, body) {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } });
}
