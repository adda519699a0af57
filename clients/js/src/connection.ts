// The one WebSocket of a client (docs/protocol.md §1): `hello` with the
// access token as the first message (never in the URL), `auth` when the
// token is refreshed, an application ping, and reconnection with
// exponential backoff and jitter. Messages about a document go to the
// document's session; the connection itself knows nothing of documents.

import { decodeServer, encodeClient, PROTOCOL_VERSION, type ClientMessage, type ServerMessage } from './codec.js';

export interface ConnectionOptions {
  /** ws(s)://host:port/api/v1/sync */
  url: string;
  clientName: string;
  WebSocket: typeof WebSocket;
  /** A valid access token, or null when signed out (then the connection stays down). */
  token(): Promise<string | null>;
  /** Refresh after the server refused or expired the token; false when signed out. */
  refresh(): Promise<boolean>;
  initialDelayMs: number;
  maxDelayMs: number;
  /** A connection not welcomed this long after it was opened is dropped and tried again. */
  welcomeTimeoutMs?: number;
}

export interface ConnectionEvents {
  /** `welcome` arrived: subscribe and send. */
  open(): void;
  /** The connection is gone (or paused); it reconnects by itself. */
  close(): void;
  /** A message about a document, or a connection-level error (doc ''). */
  message(m: ServerMessage): void;
}

const kPingEveryMs = 20_000;
/**
 * The server refuses presence beyond 20 updates a second per connection,
 * burst 40 (protocol.md §5), and its rate_limited cannot be told from a
 * submit's. All documents of a connection share this budget, below the
 * server's so that updates bunched up on the way still pass.
 */
const kPresencePerSecond = 16;
const kPresenceBurst = 20;
/** Default of ConnectionOptions.welcomeTimeoutMs. */
const kWelcomeTimeoutMs = 15_000;
/**
 * A welcomed connection resets the reconnect backoff only once it has
 * stayed up this long, or once the server accepted a subscribe
 * (subscribeAccepted): a server that welcomes and then closes at once
 * (a refused message) would otherwise be retried without backoff for ever.
 */
const kStableMs = 10_000;
/** No message for this long (pings included): the connection is dead. */
const kSilenceMs = 50_000;

export class Connection {
  private ws: WebSocket | null = null;
  private welcomed = false;
  private wanted = false;
  private paused = false;
  private attempt = 0;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private pingTimer: ReturnType<typeof setInterval> | undefined;
  private stableTimer: ReturnType<typeof setTimeout> | undefined;
  private lastHeard = 0;
  private nonce = 0;
  /** Pings sent by barrier(), by nonce: what their pong calls. */
  private readonly barriers = new Map<number, () => void>();
  sessionId = 0;
  /** An `auth` is on its way: a connection-level 429/503 answers it. */
  private authPending = false;
  /** Counts tokenChanged calls: a retry whose token was sent meanwhile is dropped. */
  private authSent = 0;
  private authRetry: ReturnType<typeof setTimeout> | undefined;
  private authDelay = 1000;
  private presenceTokens = kPresenceBurst;
  private presenceRefilled = 0;

  constructor(
    private readonly opts: ConnectionOptions,
    private readonly on: ConnectionEvents,
  ) {}

  get isOpen(): boolean {
    return this.welcomed;
  }

  /** Keep a connection up from now on (reconnecting as needed). */
  start(): void {
    this.wanted = true;
    if (!this.ws && !this.retryTimer && !this.paused) void this.connect();
  }

  /** Close and stay closed until start(). */
  stop(): void {
    this.wanted = false;
    this.drop(1000);
  }

  /** Go offline on purpose (a UI's "work offline", the browser's offline event), or back online. */
  setPaused(paused: boolean): void {
    this.paused = paused;
    if (paused) this.drop(1000);
    else if (this.wanted) {
      this.attempt = 0;
      clearTimeout(this.retryTimer);
      this.retryTimer = undefined;
      if (!this.ws) void this.connect();
    }
  }

  /** Sends when welcomed; false otherwise (the caller resends after `open`). */
  send(m: ClientMessage): boolean {
    if (!this.welcomed || !this.ws) return false;
    this.ws.send(encodeClient(m));
    return true;
  }

  /**
   * Sends a `ping` whose `pong` calls `done`. The server answers a
   * connection's messages in order (protocol.md §3, "Answers"), so by then
   * every error about a message sent before it has arrived. False, and
   * `done` is never called, when not welcomed or once the connection drops.
   */
  barrier(done: () => void): boolean {
    const nonce = ++this.nonce;
    if (!this.send({ type: 'ping', nonce })) return false;
    this.barriers.set(nonce, done);
    return true;
  }

  /**
   * 0 when a presence update may go now (and counts it against the
   * connection's budget); otherwise the milliseconds until one may.
   */
  presenceWait(now = Date.now()): number {
    const refill = ((now - this.presenceRefilled) * kPresencePerSecond) / 1000;
    this.presenceTokens = Math.min(kPresenceBurst, this.presenceTokens + Math.max(0, refill));
    this.presenceRefilled = now;
    if (this.presenceTokens >= 1) {
      this.presenceTokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.presenceTokens) * 1000) / kPresencePerSecond);
  }

  /** The access token changed: tell the server (protocol.md §1, `auth`). */
  tokenChanged(token: string): void {
    if (this.welcomed) {
      this.authPending = true;
      this.authSent++;
      this.send({ type: 'auth', token });
    }
  }

  /**
   * The server could not take our `auth` now (rate_limited, or its store
   * could not check the token): the old token stands until it expires,
   * so the current one is sent again after a backoff.
   */
  private retryAuth(): void {
    clearTimeout(this.authRetry);
    const sent = this.authSent;
    this.authRetry = setTimeout(() => {
      this.authRetry = undefined;
      void this.opts
        .token()
        .catch(() => null)
        .then((t) => {
          // A newer token went out meanwhile (a refresh's own auth).
          if (t && this.welcomed && this.authSent === sent) this.tokenChanged(t);
        });
    }, this.authDelay);
    (this.authRetry as { unref?: () => void }).unref?.();
    this.authDelay = Math.min(this.authDelay * 2, 30_000);
  }

  private async connect(): Promise<void> {
    if (!this.wanted || this.paused || this.ws) return;
    const token = await this.opts.token().catch(() => null);
    if (!this.wanted || this.paused || this.ws) return;
    if (!token) {
      this.scheduleRetry(); // signed out or the refresh failed for now
      return;
    }
    const ws = new this.opts.WebSocket(this.opts.url, 'weft.v1');
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    // Until `welcome` nothing else watches the connection (the pings start
    // then): a handshake that hangs (a half-open TCP connection, a proxy,
    // a server going down) would keep the client offline for good.
    const welcomeTimer = setTimeout(() => {
      if (this.ws !== ws || this.welcomed) return;
      this.drop(4000);
      this.scheduleRetry();
    }, this.opts.welcomeTimeoutMs ?? kWelcomeTimeoutMs);
    (welcomeTimer as { unref?: () => void }).unref?.();
    ws.onopen = () => {
      ws.send(encodeClient({ type: 'hello', version: PROTOCOL_VERSION, token, clientName: this.opts.clientName }));
    };
    ws.onmessage = (ev: MessageEvent) => {
      if (this.ws !== ws) return;
      this.lastHeard = Date.now();
      if (!(ev.data instanceof ArrayBuffer)) return;
      let m: ServerMessage;
      try {
        m = decodeServer(new Uint8Array(ev.data));
      } catch {
        ws.close(4400, 'undecodable message');
        return;
      }
      this.handle(m);
    };
    ws.onclose = (ev: CloseEvent) => {
      clearTimeout(welcomeTimer);
      if (this.ws !== ws) return;
      void this.closed(ev.code);
    };
    ws.onerror = () => {
      /* onclose follows */
    };
  }

  private handle(m: ServerMessage): void {
    if (m.type === 'welcome') {
      this.authPending = false; // (also the answer to an auth)
      this.authDelay = 1000;
      clearTimeout(this.authRetry);
      this.authRetry = undefined;
      this.sessionId = m.sessionId;
      if (!this.welcomed) {
        this.welcomed = true;
        this.stableTimer = setTimeout(() => this.subscribeAccepted(), kStableMs);
        (this.stableTimer as { unref?: () => void }).unref?.();
        this.lastHeard = Date.now();
        this.pingTimer = setInterval(() => this.keepAlive(), kPingEveryMs);
        (this.pingTimer as { unref?: () => void }).unref?.();
        this.on.open();
      }
      return;
    }
    if (m.type === 'error' && m.doc === '' && this.authPending && (m.code === 429 || m.code === 503)) {
      this.authPending = false;
      this.retryAuth();
    }
    if (m.type === 'pong') {
      const done = this.barriers.get(m.nonce);
      this.barriers.delete(m.nonce);
      done?.();
      return;
    }
    this.on.message(m);
  }

  /** The connection works (a subscribe was accepted, or it stayed up): the backoff starts over. */
  subscribeAccepted(): void {
    if (!this.welcomed) return;
    this.attempt = 0;
    clearTimeout(this.stableTimer);
    this.stableTimer = undefined;
  }

  private keepAlive(): void {
    if (!this.ws || !this.welcomed) return;
    if (Date.now() - this.lastHeard > kSilenceMs) {
      this.drop(4000); // silent: reconnect
      this.scheduleRetry();
      return;
    }
    this.send({ type: 'ping', nonce: ++this.nonce });
  }

  private async closed(code: number): Promise<void> {
    this.teardown();
    if (!this.wanted || this.paused) return;
    if (code === 4401 || code === 4402) {
      // Token refused or expired: refresh, then reconnect at once the first
      // time; if the new token is refused too, back off like any failure.
      const ok = await this.opts.refresh().catch(() => false);
      if (ok && this.attempt === 0) {
        this.attempt++;
        void this.connect();
        return;
      }
    }
    if (code === 4400) this.on.message({ type: 'error', code: 400, doc: '', message: 'protocol error', expectedSeq: 0 });
    this.scheduleRetry();
  }

  private scheduleRetry(): void {
    if (!this.wanted || this.paused || this.retryTimer) return;
    const base = Math.min(this.opts.maxDelayMs, this.opts.initialDelayMs * 2 ** this.attempt);
    this.attempt++;
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.connect();
    }, delay);
  }

  private drop(code: number): void {
    const ws = this.ws;
    this.teardown();
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (ws) {
      try {
        ws.close(code);
      } catch {
        ws.close();
      }
    }
  }

  private teardown(): void {
    const was = this.welcomed;
    this.ws = null;
    this.welcomed = false;
    this.barriers.clear();
    this.authPending = false;
    clearTimeout(this.authRetry);
    this.authRetry = undefined;
    clearInterval(this.pingTimer);
    clearTimeout(this.stableTimer);
    this.stableTimer = undefined;
    if (was) this.on.close();
  }
}
