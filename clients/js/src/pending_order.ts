// The order in which stored unacknowledged changes are sent again after a
// reload. Each change depends on the earlier changes of its own client id
// (a session) and may depend on changes of earlier sessions on this device
// (a page reloaded offline edits the copy the previous session left). The
// server refuses a change whose dependencies it does not have, so sessions
// must go out in the order they typed: each client's changes by firstSeq,
// and the clients interleaved by when their changes were made (`at`,
// Date.now() when the change was queued). Records from before `at` was
// kept count as made at time 0 and keep their old order (client id, then
// firstSeq). Pure logic, unit-tested in test/unit.test.mjs.

import type { PendingRecord } from './storage.js';

export function resendOrder(pending: readonly PendingRecord[]): PendingRecord[] {
  const byClient = new Map<number, PendingRecord[]>();
  for (const p of pending) {
    const list = byClient.get(p.clientId);
    if (list) list.push(p);
    else byClient.set(p.clientId, [p]);
  }
  // Per client: firstSeq order, and for each position the earliest time of
  // it or any later change of the client (a change sent again later, e.g.
  // one the server lost, still goes before the client's later changes).
  const lanes = [...byClient.entries()]
    .sort(([a], [b]) => a - b)
    .map(([, list]) => {
      list.sort((a, b) => a.firstSeq - b.firstSeq);
      const from = new Array<number>(list.length);
      let min = Infinity;
      for (let i = list.length - 1; i >= 0; i--) {
        min = Math.min(min, list[i].at ?? 0);
        from[i] = min;
      }
      return { list, from, next: 0 };
    });
  const out: PendingRecord[] = [];
  for (;;) {
    let best: (typeof lanes)[number] | undefined;
    for (const lane of lanes) {
      if (lane.next >= lane.list.length) continue;
      if (!best || lane.from[lane.next] < best.from[best.next]) best = lane;
    }
    if (!best) return out;
    out.push(best.list[best.next++]);
  }
}
