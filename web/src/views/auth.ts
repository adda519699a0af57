// Sign up, sign in, password reset (request and confirm), accept invitation.
import * as api from '../api';
import { errorBox, field, h, mount } from '../dom';
import { navigate } from '../router';

function form(title: string, fields: HTMLElement[], submit: string, onSubmit: () => Promise<void>, footer?: Node) {
  const err = errorBox();
  const button = h('button', { type: 'submit' }, submit);
  const f = h('form', { class: 'card narrow', 'aria-label': title }, h('h1', {}, title), ...fields, err.el, button, footer);
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    button.disabled = true;
    try {
      await onSubmit();
    } catch (ex) {
      err.show(ex);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

function after(): void {
  const next = sessionStorage.getItem('weft.after-signin');
  sessionStorage.removeItem('weft.after-signin');
  navigate(next ?? '/', true);
}

export function signIn(app: HTMLElement): void {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true });
  mount(app, form('Sign in', [field('Email', email), field('Password', password)], 'Sign in',
    async () => { await api.auth.signIn(email.value, password.value); after(); },
    h('p', {}, h('a', { href: '/signup', 'data-link': true }, 'Create an account'), ' · ',
      h('a', { href: '/forgot-password', 'data-link': true }, 'Forgot password?'))));
  email.focus();
}

export function signUp(app: HTMLElement): void {
  const name = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: 100 });
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  mount(app, form('Create an account', [field('Name', name), field('Email', email), field('Password (10 characters or more)', password)], 'Sign up',
    async () => { await api.auth.signUp(email.value, password.value, name.value); after(); },
    h('p', {}, 'Have an account? ', h('a', { href: '/signin', 'data-link': true }, 'Sign in'))));
  name.focus();
}

export function forgotPassword(app: HTMLElement): void {
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true });
  const done = h('p', { role: 'status' });
  mount(app, form('Reset your password', [field('Email', email), done], 'Send reset link', async () => {
    await api.auth.requestPasswordReset(email.value);
    done.textContent = 'If an account exists for this address, a reset link is on its way.';
  }, h('p', {}, h('a', { href: '/signin', 'data-link': true }, 'Back to sign in'))));
  email.focus();
}

export function resetPassword(app: HTMLElement, token: string): void {
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  mount(app, form('Choose a new password', [field('New password', password)], 'Set password', async () => {
    const user = await api.auth.resetPassword(token, password.value);
    mount(app, h('section', { class: 'card narrow' }, h('h1', {}, 'Password changed'),
      ...(user
        ? [h('p', { role: 'status' }, 'You are signed in; other sessions were signed out.'),
          h('a', { href: '/', 'data-link': true, class: 'button' }, 'Continue')]
        : [h('p', { role: 'status' }, 'Sign in with your new password.'),
          h('a', { href: '/signin', 'data-link': true, class: 'button' }, 'Sign in')])));
  }));
  password.focus();
}

export function acceptInvitation(app: HTMLElement, token: string): void {
  if (!api.currentUser()) {
    sessionStorage.setItem('weft.after-signin', location.pathname);
    mount(app, h('section', { class: 'card narrow' }, h('h1', {}, 'You are invited'),
      h('p', {}, 'Sign in or create an account to join the workspace.'),
      h('p', {}, h('a', { href: '/signin', 'data-link': true, class: 'button' }, 'Sign in'), ' ',
        h('a', { href: '/signup', 'data-link': true, class: 'button secondary' }, 'Sign up'))));
    return;
  }
  const err = errorBox();
  const button = h('button', { type: 'button' }, 'Accept invitation');
  button.addEventListener('click', async () => {
    err.clear();
    try {
      const ws = await api.members.accept(token);
      navigate(`/w/${ws.id}`, true);
    } catch (e) {
      if (e instanceof api.ApiError && e.code === 'already_member') navigate('/', true);
      else err.show(e);
    }
  });
  mount(app, h('section', { class: 'card narrow' }, h('h1', {}, 'Join a workspace'),
    h('p', {}, 'You were invited to a weft workspace.'), err.el, button));
  button.focus();
}
