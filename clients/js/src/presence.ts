// Presence of one document (docs/protocol.md §3, "Presence"): our state,
// throttled to the server, and the peers' states as they arrive. Positions
// (cursor, selection) are kept in the engine's units (code points for a
// text) and moved through every change until the peer's next update; the
// handle converts them for the API.

import { Emitter } from './emitter.js';

export interface Selection {
  anchor: number;
  head: number;
}

export interface PresenceState {
  name?: string;
  color?: string;
  cursor?: number | null;
  selection?: Selection | null;
  typing?: boolean;
  status?: string;
  [extra: string]: unknown;
}

export interface Peer extends PresenceState {
  sessionId: number;
}

/** What the handle supplies: unit conversion between the API and the wire, and sending. */
export interface PresenceHost {
  toWire(p: number): number;
  fromWire(p: number): number;
  send(state: Uint8Array): boolean;
  throttleMs: number;
}

const kMaxStateBytes = 2048;
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

export class PresenceHandle {
  private local: PresenceState | null = null;
  private remote = new Map<number, Peer>();
  private events = new Emitter<{ change: Peer[] }>();
  private lastSent = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private dirty = false;

  constructor(private readonly host: PresenceHost) {}

  /** Merges `state` into our presence and sends it (at most once per throttle interval). Positions in API units. */
  set(state: PresenceState): void {
    const wire: PresenceState = { ...(this.local ?? {}), ...state };
    if ('cursor' in state) wire.cursor = state.cursor == null ? null : this.host.toWire(state.cursor);
    if ('selection' in state) {
      wire.selection =
        state.selection == null
          ? null
          : { anchor: this.host.toWire(state.selection.anchor), head: this.host.toWire(state.selection.head) };
    }
    if (utf8.encode(JSON.stringify(wire)).length > kMaxStateBytes) {
      throw new RangeError('presence state over 2 KiB');
    }
    this.local = wire;
    this.dirty = true;
    this.flush();
  }

  /** The current peers (every other session on this document), positions in API units. */
  peers(): Peer[] {
    const out: Peer[] = [];
    for (const p of this.remote.values()) {
      const q: Peer = { ...p };
      try {
        if (typeof p.cursor === 'number') q.cursor = this.host.fromWire(p.cursor);
        if (p.selection) q.selection = { anchor: this.host.fromWire(p.selection.anchor), head: this.host.fromWire(p.selection.head) };
      } catch {
        q.cursor = null; // a position beyond our text: the peer's next update mends it
        q.selection = null;
      }
      out.push(q);
    }
    return out;
  }

  on(event: 'change', cb: (peers: Peer[]) => void): () => void {
    return this.events.on(event, cb);
  }

  // --- for the document session ---

  /** Sends the pending state when the throttle allows. */
  flush(): void {
    if (!this.dirty || !this.local || this.timer) return;
    const wait = this.lastSent + this.host.throttleMs - Date.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, wait);
      return;
    }
    if (this.host.send(utf8.encode(JSON.stringify(this.local)))) {
      this.dirty = false;
      this.lastSent = Date.now();
    }
  }

  /** After (re)subscribing: our state goes out again. */
  resend(): void {
    if (this.local) {
      this.dirty = true;
      this.flush();
    }
  }

  received(sessionId: number, state: Uint8Array): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8Decoder.decode(state));
    } catch {
      return; // not JSON: ignore this peer's update
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return;
    const p = parsed as PresenceState;
    const peer: Peer = { ...p, sessionId };
    if (typeof p.cursor !== 'number') peer.cursor = null;
    const s = p.selection;
    if (!s || typeof s.anchor !== 'number' || typeof s.head !== 'number') peer.selection = null;
    this.remote.set(sessionId, peer);
    this.emit();
  }

  gone(sessionId: number): void {
    if (this.remote.delete(sessionId)) this.emit();
  }

  /** Our connection dropped: every peer is gone for us. */
  clearPeers(): void {
    if (this.remote.size === 0) return;
    this.remote.clear();
    this.emit();
  }

  /** Moves every peer's positions (wire units) through a change. */
  mapPositions(map: (p: number) => number): void {
    const l = this.local;
    if (l && typeof l.cursor === 'number') l.cursor = map(l.cursor);
    if (l?.selection) l.selection = { anchor: map(l.selection.anchor), head: map(l.selection.head) };
    if (this.remote.size === 0) return;
    for (const p of this.remote.values()) {
      if (typeof p.cursor === 'number') p.cursor = map(p.cursor);
      if (p.selection) p.selection = { anchor: map(p.selection.anchor), head: map(p.selection.head) };
    }
    this.emit();
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.events.clear();
  }

  private emit(): void {
    this.events.emit('change', this.peers());
  }
}
