// The in-flight queue of one document: local changes not yet acknowledged,
// in the order they were made. A change leaves the queue only when an `ack`
// names it (durable on the server). Each change is marked sent once it went
// out on the current connection; a new connection, an out_of_order error or
// a retryable error marks changes unsent again so they go out once more
// (the server acknowledges a change it already has without applying it
// twice). Pure logic: no I/O, unit-tested in test/queue.test.mjs.

import type { AckEntry, Change } from './codec.js';

/** Limits of one `submit` (docs/protocol.md §5, with room below 1 MiB). */
export const kMaxChangesPerSubmit = 1024;
export const kMaxSubmitBytes = 512 * 1024;
/** The largest change a submit can carry under the server's default 1 MiB message limit. */
export const kMaxChangeBytes = 1024 * 1024 - 4096;

interface Entry {
  change: Change;
  sent: boolean;
}

export class PendingQueue {
  private entries: Entry[] = [];

  get size(): number {
    return this.entries.length;
  }

  changes(): Change[] {
    return this.entries.map((e) => e.change);
  }

  add(change: Change): void {
    if (change.span < 1) throw new RangeError('a change holds at least one operation');
    this.entries.push({ change, sent: false });
  }

  /** Whether the change `(clientId, firstSeq)` is still queued. */
  has(clientId: number, firstSeq: number): boolean {
    return this.entries.some((e) => e.change.clientId === clientId && e.change.firstSeq === firstSeq);
  }

  /** Puts `change` before everything queued: it goes out first. */
  addFirst(change: Change): void {
    if (change.span < 1) throw new RangeError('a change holds at least one operation');
    this.entries.unshift({ change, sent: false });
  }

  /** Removes the acknowledged changes; returns them. Unknown entries are ignored (a resend's second ack). */
  ack(acks: AckEntry[]): Change[] {
    const done = new Set(acks.map((a) => `${a.clientId}:${a.firstSeq}`));
    const removed: Change[] = [];
    this.entries = this.entries.filter((e) => {
      const hit = done.has(`${e.change.clientId}:${e.change.firstSeq}`);
      if (hit) removed.push(e.change);
      return !hit;
    });
    return removed;
  }

  /**
   * The next batches to submit: unsent changes in order, each batch within
   * the per-submit limits; marks them sent. A change larger than the byte
   * limit goes alone (the server answers too_large).
   */
  takeUnsent(): Change[][] {
    const batches: Change[][] = [];
    let batch: Change[] = [];
    let bytes = 0;
    for (const e of this.entries) {
      if (e.sent) continue;
      const size = e.change.update.length + 32;
      if (batch.length > 0 && (batch.length >= kMaxChangesPerSubmit || bytes + size > kMaxSubmitBytes)) {
        batches.push(batch);
        batch = [];
        bytes = 0;
      }
      batch.push(e.change);
      bytes += size;
      e.sent = true;
    }
    if (batch.length > 0) batches.push(batch);
    return batches;
  }

  /**
   * Everything goes out again: a new connection, a retryable error, or
   * out_of_order (which does not name the client id whose seqs have a gap).
   */
  markAllUnsent(): void {
    for (const e of this.entries) e.sent = false;
  }

  clear(): Change[] {
    const all = this.changes();
    this.entries = [];
    return all;
  }
}
