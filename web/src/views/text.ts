// A text document: CodeMirror 6 bound to the SDK's TextHandle, peers'
// carets and selections (the SDK's binding), avatars of who is here.
import { EditorState } from '@codemirror/state';
import { EditorView, keymap, lineNumbers, drawSelection, highlightActiveLine } from '@codemirror/view';
import { defaultKeymap, history, historyKeymap } from '@codemirror/commands';
import type { TextHandle } from '@weft/sdk';
import { weftCollab } from '@weft/sdk/codemirror';
import { h } from '../dom';
import { onLeave } from '../router';
import { avatars, me } from './presence';

export function textView(body: HTMLElement, header: HTMLElement, text: TextHandle): void {
  text.presence.set(me());
  const people = avatars(text.presence);
  header.append(people.el);
  const parent = h('div', { class: 'editor' });
  body.append(parent);
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: text.value(),
      extensions: [
        lineNumbers(), history(), drawSelection(), highlightActiveLine(), EditorView.lineWrapping,
        keymap.of([...defaultKeymap, ...historyKeymap]),
        EditorView.contentAttributes.of({ 'aria-label': 'Document text' }),
        // Read-only as the handle is, now and when the role changes (the
        // binding's field; a static facet here would win over it for good).
        weftCollab(text),
      ],
    }),
  });
  onLeave(() => {
    people.dispose();
    view.destroy();
  });
}
