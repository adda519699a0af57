// A document page: its metadata (from the API, or remembered from the last
// visit when offline), the live handle from the SDK, and the view of its
// kind. Viewers get the same views read-only.
import type { StructHandle, TextHandle } from '@weft/sdk';
import * as api from '../api';
import { errorBox, h, mount } from '../dom';
import { navigate, onLeave } from '../router';
import { boardView } from './board';
import { canvasView } from './canvas';
import { textView } from './text';

interface Known { meta: api.DocumentMeta; role: api.Role }
// Shown once by the next document page (a role change opens it again).
let notice = '';
const kKnownKey = 'weft.known-docs';

function remembered(id: string): Known | null {
  try {
    return (JSON.parse(localStorage.getItem(kKnownKey) ?? '{}') as Record<string, Known>)[id] ?? null;
  } catch {
    return null;
  }
}

function remember(k: Known): void {
  let all: Record<string, Known> = {};
  try {
    all = JSON.parse(localStorage.getItem(kKnownKey) ?? '{}') as Record<string, Known>;
  } catch {
    /* start again */
  }
  all[k.meta.id] = k;
  localStorage.setItem(kKnownKey, JSON.stringify(all));
}

async function load(id: string): Promise<Known> {
  try {
    const meta = await api.documents.get(id);
    const ws = await api.workspaces.get(meta.workspace_id);
    const known = { meta, role: ws.role };
    remember(known);
    return known;
  } catch (e) {
    // Offline (a network error): what we knew last time.
    const known = e instanceof api.ApiError && e.status === 0 ? remembered(id) : null;
    if (!known) throw e;
    return known;
  }
}

// How long opening may take before the page says what it waits for.
const kSlowOpenMs = 2000;

/**
 * Shown while the document opens: the page the link was clicked on must
 * not stay as it was (a click that seems to do nothing). Opening a
 * document this browser holds no copy of waits for the server; offline,
 * that is until the connection returns, and the page says so.
 */
function openingCard(app: HTMLElement, title: string | null): () => void {
  const line = h('p', { class: 'muted', role: 'status' }, title ? `Opening “${title}”…` : 'Opening the document…');
  mount(app, h('section', { class: 'card', 'data-opening': true }, line));
  const explain = () => {
    if (api.client().status === 'offline') {
      line.textContent = 'Waiting for the connection: this document has no copy on this device yet, ' +
        'so it opens when the connection returns.';
    } else {
      line.textContent = (title ? `Opening “${title}”` : 'Opening the document') + ': the server is slow to answer…';
    }
  };
  let off: (() => void) | null = null;
  const timer = setTimeout(() => {
    explain();
    off = api.client().on('status', explain);
  }, kSlowOpenMs);
  const done = () => {
    clearTimeout(timer);
    off?.();
    off = null;
  };
  onLeave(done); // left while it waits (perhaps for ever, offline)
  return done;
}

export async function documentView(app: HTMLElement, id: string): Promise<void> {
  const err = errorBox();
  let known: Known;
  let handle: TextHandle | StructHandle;
  const page = location.pathname;
  const opened = openingCard(app, remembered(id)?.meta.title ?? null);
  try {
    known = await load(id);
    handle = known.meta.kind === 'text' ? await api.client().openText(id) : await api.client().openDoc(id);
  } catch (ex) {
    opened();
    if (location.pathname !== page) return; // moved on meanwhile
    err.show(ex);
    mount(app, h('section', { class: 'card' }, err.el, h('a', { href: '/', 'data-link': true }, 'Back to your workspaces')));
    return;
  }
  opened();
  // Opening waits for the first sync: someone who went elsewhere meanwhile
  // (back, another link) keeps the page they went to.
  if (location.pathname !== page) {
    handle.close();
    return;
  }
  const { meta } = known;
  const readOnly = known.role === 'viewer' || handle.readOnly;
  const header = h('div', { class: 'doc-header' },
    h('a', { href: `/w/${meta.workspace_id}`, 'data-link': true }, '← Documents'), h('h1', {}, meta.title),
    readOnly ? h('span', { class: 'badge' }, 'viewer: read only') : null);
  const body = h('div', { class: `doc-body kind-${meta.kind}` });
  mount(app, h('section', { class: 'card doc', 'data-kind': meta.kind }, header, err.el, body));
  if (notice) err.show(notice);
  notice = '';
  const offRejected = handle.on('rejected', (e) => {
    const code = (e as { code?: number }).code;
    if (code === 404 || code === 410) {
      // The handle is closed and what it had not saved is dropped: say
      // so, and take the editor away.
      err.show('This document is no longer available to you: it was deleted, or your access to it was removed. ' +
        'Changes not yet saved could not be kept.');
      mount(body);
    } else if (code === 403 && !readOnly) {
      // Made a viewer: the page opens again as a viewer's (boards and
      // canvases draw their controls once).
      notice = 'You can now only view this document: your role was changed to viewer, and your last change was undone.';
      const here = location.pathname;
      setTimeout(() => navigate(here, true)); // not inside the handle's event
    } else {
      err.show(`The server refused an edit: ${e.message}`);
    }
  });
  onLeave(() => {
    offRejected();
    handle.close();
  });
  if (meta.kind === 'text') textView(body, header, handle as TextHandle);
  else if (meta.kind === 'board') boardView(body, header, handle as StructHandle, readOnly);
  else canvasView(body, header, handle as StructHandle, readOnly);
}
