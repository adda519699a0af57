// Where the SDK keeps what must survive a reload: the session (refresh
// token), each document's last known state (engine snapshot + the last
// server sequence number it includes) and the changes not yet
// acknowledged. Two implementations: IndexedDB, and memory (lost on
// reload; for tests and private windows). Records are keyed by user id,
// so two accounts on one browser never send each other's edits.

import type { Change, Role } from './codec.js';

export interface StoredSession {
  refreshToken: string;
  accessToken: string;
  /** Unix ms when the access token expires. */
  expiresAt: number;
  user: { id: string; email: string; display_name: string };
}

export interface DocRecord {
  userId: string;
  docId: string;
  snapshot: Uint8Array;
  /** Server sequence number the snapshot includes everything up to. */
  seq: number;
  /** The role the server last gave us, so a viewer's copy stays read-only offline. */
  role?: Role | null;
  /** Which engine the snapshot is of; absent in records of older SDKs. */
  kind?: DocKind;
}

/** A document's engine: 'text' (TextHandle) or 'struct' (StructHandle: boards, canvases). */
export type DocKind = 'text' | 'struct';

/** A document with stored edits not yet acknowledged (LocalStore.pendingDocs). */
export interface PendingDoc {
  docId: string;
  /** From its stored copy, else from its records; null when none says (records of older SDKs). */
  kind: DocKind | null;
}

export interface PendingRecord extends Change {
  userId: string;
  docId: string;
  /** Date.now() when the change was queued (resendOrder); absent in records of older SDKs. */
  at?: number;
  /** The document's engine, so that a queue stored without a copy can be sent; absent in records of older SDKs. */
  kind?: DocKind;
}

export interface LocalStore {
  loadSession(): Promise<StoredSession | null>;
  saveSession(s: StoredSession | null): Promise<void>;
  loadDoc(userId: string, docId: string): Promise<{ doc: DocRecord | null; pending: PendingRecord[] }>;
  saveDoc(rec: DocRecord): Promise<void>;
  addPending(rec: PendingRecord): Promise<void>;
  removePending(userId: string, docId: string, clientId: number, firstSeq: number): Promise<void>;
  /**
   * The documents of `userId` that have queued changes stored, and their
   * kind (client start: they are sent in the background).
   */
  pendingDocs(userId: string): Promise<PendingDoc[]>;
  /** Forgets a document: its state and its queue. */
  clearDoc(userId: string, docId: string): Promise<void>;
  /**
   * A rollback: forgets the document's state and the named queued changes,
   * and only those. Other tabs sharing the store may have queued changes
   * of their own since; those stay.
   */
  dropDoc(userId: string, docId: string, changes: { clientId: number; firstSeq: number }[]): Promise<void>;
  /** Forgets everything of a user (sign-out with discardOffline). */
  clearUser(userId: string): Promise<void>;
}

export class MemoryStore implements LocalStore {
  private session: StoredSession | null = null;
  private docs = new Map<string, DocRecord>();
  private pending = new Map<string, PendingRecord>();

  async loadSession() {
    return this.session;
  }
  async saveSession(s: StoredSession | null) {
    this.session = s;
  }
  async loadDoc(userId: string, docId: string) {
    const prefix = JSON.stringify([userId, docId]).slice(0, -1);
    const pending = [...this.pending.entries()]
      .filter(([k]) => k.startsWith(prefix + ','))
      .map(([, v]) => v)
      .sort((a, b) => a.clientId - b.clientId || a.firstSeq - b.firstSeq);
    return { doc: this.docs.get(JSON.stringify([userId, docId])) ?? null, pending };
  }
  async pendingDocs(userId: string) {
    const prefix = JSON.stringify([userId]).slice(0, -1) + ',';
    const found = new Map<string, DocKind | null>();
    for (const [k, p] of this.pending) {
      if (!k.startsWith(prefix)) continue;
      found.set(p.docId, found.get(p.docId) ?? p.kind ?? null);
    }
    return [...found].map(([docId, kind]) => ({
      docId,
      kind: this.docs.get(JSON.stringify([userId, docId]))?.kind ?? kind,
    }));
  }
  async saveDoc(rec: DocRecord) {
    this.docs.set(JSON.stringify([rec.userId, rec.docId]), rec);
  }
  async addPending(rec: PendingRecord) {
    this.pending.set(JSON.stringify([rec.userId, rec.docId, rec.clientId, rec.firstSeq]), rec);
  }
  async removePending(userId: string, docId: string, clientId: number, firstSeq: number) {
    this.pending.delete(JSON.stringify([userId, docId, clientId, firstSeq]));
  }
  async clearDoc(userId: string, docId: string) {
    const prefix = JSON.stringify([userId, docId]).slice(0, -1) + ',';
    this.docs.delete(JSON.stringify([userId, docId]));
    for (const k of [...this.pending.keys()]) if (k.startsWith(prefix)) this.pending.delete(k);
  }
  async dropDoc(userId: string, docId: string, changes: { clientId: number; firstSeq: number }[]) {
    this.docs.delete(JSON.stringify([userId, docId]));
    for (const c of changes) this.pending.delete(JSON.stringify([userId, docId, c.clientId, c.firstSeq]));
  }
  async clearUser(userId: string) {
    const prefix = JSON.stringify([userId]).slice(0, -1) + ',';
    for (const m of [this.docs, this.pending] as Map<string, unknown>[]) {
      for (const k of [...m.keys()]) if (k.startsWith(prefix)) m.delete(k);
    }
  }
}

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** IndexedDB database `name` with stores `session`, `docs` and `pending`. */
export class IndexedDbStore implements LocalStore {
  private constructor(
    private readonly db: IDBDatabase,
    private readonly range: typeof IDBKeyRange,
  ) {}

  /** `keyRange`: the IDBKeyRange of the same implementation as `factory`. */
  static async open(factory: IDBFactory, name: string, keyRange = globalThis.IDBKeyRange): Promise<IndexedDbStore> {
    const req = factory.open(name, 1);
    req.onupgradeneeded = () => {
      const db = req.result;
      db.createObjectStore('session');
      db.createObjectStore('docs', { keyPath: ['userId', 'docId'] });
      db.createObjectStore('pending', { keyPath: ['userId', 'docId', 'clientId', 'firstSeq'] });
    };
    return new IndexedDbStore(await request(req), keyRange);
  }

  private async run(stores: string[], mode: IDBTransactionMode, fn: (tx: IDBTransaction) => void): Promise<void> {
    const tx = this.db.transaction(stores, mode);
    fn(tx);
    await done(tx);
  }

  async loadSession(): Promise<StoredSession | null> {
    const tx = this.db.transaction('session', 'readonly');
    return ((await request(tx.objectStore('session').get('session'))) as StoredSession | undefined) ?? null;
  }
  saveSession(s: StoredSession | null) {
    return this.run(['session'], 'readwrite', (tx) => {
      if (s) tx.objectStore('session').put(s, 'session');
      else tx.objectStore('session').delete('session');
    });
  }
  async loadDoc(userId: string, docId: string) {
    const tx = this.db.transaction(['docs', 'pending'], 'readonly');
    const doc = ((await request(tx.objectStore('docs').get([userId, docId]))) as DocRecord | undefined) ?? null;
    const pending = (await request(
      tx.objectStore('pending').getAll(this.range.bound([userId, docId], [userId, docId, []])),
    )) as PendingRecord[];
    return { doc, pending };
  }
  async pendingDocs(userId: string): Promise<PendingDoc[]> {
    const tx = this.db.transaction(['docs', 'pending'], 'readonly');
    const pending = tx.objectStore('pending');
    // Keys only: [userId, docId, clientId, firstSeq], without the updates.
    const keys = (await request(pending.getAllKeys(this.range.bound([userId], [userId, []])))) as IDBValidKey[][];
    const ids = [...new Set(keys.map((k) => k[1] as string))];
    const out: PendingDoc[] = [];
    for (const docId of ids) {
      const doc = (await request(tx.objectStore('docs').get([userId, docId]))) as DocRecord | undefined;
      let kind = doc?.kind ?? null;
      if (!kind) {
        // No copy (or one of an older SDK): the records say, when one was written by this SDK.
        const recs = (await request(pending.getAll(this.range.bound([userId, docId], [userId, docId, []])))) as PendingRecord[];
        kind = recs.find((r) => r.kind)?.kind ?? null;
      }
      out.push({ docId, kind });
    }
    return out;
  }
  saveDoc(rec: DocRecord) {
    return this.run(['docs'], 'readwrite', (tx) => tx.objectStore('docs').put(rec));
  }
  addPending(rec: PendingRecord) {
    return this.run(['pending'], 'readwrite', (tx) => tx.objectStore('pending').put(rec));
  }
  removePending(userId: string, docId: string, clientId: number, firstSeq: number) {
    return this.run(['pending'], 'readwrite', (tx) =>
      tx.objectStore('pending').delete([userId, docId, clientId, firstSeq]),
    );
  }
  clearDoc(userId: string, docId: string) {
    return this.run(['docs', 'pending'], 'readwrite', (tx) => {
      tx.objectStore('docs').delete([userId, docId]);
      tx.objectStore('pending').delete(this.range.bound([userId, docId], [userId, docId, []]));
    });
  }
  dropDoc(userId: string, docId: string, changes: { clientId: number; firstSeq: number }[]) {
    return this.run(['docs', 'pending'], 'readwrite', (tx) => {
      tx.objectStore('docs').delete([userId, docId]);
      for (const c of changes) tx.objectStore('pending').delete([userId, docId, c.clientId, c.firstSeq]);
    });
  }
  clearUser(userId: string) {
    return this.run(['docs', 'pending'], 'readwrite', (tx) => {
      tx.objectStore('docs').delete(this.range.bound([userId], [userId, []]));
      tx.objectStore('pending').delete(this.range.bound([userId], [userId, []]));
    });
  }
  close(): void {
    this.db.close();
  }
}
