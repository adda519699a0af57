// WeftClient: the entry point. It owns the engine, local storage, the
// auth session, the REST API, the one sync connection, and the open
// documents, and derives the connection status UIs show.

import { Auth } from './auth.js';
import type { ServerMessage } from './codec.js';
import { Connection } from './connection.js';
import { DocSession, StructHandle, TextHandle, type SessionContext } from './document.js';
import { defaultLoadEngine, type WeftModule } from './engine.js';
import { Emitter } from './emitter.js';
import { StorageError, SyncError, WeftApiError } from './errors.js';
import { Api, Http } from './rest.js';
import { IndexedDbStore, MemoryStore, type DocKind, type LocalStore } from './storage.js';

export type ConnectionStatus = 'online' | 'syncing' | 'offline';

export interface StatusEvent {
  status: ConnectionStatus;
  /** Local changes not yet acknowledged, over all open documents (and closed ones still sending theirs). */
  pending: number;
}

export interface WeftClientOptions {
  /** Base URL of weftd, e.g. 'http://127.0.0.1:8080'. */
  url: string;
  storage?: 'indexeddb' | 'memory';
  loadEngine?: () => Promise<WeftModule>;
  clientName?: string;
  WebSocket?: typeof WebSocket;
  fetch?: typeof fetch;
  indexedDB?: IDBFactory;
  /** The IDBKeyRange that goes with `indexedDB` (default globalThis.IDBKeyRange). */
  IDBKeyRange?: typeof IDBKeyRange;
  reconnect?: { initialDelayMs?: number; maxDelayMs?: number; welcomeTimeoutMs?: number };
  presenceThrottleMs?: number;
  persistSession?: boolean;
  /**
   * When a user's session starts (client start with a stored session,
   * sign-in, another user), open in the background every document of that
   * user with edits stored but not yet acknowledged, and send them, as if
   * the app had opened and closed it (README.md, "Offline edits"). Default true.
   */
  sendStoredEdits?: boolean;
}

/** The server's rule for document ids (IsValidDocId, docs/protocol.md): 1..128 bytes of [A-Za-z0-9_.-]. */
export function isValidDocId(docId: string): boolean {
  return typeof docId === 'string' && /^[A-Za-z0-9_.-]{1,128}$/.test(docId);
}

/** How long sign-out and close() wait for the documents' copies to be saved. */
const kCloseSaveWaitMs = 3000;

type ClientEvents = { status: StatusEvent; error: SyncError };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnySession = DocSession<any>;

export class WeftClient {
  readonly auth: Auth;
  readonly api: Api;
  private readonly conn: Connection;
  /** `background`: started for its stored edits (sendStoredEdits), not by the app. */
  private readonly docs = new Map<string, { session: AnySession; ready: Promise<AnySession>; background?: boolean }>();
  private readonly events = new Emitter<ClientEvents>();
  private current: StatusEvent = { status: 'offline', pending: 0 };
  private readonly onOnline = () => this.conn.setPaused(this.paused);
  private paused = false;
  /** Bumped when the user's session ends (beforeChange, close()): a scan of stored edits still running stops. */
  private generation = 0;
  /** The scans of stored edits running (client.whenSynced waits for the sessions they start). */
  private scanning: Promise<void> = Promise.resolve();
  /** A document's kind could not be asked now (offline): scan again when the connection opens. */
  private rescan = false;

  private constructor(
    private readonly opts: WeftClientOptions,
    private readonly engine: WeftModule,
    private readonly store: LocalStore | null,
  ) {
    const fetchImpl = opts.fetch ?? globalThis.fetch.bind(globalThis);
    const http = new Http(opts.url, fetchImpl);
    const persist = opts.persistSession ?? opts.storage !== 'memory';
    this.auth = new Auth(http, persist ? store : null);
    http.tokens = this.auth;
    this.api = new Api(http);
    const WS = opts.WebSocket ?? globalThis.WebSocket;
    if (!WS) throw new Error('no WebSocket: pass options.WebSocket (Node 20: --experimental-websocket)');
    const wsUrl = new URL('/api/v1/sync', opts.url);
    wsUrl.protocol = wsUrl.protocol === 'https:' ? 'wss:' : 'ws:';
    this.conn = new Connection(
      {
        url: wsUrl.toString(),
        clientName: opts.clientName ?? 'weft-sdk',
        WebSocket: WS,
        token: () => this.auth.accessToken(),
        refresh: () => this.auth.refresh(),
        initialDelayMs: opts.reconnect?.initialDelayMs ?? 500,
        maxDelayMs: opts.reconnect?.maxDelayMs ?? 30_000,
        welcomeTimeoutMs: opts.reconnect?.welcomeTimeoutMs,
      },
      {
        open: () => {
          for (const { session } of this.docs.values()) session.connected();
          this.update();
          const user = this.auth.user;
          if (this.rescan && user) {
            this.rescan = false;
            this.sendStored(user.id);
          }
        },
        close: () => {
          for (const { session } of this.docs.values()) session.disconnected();
          this.update();
        },
        message: (m) => this.route(m),
      },
    );
    this.auth.storageError = (e) => this.events.emit('error', e);
    this.auth.on('token', (t) => this.conn.tokenChanged(t));
    this.auth.on('change', (user) => {
      if (!user) {
        this.conn.stop();
        return;
      }
      this.conn.start();
      this.sendStored(user.id);
    });
    this.auth.beforeChange = async (_next, o) => {
      this.generation++;
      this.rescan = false;
      const old = this.auth.user;
      await this.closeAll();
      if (old && o.discardOffline) await this.store?.clearUser(old.id);
    };
    globalThis.addEventListener?.('online', this.onOnline);
  }

  /** Loads the engine, opens local storage and restores a stored session. */
  static async create(opts: WeftClientOptions): Promise<WeftClient> {
    const engine = await (opts.loadEngine ?? defaultLoadEngine)();
    const idb = opts.indexedDB ?? globalThis.indexedDB;
    const kind = opts.storage ?? (idb ? 'indexeddb' : 'memory');
    let store: LocalStore;
    if (kind === 'indexeddb') {
      if (!idb) throw new Error("storage 'indexeddb' needs IndexedDB (or options.indexedDB)");
      store = await IndexedDbStore.open(idb, `weft:${new URL(opts.url).origin}`, opts.IDBKeyRange ?? globalThis.IDBKeyRange);
    } else {
      store = new MemoryStore();
    }
    const client = new WeftClient({ ...opts, storage: kind }, engine, store);
    await client.auth.restore();
    return client;
  }

  get status(): ConnectionStatus {
    return this.current.status;
  }

  get pending(): number {
    return this.current.pending;
  }

  /** 'status' ({status, pending}) or 'error' (sync errors no handle took). */
  on<K extends keyof ClientEvents>(event: K, cb: (v: ClientEvents[K]) => void): () => void {
    return this.events.on(event, cb);
  }

  /** Opens a text document (see README.md, "Documents"). */
  openText(docId: string): Promise<TextHandle> {
    return this.open(docId, TextHandle) as Promise<TextHandle>;
  }

  /** Opens a board or canvas. */
  openDoc(docId: string): Promise<StructHandle> {
    return this.open(docId, StructHandle) as Promise<StructHandle>;
  }

  /** Resolves when every open document is caught up and has no unacknowledged edit. */
  async whenSynced(): Promise<void> {
    // The documents with stored edits found at start count too (sendStoredEdits).
    await this.scanning;
    // A closed handle still sending its unacknowledged edits counts until they are acknowledged.
    await Promise.all(
      [...this.docs.values()].map((d) =>
        d.ready.then((s) => (s.isLingering || (d.background && s.isClosed) ? s.untilEnded() : s.whenSynced())),
      ),
    );
  }

  /** false: go offline on purpose (edits keep queueing); true: back online. */
  setOnline(online: boolean): void {
    this.paused = !online;
    this.conn.setPaused(!online);
  }

  /** Closes every document and the connection. */
  async close(): Promise<void> {
    globalThis.removeEventListener?.('online', this.onOnline);
    this.generation++;
    this.rescan = false;
    await this.closeAll();
    this.conn.stop();
    this.auth.dispose();
    (this.store as IndexedDbStore).close?.();
  }

  private async open(
    docId: string,
    Kind: typeof TextHandle | typeof StructHandle,
  ): Promise<AnySession> {
    // The server closes the whole connection (4400) on a message with an
    // invalid id: every other document would stop syncing.
    if (!isValidDocId(docId)) throw new SyncError(400, `invalid document id ${JSON.stringify(docId)}: 1 to 128 characters of A-Z a-z 0-9 _ . -`, docId);
    const user = this.auth.user;
    if (!user) throw new Error('not signed in');
    const have = this.docs.get(docId);
    if (have) {
      const s = await have.ready;
      // Ended while we waited (a lingering one whose edits are now safe): open anew.
      if (s.isClosed) return this.open(docId, Kind);
      if (!(s instanceof Kind)) throw new TypeError(`document ${docId} is open as another kind`);
      // Closed, but still sending edits only it holds: it is this document.
      if (s.isLingering) s.revive();
      return s;
    }
    const session = this.createSession(docId, Kind, user.id);
    const ready = (async () => {
      const hadLocal = await session.init();
      const synced = session.firstSynced();
      synced.catch(() => undefined);
      this.conn.start();
      if (this.conn.isOpen) session.connected();
      if (!hadLocal) await synced;
      return session;
    })();
    this.docs.set(docId, { session, ready });
    try {
      return await ready;
    } catch (e) {
      if (this.docs.get(docId)?.session === session) this.docs.delete(docId);
      throw e;
    }
  }

  private createSession(docId: string, Kind: typeof TextHandle | typeof StructHandle, userId: string): AnySession {
    const ctx: SessionContext = {
      conn: this.conn,
      store: this.store,
      userId,
      engine: this.engine,
      presenceThrottleMs: this.opts.presenceThrottleMs ?? 100,
      changed: () => this.update(),
      closed: (id) => {
        if (this.docs.get(id)?.session === session) this.docs.delete(id);
        this.update();
      },
      error: (e) => this.events.emit('error', e),
    };
    const session = new Kind(docId, ctx) as unknown as AnySession;
    return session;
  }

  /**
   * A session of `userId` starts: every document of theirs with stored
   * edits that is not open gets a background session that sends them
   * (sendStoredEdits). Never throws: failures go to the `error` event.
   */
  private sendStored(userId: string): void {
    if (this.opts.sendStoredEdits === false || !this.store) return;
    const generation = this.generation;
    // In a task of its own: what it reports reaches an `error` listener the
    // app adds as soon as WeftClient.create() resolves.
    const run = new Promise<void>((resolve) => setTimeout(resolve, 0))
      .then(() => this.scanStored(userId, generation))
      .catch((e) => this.events.emit('error', new StorageError(`reading the stored edits failed: ${String(e)}`, '', 'edit', e)));
    this.scanning = Promise.all([this.scanning, run]).then(() => undefined);
  }

  private async scanStored(userId: string, generation: number): Promise<void> {
    const current = () => generation === this.generation && this.auth.user?.id === userId;
    if (!current()) return;
    const found = await this.store!.pendingDocs(userId);
    for (const { docId, kind: stored } of found) {
      if (!current()) return;
      if (this.docs.has(docId) || !isValidDocId(docId)) continue;
      const kind = stored ?? (await this.kindFromServer(docId));
      if (!kind || !current() || this.docs.has(docId)) continue;
      this.startBackground(docId, kind === 'text' ? TextHandle : StructHandle, userId);
    }
  }

  /**
   * The kind of a document whose stored records do not say (written by an
   * older SDK, with no copy that says): asked of the server, never
   * guessed (edits sent to the wrong engine would be refused and rolled
   * back). Null when it cannot be known now: offline, it is asked again
   * when the connection opens; a refusal is reported and the records stay
   * stored (sent, or discarded as the server says, when the document is
   * opened).
   */
  private async kindFromServer(docId: string): Promise<DocKind | null> {
    try {
      const info = await this.api.documents.get(docId);
      return info.kind === 'text' ? 'text' : 'struct';
    } catch (e) {
      const status = e instanceof WeftApiError ? e.status : 0;
      if (status === 0 || status === 401 || status === 429 || status >= 500) {
        this.rescan = true;
        return null;
      }
      const why = e instanceof Error ? e.message : String(e);
      this.events.emit('error', new SyncError(status, `the stored edits of ${docId} were not sent: asking its kind failed (${why})`, docId));
      return null;
    }
  }

  /** A session for the stored edits of a document the app has not opened: it lingers until they are acknowledged. */
  private startBackground(docId: string, Kind: typeof TextHandle | typeof StructHandle, userId: string): void {
    const session = this.createSession(docId, Kind, userId);
    const ready = (async () => {
      try {
        await session.init();
      } catch (e) {
        // Closed meanwhile (sign-out, client.close()): nothing to say.
        if (!session.isClosed) {
          this.events.emit('error', new StorageError(`reading the stored edits of ${docId} failed: ${String(e)}`, docId, 'edit', e));
          session.closeNow();
        }
        return session;
      }
      session.startInBackground();
      if (!session.isClosed) {
        this.conn.start();
        if (this.conn.isOpen) session.connected();
      }
      return session;
    })();
    this.docs.set(docId, { session, ready, background: true });
  }

  private route(m: ServerMessage): void {
    if (m.type === 'subscribed') this.conn.subscribeAccepted();
    const doc = 'doc' in m ? m.doc : '';
    const entry = doc ? this.docs.get(doc) : undefined;
    if (entry) entry.session.handle(m);
    else if (m.type === 'error') this.events.emit('error', new SyncError(m.code, m.message, m.doc));
  }

  private async closeAll(): Promise<void> {
    const sessions = [...this.docs.values()].map((d) => d.session);
    // A local storage that hangs must not hang sign-out: the copies get a
    // few seconds (the edits' own records are written already or never).
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(sessions.map((s) => s.save())),
      new Promise((resolve) => (timer = setTimeout(resolve, kCloseSaveWaitMs))),
    ]);
    clearTimeout(timer);
    for (const s of sessions) s.closeNow(); // sign-out and client.close() cannot wait
  }

  private update(): void {
    let pending = 0;
    let busy = false;
    for (const { session } of this.docs.values()) {
      pending += session.pending;
      busy ||= !session.isSynced;
    }
    const status: ConnectionStatus = !this.conn.isOpen ? 'offline' : busy || pending > 0 ? 'syncing' : 'online';
    if (status === this.current.status && pending === this.current.pending) return;
    this.current = { status, pending };
    this.events.emit('status', this.current);
  }
}
