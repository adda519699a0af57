// Encoder and decoder of the sync protocol, version 1 (docs/protocol.md §2,
// §3): one binary WebSocket message per protocol message, varuints as
// minimal unsigned LEB128. Numbers are JavaScript numbers, so values above
// 2^53 are refused (client ids and seqs stay far below that).

export const PROTOCOL_VERSION = 1;

/** One local transaction: the update of ops (clientId, firstSeq .. firstSeq+span-1). */
export interface Change {
  clientId: number;
  firstSeq: number;
  span: number;
  update: Uint8Array;
}

export type Role = 'viewer' | 'editor' | 'owner';
const kRoles: Role[] = ['viewer', 'editor', 'owner'];

export type ClientMessage =
  | { type: 'hello'; version: number; token: string; clientName: string }
  | { type: 'auth'; token: string }
  | { type: 'subscribe'; doc: string; sinceSeq: number }
  | { type: 'unsubscribe'; doc: string }
  | { type: 'submit'; doc: string; changes: Change[] }
  | { type: 'presence'; doc: string; state: Uint8Array }
  | { type: 'ping'; nonce: number };

export interface AckEntry {
  clientId: number;
  firstSeq: number;
  serverSeq: number;
}

export type ServerMessage =
  | { type: 'welcome'; version: number; userId: string; sessionId: number; expiresIn: number }
  | { type: 'subscribed'; doc: string; role: Role; headSeq: number }
  | { type: 'snapshot'; doc: string; lastIncludedSeq: number; state: Uint8Array }
  | { type: 'ops'; doc: string; firstSeq: number; changes: Change[] }
  | { type: 'synced'; doc: string; seq: number }
  | { type: 'ack'; doc: string; entries: AckEntry[] }
  | { type: 'presence_of'; doc: string; sessionId: number; state: Uint8Array }
  | { type: 'presence_gone'; doc: string; sessionId: number }
  | { type: 'unsubscribed'; doc: string; code: number; message: string }
  | { type: 'error'; code: number; doc: string; message: string; expectedSeq: number }
  | { type: 'pong'; nonce: number };

const kClientTypes = {
  hello: 0x01,
  auth: 0x02,
  subscribe: 0x03,
  unsubscribe: 0x04,
  submit: 0x05,
  presence: 0x06,
  ping: 0x07,
} as const;

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true });

/** Thrown for bytes that do not decode; the connection treats it as a protocol error. */
export class CodecError extends Error {
  override name = 'CodecError';
}

class Writer {
  private buf = new Uint8Array(64);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  u8(v: number): this {
    this.reserve(1);
    this.buf[this.len++] = v;
    return this;
  }
  varuint(v: number): this {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`not a varuint: ${v}`);
    this.reserve(10);
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    this.buf[this.len++] = v;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.varuint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
    return this;
  }
  string(s: string): this {
    return this.bytes(utf8.encode(s));
  }
  done(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  u8(): number {
    if (this.pos >= this.buf.length) throw new CodecError('truncated');
    return this.buf[this.pos++];
  }
  varuint(): number {
    let v = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      v += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (b === 0 && i > 0) throw new CodecError('overlong varuint');
        if (!Number.isSafeInteger(v)) throw new CodecError('varuint above 2^53');
        return v;
      }
      scale *= 0x80;
    }
    throw new CodecError('varuint longer than 10 bytes');
  }
  bytes(): Uint8Array {
    const n = this.varuint();
    if (n > this.buf.length - this.pos) throw new CodecError('length beyond the message');
    const out = this.buf.slice(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  string(): string {
    try {
      return utf8Strict.decode(this.bytes());
    } catch (e) {
      if (e instanceof CodecError) throw e;
      throw new CodecError('invalid UTF-8');
    }
  }
  change(): Change {
    const clientId = this.varuint();
    const firstSeq = this.varuint();
    const span = this.varuint();
    return { clientId, firstSeq, span, update: this.bytes() };
  }
  end(): void {
    if (this.pos !== this.buf.length) throw new CodecError('trailing bytes');
  }
}

/**
 * A text engine's state vector (docs/format.md, kind 3) naming `entries`:
 * (client id, operations held), client ids ascending.
 */
export function encodeTextStateVector(entries: [number, number][]): Uint8Array {
  const w = new Writer().u8(1).u8(3).varuint(entries.length);
  for (const [clientId, seq] of entries) w.varuint(clientId).varuint(seq);
  return w.done();
}

export function encodeClient(m: ClientMessage): Uint8Array {
  const w = new Writer().u8(kClientTypes[m.type]);
  switch (m.type) {
    case 'hello':
      return w.varuint(m.version).string(m.token).string(m.clientName).done();
    case 'auth':
      return w.string(m.token).done();
    case 'subscribe':
      return w.string(m.doc).varuint(m.sinceSeq).done();
    case 'unsubscribe':
      return w.string(m.doc).done();
    case 'submit':
      w.string(m.doc).varuint(m.changes.length);
      for (const c of m.changes) w.varuint(c.clientId).varuint(c.firstSeq).varuint(c.span).bytes(c.update);
      return w.done();
    case 'presence':
      return w.string(m.doc).bytes(m.state).done();
    case 'ping':
      return w.varuint(m.nonce).done();
  }
}

function changes(r: Reader): Change[] {
  const n = r.varuint();
  const out: Change[] = [];
  for (let i = 0; i < n; i++) out.push(r.change());
  return out;
}

export function decodeServer(bytes: Uint8Array): ServerMessage {
  const r = new Reader(bytes);
  const type = r.u8();
  let m: ServerMessage;
  switch (type) {
    case 0x81:
      m = { type: 'welcome', version: r.varuint(), userId: r.string(), sessionId: r.varuint(), expiresIn: r.varuint() };
      break;
    case 0x82: {
      const doc = r.string();
      const role = kRoles[r.u8() - 1];
      if (!role) throw new CodecError('unknown role');
      m = { type: 'subscribed', doc, role, headSeq: r.varuint() };
      break;
    }
    case 0x83:
      m = { type: 'snapshot', doc: r.string(), lastIncludedSeq: r.varuint(), state: r.bytes() };
      break;
    case 0x84:
      m = { type: 'ops', doc: r.string(), firstSeq: r.varuint(), changes: changes(r) };
      break;
    case 0x85:
      m = { type: 'synced', doc: r.string(), seq: r.varuint() };
      break;
    case 0x86: {
      const doc = r.string();
      const n = r.varuint();
      const entries: AckEntry[] = [];
      for (let i = 0; i < n; i++) entries.push({ clientId: r.varuint(), firstSeq: r.varuint(), serverSeq: r.varuint() });
      m = { type: 'ack', doc, entries };
      break;
    }
    case 0x87:
      m = { type: 'presence_of', doc: r.string(), sessionId: r.varuint(), state: r.bytes() };
      break;
    case 0x88:
      m = { type: 'presence_gone', doc: r.string(), sessionId: r.varuint() };
      break;
    case 0x89:
      m = { type: 'unsubscribed', doc: r.string(), code: r.varuint(), message: r.string() };
      break;
    case 0x8a:
      m = { type: 'error', code: r.varuint(), doc: r.string(), message: r.string(), expectedSeq: r.varuint() };
      break;
    case 0x8b:
      m = { type: 'pong', nonce: r.varuint() };
      break;
    default:
      throw new CodecError(`unknown message type 0x${type.toString(16)}`);
  }
  r.end();
  return m;
}

/** Server-side encoder of the same grammar, for tests and tools (a fake server). */
export function encodeServer(m: ServerMessage): Uint8Array {
  const w = new Writer();
  switch (m.type) {
    case 'welcome':
      return w.u8(0x81).varuint(m.version).string(m.userId).varuint(m.sessionId).varuint(m.expiresIn).done();
    case 'subscribed':
      return w.u8(0x82).string(m.doc).u8(kRoles.indexOf(m.role) + 1).varuint(m.headSeq).done();
    case 'snapshot':
      return w.u8(0x83).string(m.doc).varuint(m.lastIncludedSeq).bytes(m.state).done();
    case 'ops':
      w.u8(0x84).string(m.doc).varuint(m.firstSeq).varuint(m.changes.length);
      for (const c of m.changes) w.varuint(c.clientId).varuint(c.firstSeq).varuint(c.span).bytes(c.update);
      return w.done();
    case 'synced':
      return w.u8(0x85).string(m.doc).varuint(m.seq).done();
    case 'ack':
      w.u8(0x86).string(m.doc).varuint(m.entries.length);
      for (const e of m.entries) w.varuint(e.clientId).varuint(e.firstSeq).varuint(e.serverSeq);
      return w.done();
    case 'presence_of':
      return w.u8(0x87).string(m.doc).varuint(m.sessionId).bytes(m.state).done();
    case 'presence_gone':
      return w.u8(0x88).string(m.doc).varuint(m.sessionId).done();
    case 'unsubscribed':
      return w.u8(0x89).string(m.doc).varuint(m.code).string(m.message).done();
    case 'error':
      return w.u8(0x8a).varuint(m.code).string(m.doc).string(m.message).varuint(m.expectedSeq).done();
    case 'pong':
      return w.u8(0x8b).varuint(m.nonce).done();
  }
}

/** Decodes a client message (for tests and fake servers). */
export function decodeClient(bytes: Uint8Array): ClientMessage {
  const r = new Reader(bytes);
  const type = r.u8();
  let m: ClientMessage;
  switch (type) {
    case 0x01:
      m = { type: 'hello', version: r.varuint(), token: r.string(), clientName: r.string() };
      break;
    case 0x02:
      m = { type: 'auth', token: r.string() };
      break;
    case 0x03:
      m = { type: 'subscribe', doc: r.string(), sinceSeq: r.varuint() };
      break;
    case 0x04:
      m = { type: 'unsubscribe', doc: r.string() };
      break;
    case 0x05:
      m = { type: 'submit', doc: r.string(), changes: changes(r) };
      break;
    case 0x06:
      m = { type: 'presence', doc: r.string(), state: r.bytes() };
      break;
    case 0x07:
      m = { type: 'ping', nonce: r.varuint() };
      break;
    default:
      throw new CodecError(`unknown message type 0x${type.toString(16)}`);
  }
  r.end();
  return m;
}
