// The REST calls of the web app (docs/openapi.yaml) and the signed-in
// session, kept in localStorage so a reload (also offline) stays signed in.
// A thin layer over fetch: the sync engine and documents come from the SDK
// (clients/js); this file only covers what the SDK's `client.api` does not
// yet offer on this branch.

export type Role = 'owner' | 'editor' | 'viewer';
export type Kind = 'text' | 'board' | 'canvas';
export interface User { id: string; email: string; display_name: string }
export interface Session { user: User; access_token: string; refresh_token: string; expires_in: number }
export interface Workspace { id: string; name: string; role: Role; created_at?: string }
export interface DocumentMeta {
  id: string; workspace_id: string; kind: Kind; title: string;
  created_at: string; updated_at: string; deleted_at?: string;
}
export interface Member { user_id: string; email: string; display_name: string; role: Role }
export interface Invitation { id: string; email: string; role: Role; status: string; created_at: string; expires_at: string }
export interface CreatedInvitation { id: string; token: string; url: string; role: Role; expires_at: string }
export interface Activity {
  id: string; kind: string; user_id: string; document_id: string | null;
  detail: Record<string, unknown>; created_at: string;
}

/** An error answer of the API: stable code, message, HTTP status. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

const kSessionKey = 'weft.session';
type Listener = () => void;
const listeners = new Set<Listener>();
let session: Session | null = load();

function load(): Session | null {
  try {
    const raw = localStorage.getItem(kSessionKey);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

function store(s: Session | null): void {
  session = s;
  if (s) localStorage.setItem(kSessionKey, JSON.stringify(s));
  else localStorage.removeItem(kSessionKey);
  for (const l of listeners) l();
}

export function currentSession(): Session | null { return session; }
export function onSessionChange(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

let refreshing: Promise<boolean> | null = null;
async function refresh(): Promise<boolean> {
  if (!session) return false;
  refreshing ??= (async () => {
    try {
      const res = await fetch('/api/v1/auth/refresh', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: session!.refresh_token }),
      });
      if (res.ok) {
        store((await res.json()) as Session);
        return true;
      }
      if (res.status === 401) store(null);
      return false;
    } finally {
      refreshing = null;
    }
  })();
  return refreshing;
}

/** Refreshes the access token now (for the sync connection). */
export async function freshAccessToken(): Promise<string | null> {
  if (!session) return null;
  await refresh();
  return session?.access_token ?? null;
}

async function call<T>(method: string, path: string, body?: unknown, retry = true): Promise<T> {
  const headers: Record<string, string> = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (session) headers.Authorization = `Bearer ${session.access_token}`;
  const res = await fetch('/api/v1' + path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (res.status === 401 && retry && session && !path.startsWith('/auth/')) {
    if (await refresh()) return call<T>(method, path, body, false);
  }
  if (!res.ok) {
    let code = 'http_' + res.status;
    let message = res.statusText || 'request failed';
    try {
      const e = (await res.json()) as { error: { code: string; message: string } };
      code = e.error.code;
      message = e.error.message;
    } catch {
      /* not JSON */
    }
    throw new ApiError(res.status, code, message);
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text ? JSON.parse(text) : undefined) as T;
}

const enc = encodeURIComponent;

export const auth = {
  async signUp(email: string, password: string, name: string): Promise<User> {
    const s = await call<Session>('POST', '/auth/register', { email, password, display_name: name });
    store(s);
    return s.user;
  },
  async signIn(email: string, password: string): Promise<User> {
    const s = await call<Session>('POST', '/auth/login', { email, password });
    store(s);
    return s.user;
  },
  async signOut(): Promise<void> {
    const s = session;
    store(null);
    if (s) await call('POST', '/auth/logout', { refresh_token: s.refresh_token }).catch(() => {});
  },
  requestPasswordReset: (email: string) => call('POST', '/auth/password-reset/request', { email }),
  resetPassword: (token: string, password: string) =>
    call('POST', '/auth/password-reset/confirm', { token, new_password: password }),
};

export const workspaces = {
  list: async () => (await call<{ items: Workspace[] }>('GET', '/workspaces')).items,
  get: (id: string) => call<Workspace>('GET', `/workspaces/${enc(id)}`),
  create: (name: string) => call<Workspace>('POST', '/workspaces', { name }),
};

export const documents = {
  async list(ws: string, opts: { q?: string; deleted?: boolean } = {}): Promise<DocumentMeta[]> {
    const p = new URLSearchParams({ limit: '200' });
    if (opts.q) p.set('q', opts.q);
    if (opts.deleted) p.set('deleted', 'true');
    return (await call<{ items: DocumentMeta[] }>('GET', `/workspaces/${enc(ws)}/documents?${p}`)).items;
  },
  get: (id: string) => call<DocumentMeta>('GET', `/documents/${enc(id)}`),
  create: (ws: string, kind: Kind, title: string) =>
    call<DocumentMeta>('POST', `/workspaces/${enc(ws)}/documents`, { kind, title }),
  rename: (id: string, title: string) => call<DocumentMeta>('PATCH', `/documents/${enc(id)}`, { title }),
  remove: (id: string) => call<void>('DELETE', `/documents/${enc(id)}`),
  restore: (id: string) => call<DocumentMeta>('POST', `/documents/${enc(id)}/restore`),
  content: (id: string) => call<Record<string, unknown>>('GET', `/documents/${enc(id)}/content`),
};

export const members = {
  list: async (ws: string) => (await call<{ items: Member[] }>('GET', `/workspaces/${enc(ws)}/members`)).items,
  setRole: (ws: string, user: string, role: Role) =>
    call<Member>('PATCH', `/workspaces/${enc(ws)}/members/${enc(user)}`, { role }),
  remove: (ws: string, user: string) => call<void>('DELETE', `/workspaces/${enc(ws)}/members/${enc(user)}`),
  invite: (ws: string, email: string, role: Role) =>
    call<CreatedInvitation>('POST', `/workspaces/${enc(ws)}/invitations`, { email, role }),
  invitations: async (ws: string) =>
    (await call<{ items: Invitation[] }>('GET', `/workspaces/${enc(ws)}/invitations`)).items,
  revoke: (ws: string, id: string) => call<void>('DELETE', `/workspaces/${enc(ws)}/invitations/${enc(id)}`),
  accept: (token: string) => call<Workspace>('POST', `/invitations/${enc(token)}/accept`),
};

export const activity = {
  list: async (ws: string) =>
    (await call<{ items: Activity[] }>('GET', `/workspaces/${enc(ws)}/activity?limit=50`)).items,
};
