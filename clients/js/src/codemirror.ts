// CodeMirror 6 binding of a TextHandle (`@weft/sdk/codemirror`):
// local transactions become weft edits, remote changes become CodeMirror
// transactions (annotated so they are not sent back), and peers' cursors
// and selections are drawn as decorations labelled with their name and
// colour. Both sides count UTF-16 units, so positions pass through as they
// are; the handle converts to the engine's code points.
//
// The translation steps are exported as pure functions over
// @codemirror/state (tested in Node without a DOM); weftCollab() wires them
// into a view.

import {
  Annotation,
  Compartment,
  EditorState,
  StateEffect,
  StateField,
  type ChangeSet,
  type ChangeSpec,
  type Extension,
  type Range,
} from '@codemirror/state';
import { Decoration, EditorView, ViewPlugin, WidgetType, type DecorationSet, type ViewUpdate } from '@codemirror/view';
import type { TextHandle } from './document.js';
import type { Peer, PresenceState } from './presence.js';
import { wellFormed, type TextChange } from './unicode.js';

/** Marks transactions that carry remote changes (never sent back to weft). */
export const weftRemote = Annotation.define<boolean>();

const setPeers = StateEffect.define<Peer[]>();
const setReadOnly = StateEffect.define<boolean>();

/** The edits a CodeMirror change set makes, as weft edits applied one after another (UTF-16). */
export function changeSetToEdits(changes: ChangeSet): TextChange[] {
  const out: TextChange[] = [];
  let shift = 0;
  changes.iterChanges((fromA, toA, _fromB, _toB, inserted) => {
    const text = inserted.toString();
    out.push({ pos: fromA + shift, deleted: toA - fromA, inserted: text });
    shift += text.length - (toA - fromA);
  });
  return out;
}

/**
 * Applies a CodeMirror change set to a weft text (local edits). `before`
 * hears each edit just before the handle is called with it.
 */
export function applyToHandle(
  text: Pick<TextHandle, 'insert' | 'delete'>,
  changes: ChangeSet,
  before?: (edit: TextChange) => void,
): number {
  let calls = 0;
  for (const c of changeSetToEdits(changes)) {
    if (c.deleted > 0) {
      before?.({ pos: c.pos, deleted: c.deleted, inserted: '' });
      text.delete(c.pos, c.deleted);
      ++calls;
    }
    if (c.inserted) {
      before?.({ pos: c.pos, deleted: 0, inserted: c.inserted });
      text.insert(c.pos, c.inserted);
      ++calls;
    }
  }
  return calls; // each emits one 'change' event
}

function sameEdit(a: TextChange | undefined, b: TextChange): boolean {
  return a !== undefined && a.pos === b.pos && a.deleted === b.deleted && a.inserted === b.inserted;
}

/** weft change events (each relative to the text after the previous one) as sequential CodeMirror change specs. */
export function editsToSpecs(changes: TextChange[]): ChangeSpec[] {
  return changes.map((c) => ({ from: c.pos, to: c.pos + c.deleted, insert: c.inserted }));
}

/** Applies weft's remote changes to an EditorState: one transaction spec per change, in order. */
export function remoteTransactions(state: EditorState, changes: TextChange[]): EditorState {
  for (const spec of editsToSpecs(changes)) state = state.update({ changes: spec, annotations: weftRemote.of(true) }).state;
  return state;
}

class PeerCaret extends WidgetType {
  constructor(
    readonly color: string,
    readonly name: string,
  ) {
    super();
  }
  override eq(other: PeerCaret): boolean {
    return other.color === this.color && other.name === this.name;
  }
  toDOM(): HTMLElement {
    const caret = document.createElement('span');
    caret.className = 'cm-weft-caret';
    caret.style.borderLeftColor = this.color;
    const label = document.createElement('span');
    label.className = 'cm-weft-caret-label';
    label.style.backgroundColor = this.color;
    label.textContent = this.name;
    caret.appendChild(label);
    return caret;
  }
  override ignoreEvent(): boolean {
    return true;
  }
}

/** Decorations for peers: a labelled caret at the cursor, a tinted mark over the selection. */
export function peerDecorations(peers: Peer[], docLength: number): DecorationSet {
  const ranges: Range<Decoration>[] = [];
  const clamp = (p: number) => Math.max(0, Math.min(docLength, p));
  for (const p of peers) {
    const color = typeof p.color === 'string' ? p.color : '#888888';
    const name = typeof p.name === 'string' ? p.name : `peer ${p.sessionId}`;
    if (p.selection && p.selection.anchor !== p.selection.head) {
      const from = clamp(Math.min(p.selection.anchor, p.selection.head));
      const to = clamp(Math.max(p.selection.anchor, p.selection.head));
      if (from < to) {
        ranges.push(
          Decoration.mark({
            class: 'cm-weft-selection',
            attributes: { style: `background-color: color-mix(in srgb, ${color} 20%, transparent)`, title: name },
          }).range(from, to),
        );
      }
    }
    const at = typeof p.cursor === 'number' ? p.cursor : p.selection ? p.selection.head : null;
    if (at != null) {
      ranges.push(Decoration.widget({ widget: new PeerCaret(color, name), side: 1 }).range(clamp(at)));
    }
  }
  return Decoration.set(ranges, true);
}

const peersField = StateField.define<DecorationSet>({
  create: () => Decoration.none,
  update(deco, tr) {
    deco = deco.map(tr.changes);
    for (const e of tr.effects) if (e.is(setPeers)) deco = peerDecorations(e.value, tr.state.doc.length);
    return deco;
  },
  provide: (f) => EditorView.decorations.from(f),
});

const readOnlyField = StateField.define<boolean>({
  create: () => false,
  update(v, tr) {
    for (const e of tr.effects) if (e.is(setReadOnly)) v = e.value;
    return v;
  },
  provide: (f) => [EditorState.readOnly.from(f), EditorView.editable.from(f, (ro) => !ro)],
});

const theme = EditorView.baseTheme({
  '.cm-weft-caret': {
    position: 'relative',
    borderLeft: '2px solid',
    marginLeft: '-1px',
    marginRight: '-1px',
  },
  '.cm-weft-caret-label': {
    position: 'absolute',
    top: '-1.3em',
    left: '-2px',
    fontSize: '0.75em',
    color: 'white',
    padding: '0 3px',
    borderRadius: '3px',
    whiteSpace: 'nowrap',
    pointerEvents: 'none',
  },
});

/** `typing` goes back to false this long after the last local edit. */
const kTypingIdleMs = 1500;

export interface CollabOptions {
  /** Send our cursor and selection as presence (default true). Set name and colour with text.presence.set. */
  presence?: boolean;
}

/**
 * The extension that binds an editor to `text`. Create the editor with
 * `doc: text.value()`; when the contents differ the binding replaces them.
 */
export function weftCollab(text: TextHandle, opts: CollabOptions = {}): Extension {
  const sendPresence = opts.presence ?? true;
  const plugin = ViewPlugin.fromClass(
    class {
      private readonly off: (() => void)[] = [];
      private dead = false;
      // This editor's own transaction is being applied to the handle.
      private applying = false;
      // The edits this editor made whose 'change' events have not come
      // yet (already on screen). Usually each comes during its handle
      // call; when the editor was changed from inside a 'change' listener
      // they come after the event being delivered.
      private own: TextChange[] = [];
      // Another 'change' heard while applying: the app edited the handle
      // from inside ours (a listener that reformats, say). It cannot be
      // dispatched during this editor's update; the editor catches up
      // after it.
      private nested = false;
      private typingTimer: ReturnType<typeof setTimeout> | undefined;

      constructor(private readonly view: EditorView) {
        this.later(() => {
          if (this.view.state.doc.toString() !== text.value()) this.resync();
          this.view.dispatch({ effects: [setReadOnly.of(text.readOnly), setPeers.of(text.presence.peers())] });
        });
        this.off.push(
          // Every change of the text but this editor's own: remote ones, and
          // local ones made through the handle by the app (a toolbar button)
          // or by another editor bound to the same handle.
          text.on('change', (ev) => {
            if (this.own.length > 0 && ev.origin === 'local' && sameEdit(ev.changes?.[0], this.own[0])) {
              this.own.shift();
              return;
            }
            if (this.applying) {
              this.nested = true;
              return;
            }
            // This editor is ahead of the events by edits of its own not
            // heard of yet (it was changed from inside a listener): this
            // change is relative to a text without them.
            if (this.own.length > 0) {
              this.later(() => this.resync());
              return;
            }
            try {
              for (const spec of editsToSpecs(ev.changes)) {
                this.view.dispatch({ changes: spec, annotations: weftRemote.of(true) });
              }
            } catch {
              // Out of step: a change the app made from inside another
              // listener reached us before the change it answered.
              this.later(() => this.resync());
              return;
            }
            // ... which can also land somewhere else without an error.
            if (ev.origin === 'local' && this.view.state.doc.length !== text.length) this.later(() => this.resync());
          }),
          text.presence.on('change', (peers) => this.later(() => this.view.dispatch({ effects: setPeers.of(peers) }))),
          text.on('rejected', () => this.later(() => this.view.dispatch({ effects: setReadOnly.of(text.readOnly) }))),
        );
      }

      update(u: ViewUpdate): void {
        let applied = false;
        this.nested = false;
        for (const tr of u.transactions) {
          if (!tr.docChanged || tr.annotation(weftRemote)) continue;
          try {
            this.applying = true;
            // As the handle reports it (lone surrogates become U+FFFD).
            applyToHandle(text, tr.changes, (edit) => this.own.push({ ...edit, inserted: wellFormed(edit.inserted) }));
            applied = true;
          } catch (e) {
            // Refused (read-only now, or closed): show weft's text again.
            // The refused edit's event never comes.
            console.error('weft: edit not applied', e);
            this.own.pop();
            this.later(() => this.resync());
            return;
          } finally {
            this.applying = false;
          }
        }
        // The app changed the text from inside this editor's change: show
        // weft's text.
        if (applied && (this.nested || text.length !== u.state.doc.length)) this.later(() => this.resync());
        if (sendPresence && (u.selectionSet || u.docChanged || u.focusChanged)) {
          const sel = u.state.selection.main;
          const state: PresenceState = u.view.hasFocus
            ? { cursor: sel.head, selection: sel.empty ? null : { anchor: sel.anchor, head: sel.head } }
            : { cursor: null, selection: null };
          const typed = u.transactions.some((tr) => tr.docChanged && !tr.annotation(weftRemote));
          if (typed) {
            state.typing = true;
            clearTimeout(this.typingTimer);
            this.typingTimer = setTimeout(() => !this.dead && text.presence.set({ typing: false }), kTypingIdleMs);
          }
          this.later(() => text.presence.set(state));
        }
      }

      /** Shows weft's text: one change over the part that differs, so the rest (and the caret in it) stays. */
      private resync(): void {
        // Runs after every event of the edits before it was delivered: an
        // edit of ours not heard of by now never will be (refused).
        this.own = [];
        const want = text.value();
        const have = this.view.state.doc.toString();
        if (want === have) return;
        let from = 0;
        while (from < want.length && from < have.length && want.charCodeAt(from) === have.charCodeAt(from)) ++from;
        let endWant = want.length;
        let endHave = have.length;
        while (endWant > from && endHave > from && want.charCodeAt(endWant - 1) === have.charCodeAt(endHave - 1)) {
          --endWant;
          --endHave;
        }
        this.view.dispatch({
          changes: { from, to: endHave, insert: want.slice(from, endWant) },
          annotations: weftRemote.of(true),
        });
      }

      /** Runs after the current update (CodeMirror forbids dispatching inside one). */
      private later(fn: () => void): void {
        queueMicrotask(() => {
          if (!this.dead) fn();
        });
      }

      destroy(): void {
        this.dead = true;
        clearTimeout(this.typingTimer);
        for (const f of this.off) f();
      }
    },
  );
  return [peersField, readOnlyField.init(() => text.readOnly), plugin, theme];
}

/**
 * Binds an existing view to `text`: replaces its contents with the
 * document's and adds weftCollab. Returns the function that unbinds.
 */
export function bindCodeMirror(view: EditorView, text: TextHandle, opts: CollabOptions = {}): () => void {
  const slot = new Compartment();
  view.dispatch({
    changes: { from: 0, to: view.state.doc.length, insert: text.value() },
    annotations: weftRemote.of(true),
    effects: StateEffect.appendConfig.of(slot.of(weftCollab(text, opts))),
  });
  return () => view.dispatch({ effects: slot.reconfigure([]) });
}
