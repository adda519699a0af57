import './style.css';
import * as api from './api';
import { h, mount } from './dom';
import { fallback, navigate, route, startRouter } from './router';
import * as auth from './views/auth';
import * as dashboard from './views/dashboard';
import * as people from './views/members';
import { documentView } from './views/document';

const app = document.getElementById('app')!;
const account = document.getElementById('account')!;

function renderAccount(): void {
  const s = api.currentSession();
  if (!s) {
    mount(account, h('a', { href: '/signin', 'data-link': true }, 'Sign in'));
    return;
  }
  mount(account, h('span', { class: 'who' }, s.user.display_name), ' ',
    h('button', { type: 'button', class: 'secondary', onclick: async () => {
      await api.auth.signOut();
      navigate('/signin');
    } }, 'Sign out'));
}

/** Routes that need a session send the user to sign in first. */
function signedIn(fn: (p: Record<string, string>) => void | Promise<void>) {
  return async (p: Record<string, string>) => {
    if (!api.currentSession()) {
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

api.onSessionChange(renderAccount);
renderAccount();
startRouter();

if ('serviceWorker' in navigator) {
  void navigator.serviceWorker.register('/sw.js').catch(() => {
    /* served over plain http on a non-loopback host: no offline shell */
  });
}
