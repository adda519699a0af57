import './style.css';

declare const __WEFT_BUILD__: string;
import { StorageError } from '@weft/sdk';
import * as api from './api';
import { h, mount } from './dom';
import { fallback, navigate, render, route, startRouter } from './router';
import * as auth from './views/auth';
import * as dashboard from './views/dashboard';
import * as people from './views/members';
import { documentView } from './views/document';

const app = document.getElementById('app')!;
const account = document.getElementById('account')!;

function renderAccount(): void {
  const user = api.currentUser();
  if (!user) {
    mount(account, h('a', { href: '/signin', 'data-link': true }, 'Sign in'));
    return;
  }
  mount(account, h('span', { class: 'who' }, user.display_name), ' ',
    h('button', { type: 'button', class: 'secondary', onclick: async () => {
      await api.auth.signOut();
      navigate('/signin');
    } }, 'Sign out'));
}

// Pages for everyone (the rest need a session).
const kPublic = ['/signin', '/signup', '/forgot-password', '/reset-password', '/invitations/'];

/** Routes that need a session send the user to sign in first. */
function signedIn(fn: (p: Record<string, string>) => void | Promise<void>) {
  return async (p: Record<string, string>) => {
    if (!api.currentUser()) {
      sessionStorage.setItem('weft.after-signin', location.pathname);
      navigate('/signin', true);
      return;
    }
    await fn(p);
  };
}

route('/signin', () => auth.signIn(app));
route('/signup', () => auth.signUp(app));
route('/forgot-password', () => auth.forgotPassword(app));
route('/reset-password', (_p, q) => auth.resetPassword(app, q.get('token') ?? ''));
route('/invitations/:token', (p) => auth.acceptInvitation(app, p.token));
route('/', signedIn(() => dashboard.workspaceList(app)));
route('/w/:ws', signedIn((p) => dashboard.workspace(app, p.ws)));
route('/w/:ws/members', signedIn((p) => people.members(app, p.ws)));
route('/w/:ws/activity', signedIn((p) => people.activity(app, p.ws)));
route('/d/:id', signedIn((p) => documentView(app, p.id)));
fallback(() => mount(app, h('section', { class: 'card narrow' }, h('h1', {}, 'Not found'),
  h('a', { href: '/', 'data-link': true }, 'Back to your workspaces'))));

/**
 * This browser refused to store an edit (IndexedDB full, a private
 * window): until every edit is acknowledged, closing the tab loses some.
 */
let notStored = false;
/**
 * This browser refused to store the session (its refresh token): a reload
 * finds the previous one, which the server no longer accepts.
 */
let sessionNotStored = false;

/** The connection indicator: online, syncing N pending edits, offline. */
function renderStatus(): void {
  const el = document.getElementById('status')!;
  const c = api.client();
  if (!api.currentUser()) {
    el.textContent = '';
    return;
  }
  if (c.pending === 0) notStored = false;
  el.dataset.status = c.status;
  el.dataset.notStored = String(notStored);
  el.dataset.sessionNotStored = String(sessionNotStored);
  el.textContent = (c.status === 'online' ? 'Online'
    : c.status === 'offline' ? (c.pending ? `Offline, ${c.pending} edits waiting` : 'Offline')
    : `Syncing ${c.pending} pending edit${c.pending === 1 ? '' : 's'}`) +
    (notStored ? ' (this browser could not save them: keep this tab open until they are synced)' : '') +
    (sessionNotStored ? ' (this browser could not save your sign-in: after a reload, sign in again)' : '');
}

async function start(): Promise<void> {
  try {
    await api.init();
  } catch (e) {
    mount(app, h('p', { class: 'error', role: 'alert' }, `weft cannot start: ${e instanceof Error ? e.message : e}`));
    return;
  }
  api.onUserChange(() => {
    sessionNotStored = false; // a new session: its save is reported after this
    renderAccount();
    renderStatus();
    // Signed out (here, in another tab, or a session the server ended):
    // a page that needs a session goes to sign in, and back after it.
    if (!api.currentUser() && !kPublic.some((p) => location.pathname.startsWith(p))) void render();
  });
  api.client().on('status', renderStatus);
  api.client().on('error', (e) => {
    // An edit's record refused (a failed copy leaves the edits stored), or
    // the session's.
    if (!(e instanceof StorageError) || e.kind === 'copy') return;
    if (e.kind === 'edit') notStored = true;
    else sessionNotStored = true;
    renderStatus();
  });
  // The browser knows before the socket does; and some offline modes leave
  // an open WebSocket looking alive.
  window.addEventListener('offline', () => api.client().setOnline(false));
  window.addEventListener('online', () => api.client().setOnline(true));
  if (!navigator.onLine) api.client().setOnline(false);
  renderAccount();
  renderStatus();
  startRouter();
}
void start();

if ('serviceWorker' in navigator) {
  void navigator.serviceWorker.register(`/sw.js?build=${__WEFT_BUILD__}`).catch(() => {
    /* served over plain http on a non-loopback host: no offline shell */
  });
}
