// Members and invitations of a workspace (owners manage, others look), and
// the activity feed.
import * as api from '../api';
import { errorBox, field, formatTime, h, mount } from '../dom';
import { loadWorkspace, workspaceHeader } from './dashboard';

const kRoles: api.Role[] = ['owner', 'editor', 'viewer'];

function roleSelect(name: string, value: api.Role, label: string): HTMLSelectElement {
  const s = h('select', { name, 'aria-label': label }, ...kRoles.map((r) => h('option', { value: r }, r)));
  s.value = value;
  return s;
}

export async function members(app: HTMLElement, wsId: string): Promise<void> {
  const err = errorBox();
  const ws = await loadWorkspace(app, wsId);
  if (!ws) return;
  const owner = ws.role === 'owner';
  const me = api.currentUser()?.id;
  const memberList = h('ul', { class: 'list', 'aria-label': 'Members' });
  const inviteList = h('ul', { class: 'list', 'aria-label': 'Invitations' });
  const link = h('div', { class: 'invite-link', role: 'status' });

  const email = h('input', { type: 'email', name: 'invite-email', required: true });
  const role = roleSelect('invite-role', 'editor', 'Role');
  const invite = h('form', { class: 'inline', 'aria-label': 'Invite by email' }, field('Email', email),
    field('Role', role), h('button', { type: 'submit' }, 'Invite'));
  invite.addEventListener('submit', async (e) => {
    e.preventDefault();
    err.clear();
    try {
      const inv = await api.members.invite(wsId, email.value, role.value as api.Role);
      if (inv.token === null) {
        // A replayed answer (the first was lost): the link went by mail only.
        mount(link, h('p', {}, `Invitation for ${email.value} (${inv.role}) sent by email.`));
        email.value = '';
        await refresh();
        return;
      }
      const url = `${location.origin}/invitations/${inv.token}`;
      const out = h('input', { readOnly: true, value: url, 'aria-label': 'Invitation link', class: 'grow' });
      const copy = h('button', { type: 'button' }, 'Copy link');
      copy.addEventListener('click', async () => {
        out.select();
        try {
          await navigator.clipboard.writeText(url);
          copy.textContent = 'Copied';
        } catch {
          copy.textContent = 'Press Ctrl+C to copy';
        }
      });
      mount(link, h('p', {}, `Invitation for ${email.value} (${inv.role}):`), h('div', { class: 'inline' }, out, copy));
      email.value = '';
      await refresh();
    } catch (ex) {
      err.show(ex);
    }
  });

  async function refresh(): Promise<void> {
    try {
      const items = await api.members.list(wsId);
      mount(memberList, ...items.map((m) => {
        const li = h('li', { 'data-member': m.email }, h('span', { class: 'grow' }, `${m.display_name} `, h('small', {}, m.email)));
        if (owner && m.user_id !== me) {
          const sel = roleSelect('role', m.role, `Role of ${m.display_name}`);
          sel.addEventListener('change', () => void act(() => api.members.setRole(wsId, m.user_id, sel.value as api.Role)));
          li.append(sel, h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${m.display_name}`,
            onclick: () => void act(() => api.members.remove(wsId, m.user_id)) }, 'Remove'));
        } else {
          li.append(h('span', { class: 'badge' }, m.role));
        }
        return li;
      }));
      if (owner) {
        const invs = await api.members.invitations(wsId);
        mount(inviteList, ...(invs.length ? invs.map((i) => h('li', {}, h('span', { class: 'grow' }, `${i.email} `,
          h('small', {}, `${i.role}, ${i.status}, expires ${formatTime(i.expires_at)}`)),
          i.status === 'pending' ? h('button', { type: 'button', class: 'secondary', 'aria-label': `Revoke invitation of ${i.email}`,
            onclick: () => void act(() => api.members.revoke(wsId, i.id)) }, 'Revoke') : null))
          : [h('li', { class: 'empty' }, 'No invitations.')]));
      }
    } catch (ex) {
      err.show(ex);
    }
  }
  async function act(fn: () => Promise<unknown>): Promise<void> {
    err.clear();
    try {
      await fn();
    } catch (ex) {
      err.show(ex);
    }
    await refresh();
  }

  mount(app, h('section', { class: 'card' }, workspaceHeader(ws, 'members'), err.el,
    h('h2', {}, 'Members'), memberList,
    owner ? h('h2', {}, 'Invite someone') : null, owner ? invite : null, link,
    owner ? h('h2', {}, 'Invitations') : null, owner ? inviteList : null));
  await refresh();
}

function describe(a: api.Activity, names: Map<string, string>): string {
  const who = names.get(a.user_id) ?? 'Someone';
  const d = a.detail as Record<string, string>;
  const what = d.title ?? d.name ?? d.email ?? d.role ?? '';
  const verb: Record<string, string> = {
    'workspace.created': 'created the workspace', 'workspace.renamed': 'renamed the workspace',
    'member.invited': 'invited', 'member.joined': 'joined', 'member.role_changed': 'changed a role to',
    'member.removed': 'removed a member', 'member.left': 'left', 'ownership.transferred': 'transferred ownership',
    'document.created': 'created', 'document.renamed': 'renamed a document to', 'document.deleted': 'deleted',
    'document.restored': 'restored',
  };
  // Who a member change was about (removed members are no longer named).
  const whom = (id?: string) => (id && names.get(id)) || 'a member';
  if (a.kind === 'member.role_changed') return `${who} changed the role of ${whom(d.user_id)} to ${d.to ?? '?'}`;
  if (a.kind === 'member.removed') return `${who} removed ${whom(d.user_id)}`;
  if (a.kind === 'ownership.transferred') return `${who} transferred ownership to ${whom(d.to)}`;
  return `${who} ${verb[a.kind] ?? a.kind} ${what}`.trim();
}

export async function activity(app: HTMLElement, wsId: string): Promise<void> {
  const err = errorBox();
  try {
    const [ws, items, people] = await Promise.all([api.workspaces.get(wsId), api.activity.list(wsId), api.members.list(wsId)]);
    const names = new Map(people.map((m) => [m.user_id, m.display_name]));
    mount(app, h('section', { class: 'card' }, workspaceHeader(ws, 'activity'),
      h('ol', { class: 'list feed', 'aria-label': 'Activity' },
        ...(items.length ? items.map((a) => h('li', { 'data-kind': a.kind }, h('span', { class: 'grow' }, describe(a, names)),
          h('time', { datetime: a.created_at }, formatTime(a.created_at)))) : [h('li', { class: 'empty' }, 'Nothing yet.')]))));
  } catch (ex) {
    err.show(ex);
    mount(app, err.el);
  }
}
