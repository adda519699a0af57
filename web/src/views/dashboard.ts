// Workspaces, and one workspace's documents: search, create, rename,
// delete and restore. Viewers see the list only.
import * as api from '../api';
import { errorBox, field, formatTime, h, mount } from '../dom';
import { navigate } from '../router';

const kKindLabel: Record<api.Kind, string> = { text: 'Text', board: 'Board', canvas: 'Canvas' };

export async function workspaceList(app: HTMLElement): Promise<void> {
  const err = errorBox();
  const list = h('ul', { class: 'list', 'aria-label': 'Workspaces' });
  const name = h('input', { name: 'workspace', required: true, maxlength: 100 });
  const create = h('form', { class: 'inline', 'aria-label': 'Create a workspace' },
    field('New workspace', name), h('button', { type: 'submit' }, 'Create workspace'));
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const ws = await api.workspaces.create(name.value);
      navigate(`/w/${ws.id}`);
    } catch (ex) {
      err.show(ex);
    }
  });
  mount(app, h('section', { class: 'card' }, h('h1', {}, 'Workspaces'), list, err.el, create));
  try {
    const items = await api.workspaces.list();
    if (items.length === 0) list.append(h('li', { class: 'empty' }, 'No workspaces yet: create one below.'));
    for (const ws of items) {
      list.append(h('li', {}, h('a', { href: `/w/${ws.id}`, 'data-link': true }, ws.name), ' ',
        h('span', { class: 'badge' }, ws.role)));
    }
  } catch (ex) {
    err.show(ex);
  }
}

/** The tabs of a workspace page. */
export function workspaceHeader(ws: api.Workspace, current: 'documents' | 'members' | 'activity'): HTMLElement {
  const tab = (id: typeof current, label: string, href: string) =>
    h('a', { href, 'data-link': true, 'aria-current': id === current ? 'page' : undefined }, label);
  return h('div', { class: 'ws-header' },
    h('h1', {}, ws.name, ' ', h('span', { class: 'badge' }, ws.role === 'viewer' ? 'viewer: read only' : ws.role)),
    h('nav', { class: 'tabs', 'aria-label': 'Workspace' },
      tab('documents', 'Documents', `/w/${ws.id}`),
      tab('members', 'Members', `/w/${ws.id}/members`),
      tab('activity', 'Activity', `/w/${ws.id}/activity`)));
}

/** Loads a workspace, or shows why not (then null). */
export async function loadWorkspace(app: HTMLElement, wsId: string): Promise<api.Workspace | null> {
  try {
    return await api.workspaces.get(wsId);
  } catch (ex) {
    const err = errorBox();
    err.show(ex);
    mount(app, err.el);
    return null;
  }
}

export async function workspace(app: HTMLElement, wsId: string): Promise<void> {
  const err = errorBox();
  const ws = await loadWorkspace(app, wsId);
  if (!ws) return;
  const canEdit = ws.role !== 'viewer';
  const search = h('input', { type: 'search', name: 'q', placeholder: 'Search titles' });
  const showDeleted = h('input', { type: 'checkbox', name: 'deleted' });
  const table = h('table', { class: 'docs' });
  const title = h('input', { name: 'title', required: true, maxlength: 200 });
  const kind = h('select', { name: 'kind' },
    ...(['text', 'board', 'canvas'] as api.Kind[]).map((k) => h('option', { value: k }, kKindLabel[k])));
  const create = h('form', { class: 'inline', 'aria-label': 'Create a document' },
    field('Title', title), field('Kind', kind), h('button', { type: 'submit' }, 'Create document'));
  create.addEventListener('submit', async (e) => {
    e.preventDefault();
    try {
      const doc = await api.documents.create(wsId, kind.value as api.Kind, title.value);
      navigate(`/d/${doc.id}`);
    } catch (ex) {
      err.show(ex);
    }
  });

  // Answers can come back out of order (a slow one for "a" after the one
  // for "ab"): only the latest request's is shown.
  let latest = 0;
  async function refresh(): Promise<void> {
    err.clear();
    const mine = ++latest;
    try {
      const docs = await api.documents.list(wsId, { q: search.value || undefined, deleted: showDeleted.checked });
      if (mine !== latest) return;
      const rows = docs.map((d) => row(d));
      mount(table,
        h('caption', {}, showDeleted.checked ? 'Deleted documents' : 'Documents'),
        h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Title'), h('th', { scope: 'col' }, 'Kind'),
          h('th', { scope: 'col' }, 'Last change'), canEdit ? h('th', { scope: 'col' }, 'Actions') : null)),
        h('tbody', {}, ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 4, class: 'empty' }, 'No documents.'))])));
    } catch (ex) {
      if (mine === latest) err.show(ex);
    }
  }

  function row(d: api.DocumentMeta): HTMLTableRowElement {
    const actions = h('td', { class: 'actions' });
    if (canEdit && d.deleted_at) {
      actions.append(h('button', { type: 'button', 'aria-label': `Restore ${d.title}`,
        onclick: () => void act(() => api.documents.restore(d.id)) }, 'Restore'));
    } else if (canEdit) {
      actions.append(
        h('button', { type: 'button', class: 'secondary', 'aria-label': `Rename ${d.title}`, onclick: () => rename(d, tr) }, 'Rename'),
        h('button', { type: 'button', class: 'danger', 'aria-label': `Delete ${d.title}`,
          onclick: () => void act(() => api.documents.remove(d.id)) }, 'Delete'));
    }
    const name = d.deleted_at ? h('span', {}, d.title) : h('a', { href: `/d/${d.id}`, 'data-link': true }, d.title);
    const tr = h('tr', { 'data-doc': d.id }, h('td', { class: 'title' }, name), h('td', {}, kKindLabel[d.kind]),
      h('td', {}, h('time', { datetime: d.updated_at }, formatTime(d.updated_at))), canEdit ? actions : null);
    return tr;
  }

  function rename(d: api.DocumentMeta, tr: HTMLTableRowElement): void {
    const input = h('input', { name: 'new-title', value: d.title, required: true, maxlength: 200, 'aria-label': `New title for ${d.title}` });
    const f = h('form', { class: 'inline' }, input, h('button', { type: 'submit' }, 'Save'),
      h('button', { type: 'button', class: 'secondary', onclick: () => void refresh() }, 'Cancel'));
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      void act(() => api.documents.rename(d.id, input.value));
    });
    f.addEventListener('keydown', (e) => { if (e.key === 'Escape') void refresh(); });
    mount(tr.querySelector('td.title')!, f);
    input.select();
  }

  async function act(fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
      await refresh();
    } catch (ex) {
      err.show(ex);
    }
  }

  let timer: number | undefined;
  search.addEventListener('input', () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void refresh(), 200);
  });
  showDeleted.addEventListener('change', () => void refresh());
  mount(app, h('section', { class: 'card' }, workspaceHeader(ws, 'documents'),
    h('div', { class: 'toolbar' }, field('Search', search), h('label', { class: 'check' }, showDeleted, ' Show deleted')),
    err.el, table, canEdit ? create : h('p', { class: 'muted' }, 'You can view this workspace but not change it.')));
  await refresh();
}
