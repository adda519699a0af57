// One open document: its engine replica, its in-flight queue, its place in
// the server's sequence, its presence, and what it keeps in local storage.
// DocSession holds the protocol logic (subscribe, resume, ack, errors,
// rollback); TextHandle and StructHandle add the engine-specific edits and
// events. README.md, "Offline edits and sync semantics", is the contract.

import { type Change, encodeTextStateVector, type Role, type ServerMessage } from './codec.js';
import type { Connection } from './connection.js';
import type { ContainerRef, EngineDoc, EngineTextDoc, ItemId, StructChange, Value, WeftModule } from './engine.js';
import { randomClientId } from './engine.js';
import { Emitter } from './emitter.js';
import { ReadOnlyError, StorageError, SyncError } from './errors.js';
import { PresenceHandle, type PresenceHost, type WireAnchor } from './presence.js';
import { resendOrder } from './pending_order.js';
import { kMaxChangeBytes, PendingQueue } from './queue.js';
import type { DocKind, LocalStore, PendingRecord } from './storage.js';
import { TextRope } from './rope.js';
import { codePointLength, diffStrings, mapPosition, PositionIndex, type TextChange, wellFormed } from './unicode.js';

export type Origin = 'local' | 'remote';

/** What a session needs from the client. */
export interface SessionContext {
  conn: Connection;
  store: LocalStore | null;
  userId: string;
  engine: WeftModule;
  presenceThrottleMs: number;
  /** The document's pending count or phase changed: recompute the client's status. */
  changed(): void;
  /** The session closed (by the app or the server). */
  closed(id: string): void;
  /** Reports an error that concerns no handle's listener in particular. */
  error(e: SyncError): void;
}

/** Wait this long after a change before saving the local copy. */
const kSaveDelayMs = 250;
/** Give up resending after this many out_of_order answers in a row: roll back. */
const kMaxOutOfOrder = 3;

type Phase = 'offline' | 'subscribing' | 'synced' | 'closed';

/** What a local change needs of an engine (Doc and TextDoc both have it). */
type LocalEngine = Pick<EngineDoc, 'opCount' | 'clientStateVector' | 'clientDiff'>;

/** `C` is the type of the handle's change events. */
export abstract class DocSession<C> {
  /** The engine of the document: 'text' (TextHandle) or 'struct' (StructHandle). */
  abstract readonly kind: DocKind;
  readonly presence: PresenceHandle;
  role: Role | null = null;
  protected clientId = randomClientId();
  protected readonly queue = new PendingQueue();
  protected lastSeq = 0;
  protected phase: Phase = 'offline';
  protected readonly events = new Emitter<{ change: C; rejected: SyncError }>();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private retryDelay = 1000;
  private outOfOrder = 0;
  /**
   * Errors before the pong of the latest barrier answer messages sent
   * before the session decided to send its whole queue again (resendAll):
   * out_of_order, rate_limited and unavailable then say nothing the resend
   * will not be answered for itself.
   */
  private staleAnswers = false;
  private barrierGen = 0;
  /**
   * Queued changes whose pending record is not stored: being written
   * (`storing`, each promise settles when its write ends) or refused
   * (`unstored`, until the server acknowledges them). The local copy is
   * saved only when every change it holds has its record: a copy holding
   * an edit without one would, after a reload, show the edit and never
   * send it.
   */
  private readonly storing = new Map<string, Promise<void>>();
  private readonly unstored = new Set<string>();
  /** A save in progress (save()), so that finish() frees the engine after it. */
  private saving: Promise<void> | null = null;
  /** A save was asked for while one ran: it runs once more. */
  private saveAgain = false;
  private freed = false;
  /** Resolved when the session ends (a lingering one: when its edits are safe). */
  private readonly ended: Promise<void>;
  private endedResolve!: () => void;
  /**
   * Closed by the app while some of its edits are not acknowledged (queued,
   * being stored, or refused by local storage): it stays subscribed (or
   * subscribes once back online), invisible to the app, sends them, and
   * ends once they are all acknowledged (lingerDone), or until the app
   * opens the document again and gets it back (revive). Nothing else would
   * send a closed document's stored queue before it is opened again.
   */
  private lingering = false;
  /**
   * Started by the client for a document with stored edits the app has
   * not opened (WeftClient, sendStoredEdits): no app listens to it, so
   * what would be a `rejected` event goes to the client's `error` event.
   * Until the app opens the document (revive).
   */
  private background = false;
  /** A failure to save the local copy was reported; not again until a save succeeds. */
  private copyFailureReported = false;
  /** When the retry timer fires: subscribe again rather than resend (retryLater). */
  private retryResubscribe = false;
  /** (client id, seq) pairs resendLost has answered, so it never loops. */
  private readonly resent = new Set<string>();
  private flushQueued = false;
  /** A subscribe is on its way: what arrives before its `subscribed` belongs to an older subscription. */
  private awaitingSubscribed = false;
  /** init() has restored the local copy: only then may the session subscribe. */
  private initialized = false;
  private syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private firstSync: { resolve: () => void; reject: (e: Error) => void } | null = null;

  constructor(
    readonly id: string,
    protected readonly ctx: SessionContext,
  ) {
    this.ended = new Promise((resolve) => (this.endedResolve = resolve));
    const host: PresenceHost = {
      toWire: (p) => this.presenceToWire(p),
      fromWire: (p) => this.presenceFromWire(p),
      anchor: (p) => this.presenceAnchor(p),
      resolve: (a) => this.presenceResolve(a),
      // A lingering session sends one thing: the empty state that takes its presence back.
      send: (state) =>
        this.phase === 'synced' && (!this.lingering || state.length === 0) && this.ctx.conn.send({ type: 'presence', doc: this.id, state }),
      throttleMs: ctx.presenceThrottleMs,
      budget: () => this.ctx.conn.presenceWait(),
    };
    this.presence = new PresenceHandle(host);
  }

  /** True for viewers: edits throw ReadOnlyError. */
  get readOnly(): boolean {
    return this.role === 'viewer';
  }

  /** Local changes not yet acknowledged. */
  get pending(): number {
    return this.queue.size;
  }

  /** Caught up with the server (and subscribed). */
  get isSynced(): boolean {
    return this.phase === 'synced';
  }

  /** 'change' (local and remote edits) or 'rejected' (the server refused our edits or the document). */
  on<K extends 'change' | 'rejected'>(event: K, cb: (v: { change: C; rejected: SyncError }[K]) => void): () => void {
    return this.events.on(event, cb);
  }

  /** Resolves when subscribed, caught up, and every local edit so far is acknowledged. */
  whenSynced(): Promise<void> {
    if (this.phase === 'closed' || this.lingering) return Promise.reject(new SyncError(0, 'document closed', this.id));
    if (this.phase === 'synced' && this.queue.size === 0) return Promise.resolve();
    return new Promise((resolve, reject) => this.syncWaiters.push({ resolve, reject }));
  }

  /**
   * Unsubscribes and frees the engine; the local copy stays in storage.
   * Edits the server has not acknowledged go on being sent in the
   * background first (see lingering); their records stay stored until then.
   */
  close(): void {
    if (this.phase === 'closed' || this.lingering) return;
    const closed = new SyncError(0, 'document closed', this.id);
    if (this.owesEdits()) {
      this.lingering = true;
      this.events.clear();
      this.presence.suspend();
      this.firstSync?.reject(closed);
      this.firstSync = null;
      for (const w of this.syncWaiters) w.reject(closed);
      this.syncWaiters = [];
      this.ctx.changed();
      return;
    }
    this.closeNow();
  }

  /** Closes at once, lingering or not (sign-out, client.close()). */
  closeNow(): void {
    if (this.phase === 'closed') return;
    if (this.phase !== 'offline') this.ctx.conn.send({ type: 'unsubscribe', doc: this.id });
    this.finish(new SyncError(0, 'document closed', this.id));
  }

  /** Closed by the app but still lingering: the app opened it again. */
  get isLingering(): boolean {
    return this.lingering;
  }

  get isClosed(): boolean {
    return this.phase === 'closed';
  }

  revive(): void {
    this.lingering = false;
    this.background = false;
    this.presence.resume();
    this.ctx.changed();
  }

  /** Resolves when a lingering session's edits are acknowledged (client.whenSynced), or it is ended. */
  untilEnded(): Promise<void> {
    return this.ended;
  }

  /**
   * After init(): the client started this session for its stored edits
   * only. As if the app had opened and closed it at once: it lingers
   * while it owes edits, else ends now.
   */
  startInBackground(): void {
    this.background = true;
    this.close();
  }

  /** The server refused the document or our edits: the handle's `rejected`, or the client's `error` for a background session. */
  private rejected(e: SyncError): void {
    if (this.background) this.ctx.error(e);
    else this.events.emit('rejected', e);
  }

  /** Edits that existed only in this session were dropped: say so (nobody else will). */
  private reportDropped(n: number, why: string): void {
    if (n === 0) return;
    this.ctx.error(new StorageError(`${n} edit(s) of ${this.id} neither stored locally nor acknowledged were dropped: ${why}`, this.id, 'edit'));
  }

  /** Edits not yet acknowledged (queued, or their record still being written or refused). */
  private owesEdits(): boolean {
    return this.queue.size > 0 || this.storing.size > 0 || this.unstored.size > 0;
  }

  /** A lingering session whose edits are all acknowledged now closes. */
  private lingerDone(): void {
    if (this.lingering && !this.owesEdits()) this.closeNow();
  }

  // --- engine-specific parts ---

  protected abstract load(snapshot: Uint8Array | null): void;
  protected abstract applyRemote(update: Uint8Array): void;
  /** Replaces the replica by the server's snapshot merged with our own operations. */
  protected abstract mergeSnapshot(state: Uint8Array): void;
  /** Drops the replica for an empty one (rollback), with a new client id. */
  protected abstract reset(clientId: number): void;
  protected abstract snapshot(): Uint8Array;
  protected abstract free(): void;
  protected abstract presenceToWire(p: number): number;
  protected abstract presenceFromWire(p: number): number;
  /** Anchors tie presence positions to characters (texts); others have none. */
  protected presenceAnchor(_p: number): WireAnchor | undefined {
    return undefined;
  }
  protected presenceResolve(_a: WireAnchor): number | undefined {
    return undefined;
  }

  // --- lifecycle, called by the client ---

  /** Restores the local copy and queue; true when there was a local copy. */
  async init(): Promise<boolean> {
    const saved = this.ctx.store ? await this.ctx.store.loadDoc(this.ctx.userId, this.id) : null;
    // Closed meanwhile (the app closed it, signed out): open* rejects.
    if (this.phase === 'closed') throw new SyncError(0, 'document closed', this.id);
    let doc = saved?.doc ?? null;
    if (doc) {
      try {
        this.load(doc.snapshot);
      } catch (e) {
        // A copy the engine cannot read (corrupt, or written by a newer
        // engine) would fail every open: it is discarded and reported, and
        // the document subscribes from 0. Its queued edits stay.
        this.ctx.error(new StorageError(`the local copy of ${this.id} cannot be read and was discarded: ${String(e)}`, this.id, 'copy', e));
        void this.ctx.store?.dropDoc(this.ctx.userId, this.id, []).catch(() => undefined);
        doc = null;
      }
    }
    if (!doc) this.load(null);
    if (doc) {
      this.lastSeq = doc.seq;
      this.role = doc.role ?? null;
    }
    for (const p of resendOrder(saved?.pending ?? [])) {
      const change: Change = { clientId: p.clientId, firstSeq: p.firstSeq, span: p.span, update: p.update };
      try {
        this.applyRemote(change.update); // usually already in the snapshot: a no-op
      } catch {
        // Not applicable here (its copy was discarded): the server still judges it.
      }
      this.queue.add(change);
    }
    this.initialized = true;
    return doc != null || (saved?.pending.length ?? 0) > 0;
  }

  /** Resolves on the first `synced`, rejects when the server refuses the subscription. */
  firstSynced(): Promise<void> {
    if (this.phase === 'synced') return Promise.resolve();
    if (this.phase === 'closed') return Promise.reject(new SyncError(0, 'document closed', this.id));
    return new Promise((resolve, reject) => (this.firstSync = { resolve, reject }));
  }

  /**
   * The connection is welcomed: subscribe from the last sequence number we
   * hold. Once per connection, and only after init(): the client calls it
   * both when the connection opens and when init() ends with the
   * connection already open, and a second subscribe would be refused
   * (`already subscribed`), leaving the session waiting for ever.
   */
  connected(): void {
    if (!this.initialized || this.phase !== 'offline') return;
    this.subscribe();
  }

  private subscribe(): void {
    this.phase = 'subscribing';
    this.awaitingSubscribed = true;
    this.resendAll();
    this.ctx.conn.send({ type: 'subscribe', doc: this.id, sinceSeq: this.lastSeq });
    this.ctx.changed();
  }

  disconnected(): void {
    if (this.phase === 'closed') return;
    this.phase = 'offline';
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.retryResubscribe = false;
    this.retryDelay = 1000; // a new connection starts the backoff over
    this.staleAnswers = false;
    this.barrierGen++;
    this.presence.clearPeers();
    this.ctx.changed();
  }

  handle(m: ServerMessage): void {
    // Offline, this session has no subscription: what arrives (say, the
    // answers to an earlier session's subscribe of the same document while
    // this one still loads its local copy) is not for it.
    if (this.phase === 'closed' || this.phase === 'offline') return;
    if (this.awaitingSubscribed && (m.type === 'ops' || m.type === 'snapshot' || m.type === 'synced')) return;
    switch (m.type) {
      case 'subscribed':
        this.awaitingSubscribed = false;
        this.role = m.role;
        // The server holds less than we do (restored from a backup, or a
        // store that lost its data): it resends from its snapshot or from
        // 0, and will number new changes with seqs we think we hold. Take
        // everything it sends; the engine skips what it has.
        if (m.headSeq < this.lastSeq) this.lastSeq = 0;
        break;
      case 'snapshot':
        try {
          this.mergeSnapshot(m.state);
        } catch (err) {
          this.refuseSnapshot(err);
          return;
        }
        this.lastSeq = m.lastIncludedSeq;
        this.scheduleSave();
        break;
      case 'ops':
        this.ops(m.firstSeq, m.changes);
        break;
      case 'synced':
        this.lastSeq = Math.max(this.lastSeq, m.seq);
        this.phase = 'synced';
        this.retryDelay = 1000; // the subscription works: the backoff starts over
        this.firstSync?.resolve();
        this.firstSync = null;
        this.presence.resend();
        this.flush();
        this.settle();
        break;
      case 'ack':
        this.acked(m.entries.map((e) => ({ clientId: e.clientId, firstSeq: e.firstSeq, serverSeq: e.serverSeq })));
        break;
      case 'presence_of':
        this.presence.received(m.sessionId, m.state);
        break;
      case 'presence_gone':
        this.presence.gone(m.sessionId);
        break;
      case 'unsubscribed': {
        if (m.code === 429 || m.code === 503) {
          // Nothing was lost and the code says retry: subscribe again
          // after a backoff; the queue is kept. Not subscribed meanwhile,
          // no presence_gone comes for peers who leave: they go now, and
          // the new subscription brings back those still there.
          this.presence.clearPeers();
          this.phase = 'subscribing';
          this.awaitingSubscribed = true;
          this.retryLater(true);
          break;
        }
        const e = new SyncError(m.code, m.message, this.id);
        // Deleted, or access removed: what is queued can never be sent.
        // Any other code closes the handle but keeps the queue stored.
        if (m.code === 404 || m.code === 410) this.discardLocal();
        this.rejected(e);
        this.finish(e);
        break;
      }
      case 'error':
        this.error(new SyncError(m.code, m.message, this.id), m.expectedSeq);
        break;
      default:
        break;
    }
    this.ctx.changed();
  }

  /**
   * The server's snapshot cannot be read by our engine (corrupt, or a
   * newer format): the replica lacks what it holds, so the handle may not
   * go on as if caught up (a `synced` would advance the saved seq past it,
   * and every later resume would skip it), and subscribing again would
   * bring the same snapshot. The handle closes with `rejected` (code 422)
   * and the error is reported; the local copy (at the seq it had) and the
   * queue stay stored.
   */
  private refuseSnapshot(err: unknown): void {
    const e = new SyncError(422, `the server's snapshot of ${this.id} cannot be read: ${String(err)}`, this.id);
    this.ctx.error(e);
    this.ctx.conn.send({ type: 'unsubscribe', doc: this.id });
    this.events.emit('rejected', e);
    this.finish(e);
  }

  // --- edits ---

  protected checkWritable(): void {
    if (this.phase === 'closed' || this.lingering) throw new SyncError(0, 'document closed', this.id);
    if (this.readOnly) throw new ReadOnlyError(`document ${this.id} is read-only for this user`);
  }

  /**
   * Runs a local edit on the engine and turns the operations it added into
   * one change: queued, stored, sent. Returns the edit's result.
   */
  protected commit<T>(engine: LocalEngine, edit: () => T): T {
    this.checkWritable();
    // This client's own state vector, not the document's: a keystroke then
    // costs what it changes, not the number of clients the document has had.
    const before = engine.clientStateVector(this.clientId);
    const first = engine.opCount(this.clientId);
    try {
      return edit();
    } finally {
      // Also when a later step of a transaction threw: what the engine did is sent.
      this.queueLocal(engine, before, first);
    }
  }

  private queueLocal(
    engine: LocalEngine,
    before: Uint8Array,
    first: number,
  ): void {
    const span = engine.opCount(this.clientId) - first;
    if (span > 0) {
      const change: Change = { clientId: this.clientId, firstSeq: first, span, update: engine.clientDiff(this.clientId, before) };
      this.queue.add(change);
      this.storePending(change);
      this.scheduleSave();
      this.flushSoon();
      this.ctx.changed();
    }
  }

  /** Edits of one task go out in one submit. */
  private flushSoon(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      this.flush();
    });
  }

  // --- protocol ---

  private ops(firstSeq: number, changes: Change[]): void {
    if (firstSeq > this.lastSeq + 1) {
      // A gap in the server's sequence: should not happen; resubscribe from what we hold.
      this.resubscribe();
      return;
    }
    changes.forEach((c, i) => {
      const seq = firstSeq + i;
      if (seq <= this.lastSeq) return; // already have it (resent after resume)
      this.lastSeq = seq;
      // Our own changes too: the engine skips what it holds, and a replica
      // restored from an older local copy (or another tab's) may lack some
      // of a client id's changes that the server has.
      try {
        this.applyRemote(c.update);
      } catch (e) {
        // The server sent bytes our engine refuses: report, skip the change.
        this.ctx.error(new SyncError(422, `server change ${seq} refused: ${String(e)}`, this.id));
      }
    });
    this.scheduleSave();
  }

  private acked(entries: { clientId: number; firstSeq: number; serverSeq: number }[]): void {
    const removed = this.queue.ack(entries);
    this.outOfOrder = 0;
    this.retryDelay = 1000;
    const hadUnstored = this.unstored.size > 0;
    for (const c of removed) {
      this.unstored.delete(`${c.clientId}:${c.firstSeq}`);
      void this.ctx.store?.removePending(this.ctx.userId, this.id, c.clientId, c.firstSeq).catch(() => undefined);
    }
    if (hadUnstored && this.unstored.size === 0) this.scheduleSave(); // held back until now
    this.lingerDone();
    this.settle();
  }

  private error(e: SyncError, expectedSeq: number): void {
    // A submit sent before the latest resendAll: the resend gets its own
    // answer. Counting these (one rate_limited submit, then every submit
    // already on its way answered out_of_order) rolled back every
    // unacknowledged edit.
    if (this.staleAnswers && (e.code === 409 || e.code === 429 || e.code === 503)) return;
    switch (e.code) {
      case 404:
        // Answering our subscribe: the document was deleted or our access
        // removed (while we were offline, say). What is queued can never
        // be sent and the copy never resumed: forgotten, as on
        // `unsubscribed` 404/410.
        if (this.awaitingSubscribed) this.discardLocal();
        if (this.firstSync) {
          this.firstSync.reject(e);
          this.firstSync = null;
        }
        this.rejected(e);
        this.finish(e);
        return;
      case 409: // out_of_order: resend what is queued
        if (this.resendLost(expectedSeq)) {
          this.resendAll();
          this.flush();
          return;
        }
        if (++this.outOfOrder > kMaxOutOfOrder) {
          this.rollback(e);
          return;
        }
        this.resendAll();
        this.flush();
        return;
      case 403: // forbidden: we are a viewer now
        this.role = 'viewer';
        this.rollback(e);
        return;
      case 413:
      case 422:
        this.rollback(e);
        return;
      case 429:
      case 503:
        // Try again later: the subscribe itself when it was refused (the
        // document could not be loaded), else what is queued.
        this.retryLater(this.phase === 'subscribing');
        return;
      default:
        this.ctx.error(e);
    }
  }

  /**
   * Resends the queue after a backoff, or subscribes again when the
   * subscription was refused. Which one is decided when the timer fires:
   * an error that came while a resubscribe was on its way may have been
   * the answer to an earlier submit, and the subscription may be live by
   * then.
   */
  private retryLater(resubscribe: boolean): void {
    this.resendAll();
    this.retryResubscribe ||= resubscribe;
    // A retry already waiting covers this one too: restarting it on every
    // error would hold the queue back for as long as errors keep coming.
    if (this.retryTimer) return;
    // ±50 % jitter: the documents (and clients) refused together do not come back together.
    const delay = this.retryDelay * (0.5 + Math.random());
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      const again = this.retryResubscribe;
      this.retryResubscribe = false;
      if (this.phase === 'synced') this.flush();
      else if (again && this.phase === 'subscribing' && this.awaitingSubscribed) this.subscribe();
    }, delay);
    this.retryDelay = Math.min(this.retryDelay * 2, 30_000);
  }

  /**
   * The whole queue goes out again: marked unsent, behind a barrier
   * (Connection.barrier) so that errors answering what was sent before
   * are known as stale. A later barrier supersedes an earlier one: pongs
   * come in order, so its pong also ends what the earlier one covered.
   */
  private resendAll(): void {
    this.queue.markAllUnsent();
    const gen = ++this.barrierGen;
    this.staleAnswers = this.ctx.conn.barrier(() => {
      if (gen === this.barrierGen) this.staleAnswers = false;
    });
  }

  /**
   * out_of_order with `expected` below where our queue starts: the server
   * lost operations it had acknowledged (restored from a backup). When one
   * client id of the queue is the one that can be behind and the replica
   * still holds its operations from `expected` on, they go out again as one
   * change in front of the queue (the queued ones then count as resends).
   * Once per (client id, seq); false when it does not apply.
   */
  private resendLost(expected: number): boolean {
    const firstOf = new Map<number, number>();
    for (const c of this.queue.changes()) firstOf.set(c.clientId, Math.min(firstOf.get(c.clientId) ?? Infinity, c.firstSeq));
    const behind = [...firstOf].filter(([, first]) => first > expected);
    if (behind.length !== 1) return false;
    const clientId = behind[0][0];
    const key = `${clientId}:${expected}`;
    if (this.resent.has(key)) return false;
    const change = this.changeFrom(clientId, expected);
    if (!change) return false;
    this.resent.add(key);
    this.queue.addFirst(change);
    this.storePending(change);
    return true;
  }

  /**
   * The operations of `clientId` from `seq` on that the replica holds, as
   * one change; null when it holds none or cannot encode them.
   */
  protected changeFrom(_clientId: number, _seq: number): Change | null {
    return null;
  }

  /**
   * The server refused our edits: drop the queue and the local copy and
   * resubscribe from 0, so the replica is exactly the server's state again.
   */
  private rollback(e: SyncError): void {
    if (this.lingering) this.reportDropped(this.unstored.size, `the server refused them (${e.codeName})`);
    const dropped = this.queue.clear();
    this.unstored.clear();
    queueMicrotask(() => this.lingerDone());
    this.outOfOrder = 0;
    // Only what this session drops: another tab on the same storage may
    // have queued changes since this one loaded, and still owes them.
    void this.ctx.store?.dropDoc(this.ctx.userId, this.id, dropped).catch(() => undefined);
    this.clientId = randomClientId();
    this.reset(this.clientId);
    this.lastSeq = 0;
    this.resubscribe();
    this.rejected(e);
    this.settle();
  }

  private resubscribe(): void {
    if (this.phase === 'offline' || this.phase === 'closed') return;
    this.ctx.conn.send({ type: 'unsubscribe', doc: this.id });
    this.presence.clearPeers();  // as after unsubscribed 503
    this.subscribe();
  }

  /** Submits what is unsent, when subscribed and caught up. */
  protected flush(): void {
    if (this.phase !== 'synced' || this.retryTimer) return;
    for (const batch of this.queue.takeUnsent()) {
      if (batch.length === 1 && batch[0].update.length > kMaxChangeBytes) {
        // The server would close the connection (1009) on every resend:
        // refuse it here, as the server's too_large would.
        this.rollback(new SyncError(413, `a change of ${batch[0].update.length} bytes is over the message size limit`, this.id));
        return;
      }
      if (!this.ctx.conn.send({ type: 'submit', doc: this.id, changes: batch })) {
        this.queue.markAllUnsent();
        return;
      }
    }
  }

  private settle(): void {
    if (this.phase !== 'synced' || this.queue.size > 0) return;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w.resolve();
  }

  private scheduleSave(): void {
    if (!this.ctx.store || this.saveTimer) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, kSaveDelayMs);
  }

  /** Writes the local copy now (also on close). */
  save(): Promise<void> {
    // Not before init() restored the copy: there is nothing new to write
    // (closing or signing out while the document is still opening).
    const store = this.ctx.store;
    if (!store || this.phase === 'closed' || !this.initialized) return Promise.resolve();
    if (this.saving) {
      this.saveAgain = true; // after the one running, with what came since
      return this.saving;
    }
    const run = (async () => {
      do {
        this.saveAgain = false;
        await this.saveCopy(store);
      } while (this.saveAgain && !this.freed);
    })().finally(() => {
      this.saving = null;
    });
    this.saving = run;
    return run;
  }

  private async saveCopy(store: LocalStore): Promise<void> {
    if (this.freed) return;
    // The snapshot holds the changes queued so far: once the records being
    // written now have landed (later ones are not in it), every change it
    // holds has its record, unless one was refused.
    const rec = { userId: this.ctx.userId, docId: this.id, snapshot: this.snapshot(), seq: this.lastSeq, role: this.role, kind: this.kind };
    await Promise.all([...this.storing.values()]);
    if (this.unstored.size > 0) return;
    try {
      await store.saveDoc(rec);
      this.copyFailureReported = false;
    } catch (e) {
      if (this.copyFailureReported) return;
      this.copyFailureReported = true;
      this.ctx.error(new StorageError(`saving the local copy of ${this.id} failed: ${String(e)}`, this.id, 'copy', e));
    }
  }

  /** Stores a queued change so that it survives a reload; a refusal is reported (StorageError). */
  private storePending(change: Change): void {
    const store = this.ctx.store;
    if (!store) return;
    const key = `${change.clientId}:${change.firstSeq}`;
    const rec: PendingRecord = { ...change, userId: this.ctx.userId, docId: this.id, at: Date.now(), kind: this.kind };
    const write: Promise<void> = store.addPending(rec).then(
      () => {
        this.unstored.delete(key); // stored on a later try
      },
      (e) => {
        // Acknowledged meanwhile (or rolled back): nothing is owed.
        if (!this.queue.has(change.clientId, change.firstSeq)) return;
        this.unstored.add(key);
        this.ctx.error(new StorageError(`storing an edit of ${this.id} offline failed: ${String(e)}`, this.id, 'edit', e));
      },
    );
    this.storing.set(key, write);
    void write.finally(() => {
      if (this.storing.get(key) === write) this.storing.delete(key);
      this.lingerDone();
    });
  }

  private discardLocal(): void {
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined; // nothing may write the copy back
    this.queue.clear();
    void this.ctx.store?.clearDoc(this.ctx.userId, this.id).catch(() => undefined);
  }

  private finish(e: SyncError): void {
    // Left only here (deleted, access removed, sign-out): lost now.
    this.reportDropped(this.unstored.size, e.message);
    this.lingering = false;
    this.endedResolve();
    const release = () => {
      this.freed = true;
      this.free();
    };
    if (this.saveTimer) {
      clearTimeout(this.saveTimer);
      this.saveTimer = undefined;
      void this.save().finally(release);
    } else if (this.saving) {
      void this.saving.finally(release);
    } else {
      release();
    }
    this.phase = 'closed';
    clearTimeout(this.retryTimer);
    this.presence.dispose();
    this.firstSync?.reject(e);
    this.firstSync = null;
    for (const w of this.syncWaiters) w.reject(e);
    this.syncWaiters = [];
    this.ctx.closed(this.id);
    this.ctx.changed();
  }
}

// ---------------------------------------------------------------------------

export interface TextChangeEvent {
  /** In UTF-16 units; each relative to the text after the previous ones. */
  changes: TextChange[];
  origin: Origin;
}

/** A text document (TextDoc). Positions in UTF-16 code units. */
export class TextHandle extends DocSession<TextChangeEvent> {
  readonly kind = 'text';
  private doc!: EngineTextDoc;
  /** The text as JS sees it, kept equal to doc.text(). */
  private str = new TextRope();
  /** Code point ↔ UTF-16 offsets of str, kept with it. */
  private at = new PositionIndex();

  value(): string {
    return this.str.toString();
  }

  get length(): number {
    return this.str.length;
  }

  insert(pos: number, text: string): void {
    if (text.length === 0) return;
    // A lone surrogate has no UTF-8 form: the engine would mangle it (and
    // the next character), so it goes in as U+FFFD on both sides.
    const s = wellFormed(text);
    const cp = this.at.toCodePoint(pos);
    this.checkWritable();
    this.commit(this.doc, () => this.doc.insert(cp, s));
    this.local([{ pos, deleted: 0, inserted: s }], cp, 0, codePointLength(s));
  }

  delete(pos: number, len: number): void {
    if (len <= 0) return;
    const cp = this.at.toCodePoint(pos);
    const cpLen = this.at.toCodePoint(pos + len) - cp;
    this.checkWritable();
    this.commit(this.doc, () => this.doc.remove(cp, cpLen));
    this.local([{ pos, deleted: len, inserted: '' }], cp, cpLen, 0);
  }

  private local(changes: TextChange[], cp: number, deleted: number, insertedLength: number): void {
    const c = changes[0];
    this.str.splice(c.pos, c.pos + c.deleted, c.inserted);
    this.at.splice(cp, deleted, c.inserted);
    this.presence.mapPositions((p) => mapPosition(p, { pos: cp, deleted, insertedLength }));
    this.presence.positionsMoved();
    this.events.emit('change', { changes, origin: 'local' });
  }

  protected load(snapshot: Uint8Array | null): void {
    const doc = snapshot
      ? this.ctx.engine.TextDoc.load(snapshot, this.clientId)
      : new this.ctx.engine.TextDoc(this.clientId);
    // The engine builds a loaded document on first use; build it now, so
    // that a bad local copy is refused here, where it is expected, and not
    // by the first remote change or keystroke.
    try {
      doc.opCount(this.clientId);
    } catch (e) {
      doc.delete();
      throw e;
    }
    this.doc = doc;
    const text = this.doc.text();
    this.str.reset(text);
    this.at = PositionIndex.of(text);
  }

  protected override changeFrom(clientId: number, seq: number): Change | null {
    const have = this.doc.opCount(clientId);
    if (have <= seq) return null;
    const update = this.doc.clientDiff(clientId, encodeTextStateVector(seq > 0 ? [[clientId, seq]] : []));
    return { clientId, firstSeq: seq, span: have - seq, update };
  }

  protected applyRemote(update: Uint8Array): void {
    const engineChanges = this.doc.applyUpdate(update);
    if (engineChanges.length === 0) return;
    if (engineChanges.length > 64) {
      this.replaceText(this.doc.text()); // many small changes: one event
      return;
    }
    const changes: TextChange[] = [];
    for (const c of engineChanges) {
      const pos = this.at.toUtf16(c.pos);
      const end = this.at.toUtf16(c.pos + c.deleted);
      this.str.splice(pos, end, c.inserted);
      this.at.splice(c.pos, c.deleted, c.inserted);
      changes.push({ pos, deleted: end - pos, inserted: c.inserted });
      const insertedLength = codePointLength(c.inserted);
      this.presence.mapPositions((p) => mapPosition(p, { pos: c.pos, deleted: c.deleted, insertedLength }));
    }
    this.presence.positionsMoved();
    this.events.emit('change', { changes, origin: 'remote' });
  }

  protected mergeSnapshot(state: Uint8Array): void {
    const next = this.ctx.engine.TextDoc.load(state, this.clientId);
    try {
      next.applyUpdateQuiet(this.doc.diff(next.stateVector()));
    } catch (e) {
      next.delete(); // a snapshot that fails to build
      throw e;
    }
    this.doc.delete();
    this.doc = next;
    this.replaceText(next.text());
  }

  protected reset(clientId: number): void {
    this.doc.delete();
    this.doc = new this.ctx.engine.TextDoc(clientId);
    this.replaceText('');
  }

  private replaceText(next: string): void {
    const c = diffStrings(this.str.toString(), next);
    this.str.reset(next);
    this.at = PositionIndex.of(next);
    if (!c) return;
    const cps = this.at.codePoints;
    this.presence.mapPositions((p) => Math.min(p, cps));
    this.presence.positionsMoved();
    this.events.emit('change', { changes: [c], origin: 'remote' });
  }

  protected snapshot(): Uint8Array {
    return this.doc.snapshot();
  }

  protected free(): void {
    this.doc?.delete(); // none yet when closed while still opening
  }

  protected presenceToWire(p: number): number {
    return this.at.toCodePoint(Math.max(0, Math.min(p, this.str.length)));
  }

  protected presenceFromWire(p: number): number {
    return this.at.toUtf16(p);
  }

  protected override presenceAnchor(p: number): WireAnchor {
    return this.doc.anchorAt(Math.max(0, Math.min(p, this.doc.length())));
  }

  protected override presenceResolve(a: WireAnchor): number | undefined {
    if (a === null) return this.doc.length();
    const p = this.doc.resolveAnchor(a[0], a[1], a.length === 3);
    return p < 0 ? undefined : p;
  }
}

// ---------------------------------------------------------------------------

export interface StructChangeEvent {
  origin: Origin;
  /**
   * What changed: a map's key, a list's item, or a text's content (neither
   * key nor item). Absent when the whole document may have changed (a
   * server snapshot merged, a rollback).
   */
  changes?: StructChange[];
}

/** A board or canvas (Doc): maps, lists and nested texts. Text positions in code points. */
export class StructHandle extends DocSession<StructChangeEvent> {
  readonly kind = 'struct';
  private doc!: EngineDoc;
  private depth = 0;
  /** What the edits of the current change touched. */
  private touched: StructChange[] = [];

  toJSON(): Record<string, unknown> {
    return JSON.parse(this.doc.toJson()) as Record<string, unknown>;
  }

  mapSet(map: ContainerRef, key: string, value: Value): ContainerRef | undefined {
    return this.edit(() => this.doc.mapSet(map, key, value), { container: map, key });
  }
  mapDelete(map: ContainerRef, key: string): void {
    this.edit(() => this.doc.mapDelete(map, key), { container: map, key });
  }
  mapContainer(map: ContainerRef, key: string): ContainerRef | undefined {
    return this.doc.mapContainer(map, key);
  }
  listInsert(list: ContainerRef, index: number, value: Value): ItemId {
    return this.edit(() => {
      const item = this.doc.listInsert(list, index, value);
      this.touched.push({ container: list, item });
      return item;
    });
  }
  listMove(list: ContainerRef, item: ItemId, index: number): void {
    this.edit(() => this.doc.listMove(list, item, index), { container: list, item });
  }
  listSet(list: ContainerRef, item: ItemId, value: Value): void {
    this.edit(() => this.doc.listSet(list, item, value), { container: list, item });
  }
  listDelete(list: ContainerRef, item: ItemId): void {
    this.edit(() => this.doc.listDelete(list, item), { container: list, item });
  }
  listIds(list: ContainerRef): ItemId[] {
    return this.doc.listIds(list);
  }
  textInsert(text: ContainerRef, pos: number, s: string): void {
    this.edit(() => this.doc.textInsert(text, pos, wellFormed(s)), { container: text });
  }
  textRemove(text: ContainerRef, pos: number, len: number): void {
    this.edit(() => this.doc.textRemove(text, pos, len), { container: text });
  }
  text(text: ContainerRef): string {
    return this.doc.text(text);
  }

  /** Runs several edits as one change with one event. */
  transact<T>(fn: () => T): T {
    return this.edit(fn);
  }

  /** Runs `fn` as one change (or as part of the enclosing transact) and reports `what` it touched. */
  private edit<T>(fn: () => T, what?: StructChange): T {
    const record = () => {
      const r = fn();
      if (what) this.touched.push(what);
      return r;
    };
    if (this.depth > 0) return record();
    this.depth++;
    this.touched = [];
    let done = false;
    try {
      const r = this.commit(this.doc, record);
      done = true;
      return r;
    } finally {
      const changes = this.touched;
      this.touched = [];
      this.depth--;
      // Also when a later step of a transaction threw: the steps before it
      // were applied (and are sent), so the UI hears of them. Emitted after
      // the transaction has ended, so that an edit made by a listener is a
      // change of its own (inside it, it would be applied but never sent).
      if (done || changes.length > 0) this.events.emit('change', { origin: 'local', changes });
    }
  }

  protected load(snapshot: Uint8Array | null): void {
    this.doc = snapshot ? this.ctx.engine.Doc.load(snapshot, this.clientId) : new this.ctx.engine.Doc(this.clientId);
  }

  protected applyRemote(update: Uint8Array): void {
    const changes = this.doc.applyUpdate(update);
    if (changes.length > 0) this.events.emit('change', { origin: 'remote', changes });
  }

  protected mergeSnapshot(state: Uint8Array): void {
    const next = this.ctx.engine.Doc.load(state, this.clientId);
    try {
      next.applyUpdate(this.doc.diff(next.stateVector()));
    } catch (e) {
      next.delete(); // a snapshot the engine refuses
      throw e;
    }
    this.doc.delete();
    this.doc = next;
    this.events.emit('change', { origin: 'remote' });
  }

  protected reset(clientId: number): void {
    this.doc.delete();
    this.doc = new this.ctx.engine.Doc(clientId);
    this.events.emit('change', { origin: 'remote' });
  }

  protected snapshot(): Uint8Array {
    return this.doc.snapshot();
  }

  protected free(): void {
    this.doc?.delete(); // none yet when closed while still opening
  }

  protected presenceToWire(p: number): number {
    return p;
  }

  protected presenceFromWire(p: number): number {
    return p;
  }
}
