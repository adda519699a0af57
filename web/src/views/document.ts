// A document page: loads its metadata and shows the view of its kind.
import * as api from '../api';
import { errorBox, h, mount } from '../dom';

export async function documentView(app: HTMLElement, id: string): Promise<void> {
  const err = errorBox();
  try {
    const meta = await api.documents.get(id);
    mount(app, h('section', { class: 'card' }, h('div', { class: 'doc-header' },
      h('a', { href: `/w/${meta.workspace_id}`, 'data-link': true }, '← Documents'), h('h1', {}, meta.title)),
      h('p', {}, 'The live editor needs the sync SDK.')));
  } catch (ex) {
    err.show(ex);
    mount(app, err.el);
  }
}
