// Presence of one document (docs/protocol.md §3, "Presence"): our state,
// throttled to the server, and the peers' states as they arrive. Positions
// (cursor, selection) are kept in the engine's units (code points for a
// text); the handle converts them for the API. In a text they also travel
// as anchors (`anchors`: the ids of the characters they sit before), which
// each replica resolves against its own copy, so a peer's cursor stays on
// the same characters whatever either side has or has not received yet.
// Without an anchor we can resolve, the number is used, moved through
// every change until the peer's next update.

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

/**
 * A position tied to a character: [clientId, seq] is just before it,
 * [clientId, seq, 1] just after it (the end of the text), null the end of
 * an empty text.
 */
export type WireAnchor = [number, number] | [number, number, 1] | null;

interface WireAnchors {
  cursor?: WireAnchor;
  anchor?: WireAnchor;
  head?: WireAnchor;
}

/** What the handle supplies: unit conversion between the API and the wire, and sending. */
export interface PresenceHost {
  toWire(p: number): number;
  fromWire(p: number): number;
  /** The anchor of a wire position, or undefined where positions have none (not a text). */
  anchor?(p: number): WireAnchor | undefined;
  /** Where an anchor is now (wire units), or undefined if this replica lacks its character. */
  resolve?(a: WireAnchor): number | undefined;
  send(state: Uint8Array): boolean;
  throttleMs: number;
  /** 0 when the connection's presence budget allows a send now (and takes it), else ms to wait. */
  budget?(): number;
}

/**
 * `c` if it is a colour that is safe to put in a style as it is (`#rgb`,
 * `#rgba`, `#rrggbb`, `#rrggbbaa`, or `rgb()`/`hsl()`/`rgba()`/`hsla()` of
 * numbers), else undefined. Peers choose their own colours: one put in a
 * style attribute as it came (`red;position:fixed;background:url(...)`)
 * would let any subscriber, a viewer too, restyle everyone's page.
 */
export function cssColor(c: unknown): string | undefined {
  if (typeof c !== 'string' || c.length > 64) return undefined;
  const hex = /^#(?:[0-9a-f]{3,4}|[0-9a-f]{6}|[0-9a-f]{8})$/i;
  const fn = /^(?:rgb|hsl)a?\([-+0-9.,%\s/a-z]*\)$/i;
  const named = /^[a-z]{3,20}$/i; // red, rebeccapurple, transparent
  return hex.test(c) || fn.test(c) || named.test(c) ? c : undefined;
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
  private disposed = false;
  /** The server holds a state of ours (since the last subscribe): clear() must take it back. */
  private onServer = false;
  /** clear() took our state back; the next set() shows it again. */
  private hidden = false;

  constructor(private readonly host: PresenceHost) {}

  /** Merges `state` into our presence and sends it (at most once per throttle interval). Positions in API units. */
  set(state: PresenceState): void {
    if (this.disposed) return; // the handle is closed (an editor still bound to it)
    const wire: PresenceState = { ...(this.local ?? {}), ...state };
    if ('cursor' in state) wire.cursor = state.cursor == null ? null : this.host.toWire(state.cursor);
    if ('selection' in state) {
      wire.selection =
        state.selection == null
          ? null
          : { anchor: this.host.toWire(state.selection.anchor), head: this.host.toWire(state.selection.head) };
    }
    const anchorOf = this.host.anchor?.bind(this.host);
    if (anchorOf && ('cursor' in state || 'selection' in state)) {
      const anchors: WireAnchors = {};
      if (typeof wire.cursor === 'number') anchors.cursor = anchorOf(wire.cursor);
      if (wire.selection) {
        anchors.anchor = anchorOf(wire.selection.anchor);
        anchors.head = anchorOf(wire.selection.head);
      }
      if (Object.values(anchors).some((a) => a !== undefined)) wire.anchors = anchors;
      else delete wire.anchors;
    }
    // Positions move with the text before the state goes out
    // (mapPositions): counted at their longest, so that the state the
    // server gets is never over its limit (too_large would roll back the
    // document's unacknowledged edits).
    if (utf8.encode(JSON.stringify(longest(wire))).length > kMaxStateBytes) {
      throw new RangeError('presence state over 2 KiB (positions counted as 16 digits)');
    }
    this.local = wire;
    this.hidden = false;
    this.dirty = true;
    this.flush();
  }

  /**
   * Takes our presence back: peers see us gone (`presence_gone`) until the
   * next set(), which shows the state again with its change merged in (an
   * editor binding's next cursor brings back the name and colour too).
   * Throttled like set().
   */
  clear(): void {
    if (this.disposed) return;
    this.hidden = true;
    this.dirty = this.onServer;
    this.flush();
  }

  /** The current peers (every other session on this document), positions in API units. */
  peers(): Peer[] {
    const out: Peer[] = [];
    for (const p of this.remote.values()) {
      const q: Peer = { ...p };
      delete q.anchors;
      const anchors = (p.anchors ?? {}) as WireAnchors; // checked in received()
      const at = (a: WireAnchor | undefined, fallback: number): number => {
        const r = a !== undefined && this.host.resolve ? this.host.resolve(a) : undefined;
        return this.host.fromWire(r ?? fallback);
      };
      try {
        if (typeof p.cursor === 'number') q.cursor = at(anchors.cursor, p.cursor);
        if (p.selection) q.selection = { anchor: at(anchors.anchor, p.selection.anchor), head: at(anchors.head, p.selection.head) };
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

  /** Sends the pending state (an empty one: none, ours taken back) when the throttle allows. */
  flush(): void {
    if (!this.dirty || this.timer) return;
    let wait = this.lastSent + this.host.throttleMs - Date.now();
    if (wait <= 0) wait = this.host.budget?.() ?? 0;
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.flush();
      }, wait);
      return;
    }
    const shown = this.local !== null && !this.hidden;
    if (!shown && !this.onServer) {
      this.dirty = false; // nothing of ours to take back
      return;
    }
    const state = shown ? utf8.encode(JSON.stringify(this.local)) : new Uint8Array(0);
    if (this.host.send(state)) {
      this.dirty = false;
      this.onServer = shown;
      this.lastSent = Date.now();
    }
  }

  /** After (re)subscribing: our state goes out again (the server has none of ours). */
  resend(): void {
    this.onServer = false;
    this.dirty = false;
    if (this.local && !this.hidden) {
      this.dirty = true;
      this.flush();
    }
  }

  received(sessionId: number, state: Uint8Array): void {
    if (this.disposed) return;
    if (state.length === 0) return this.gone(sessionId); // taken back
    let parsed: unknown;
    try {
      parsed = JSON.parse(utf8Decoder.decode(state));
    } catch {
      return; // not JSON: ignore this peer's update
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return;
    const p = parsed as PresenceState;
    const peer: Peer = { ...p, sessionId, anchors: validAnchors(p.anchors) };
    const color = cssColor(p.color);
    if (color === undefined) delete peer.color;
    if (!Number.isFinite(p.cursor)) peer.cursor = null;
    const s = p.selection;
    if (!s || !Number.isFinite(s.anchor) || !Number.isFinite(s.head)) peer.selection = null;
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

  /**
   * Moves every peer's positions (wire units) through a change; the
   * caller calls positionsMoved() once the text is up to date again.
   */
  mapPositions(map: (p: number) => number): void {
    const l = this.local;
    if (l && typeof l.cursor === 'number') l.cursor = map(l.cursor);
    if (l?.selection) l.selection = { anchor: map(l.selection.anchor), head: map(l.selection.head) };
    for (const p of this.remote.values()) {
      if (typeof p.cursor === 'number') p.cursor = map(p.cursor);
      if (p.selection) p.selection = { anchor: map(p.selection.anchor), head: map(p.selection.head) };
    }
  }

  /** The text changed (after mapPositions): peers' positions may have moved. */
  positionsMoved(): void {
    if (this.remote.size > 0) this.emit();
  }

  /**
   * The app closed the handle but its session goes on for a while
   * (DocSession lingering): our presence is taken back (peers no longer
   * see a cursor of someone who left), then nothing goes out and nothing
   * is kept or told of peers, until resume().
   */
  suspend(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.events.clear();
    this.remote.clear();
    this.local = null;
    this.hidden = false;
    this.dirty = this.onServer;
    this.flush();
  }

  resume(): void {
    this.disposed = false;
  }

  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.events.clear();
  }

  private emit(): void {
    this.events.emit('change', this.peers());
  }
}

/**
 * `s` with each position mapPositions may move (a non-negative safe
 * integer: a text's) at the most digits it can reach; others as they are.
 */
function longest(s: PresenceState): PresenceState {
  const far = (p: number) => (Number.isSafeInteger(p) && p >= 0 ? Number.MAX_SAFE_INTEGER : p);
  const out: PresenceState = { ...s };
  if (typeof s.cursor === 'number') out.cursor = far(s.cursor);
  if (s.selection) out.selection = { anchor: far(s.selection.anchor), head: far(s.selection.head) };
  return out;
}

/** The anchors of a peer's state that are well formed; others are ignored. */
function validAnchors(raw: unknown): WireAnchors {
  const out: WireAnchors = {};
  if (!raw || typeof raw !== 'object') return out;
  const r = raw as Record<string, unknown>;
  for (const key of ['cursor', 'anchor', 'head'] as const) {
    const a = r[key];
    if (a === null) out[key] = null;
    else if (Array.isArray(a) && (a.length === 2 || (a.length === 3 && a[2] === 1)) && a.every((n) => Number.isSafeInteger(n) && n >= 0)) {
      out[key] = a.length === 3 ? [a[0] as number, a[1] as number, 1] : [a[0] as number, a[1] as number];
    }
  }
  return out;
}
