// Typed wrappers of the REST API (docs/openapi.yaml). Field names stay as
// on the wire (snake_case). Signed-in calls carry the access token; after a
// 401 the token is refreshed once and the call retried.

import { WeftApiError } from './errors.js';

export type Role = 'owner' | 'editor' | 'viewer';
export type DocumentKind = 'text' | 'board' | 'canvas';

export interface User {
  id: string;
  email: string;
  display_name: string;
}
export interface Session {
  user: User;
  access_token: string;
  refresh_token: string;
  expires_in: number;
}
export interface Workspace {
  id: string;
  name: string;
  role: Role;
  created_at?: string;
}
export interface Member {
  user_id: string;
  email: string;
  display_name: string;
  role: Role;
}
export interface Invitation {
  id: string;
  email: string;
  role: Role;
  /** 'void': whoever sent it is no longer an owner; it cannot be accepted. */
  status: 'pending' | 'accepted' | 'expired' | 'void';
  created_at: string;
  expires_at: string;
}
export interface InvitationCreated {
  id: string;
  /** Null in a replayed answer (Idempotency-Key): the token is never stored; the invitation mail has it. */
  token: string | null;
  url: string | null;
  role: Role;
  expires_at: string;
}
export interface DocumentInfo {
  id: string;
  workspace_id: string;
  kind: DocumentKind;
  title: string;
  created_at: string;
  updated_at: string;
  deleted_at?: string;
}
export interface Activity {
  id: string;
  kind: string;
  user_id: string;
  document_id: string | null;
  detail: Record<string, unknown>;
  created_at: string;
}
export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /** Send a bearer token (default true). */
  auth?: boolean;
  /** Send an Idempotency-Key (creations). */
  idempotent?: boolean;
}

/** What the HTTP layer needs from the auth layer. */
export interface TokenSource {
  /** A valid access token, or null when signed out. */
  accessToken(): Promise<string | null>;
  /** Called after a 401: refresh; true if a new token is available. */
  refreshAfter401(rejected: string): Promise<boolean>;
}

/** Resends of a creation (same Idempotency-Key) after a lost answer. */
const kIdempotentRetries = 3;
const kRetryDelayMs = 250;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function idempotencyKey(): string {
  const c = globalThis.crypto;
  if (c?.randomUUID) return c.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}

export class Http {
  tokens: TokenSource | null = null;

  constructor(
    private readonly base: string,
    private readonly fetchImpl: typeof fetch,
  ) {}

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    const auth = opts.auth ?? true;
    const key = opts.idempotent ? idempotencyKey() : undefined;
    let token = auth ? await this.tokens?.accessToken() : null;
    if (auth && !token) throw new WeftApiError(401, 'unauthenticated', 'not signed in');
    let refreshed = false;
    let retries = 0;
    for (;;) {
      let res: Response;
      try {
        res = await this.send(method, path, opts, token ?? null, key);
      } catch (e) {
        // A creation whose answer was lost may have happened: resend it
        // under the same key, which replays the answer instead of creating
        // a second one.
        if (key && e instanceof WeftApiError && e.code === 'network_error' && retries < kIdempotentRetries) {
          await sleep(kRetryDelayMs * 2 ** retries++);
          continue;
        }
        throw e;
      }
      if (res.status === 401 && auth && !refreshed && (await this.tokens!.refreshAfter401(token!))) {
        refreshed = true;
        token = await this.tokens!.accessToken();
        if (token) continue;
      }
      const text = await res.text();
      let body;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // Not weftd's answer: a proxy's error page while weftd restarts
        // (offline, as when it cannot be reached), or something else.
        if (res.status === 502 || res.status === 503 || res.status === 504) {
          throw new WeftApiError(0, 'network_error', `the server is unreachable (${res.status} from a proxy)`);
        }
        throw new WeftApiError(res.status, `http_${res.status}`, `the server answered ${res.status} with something that is not JSON`);
      }
      if (res.ok) return body as T;
      const e = body?.error ?? {};
      // The same key still running on the server (an earlier attempt):
      // wait for it, then get its answer.
      if (key && res.status === 409 && e.code === 'idempotency_key_in_use' && retries < kIdempotentRetries) {
        await sleep(kRetryDelayMs * 2 ** retries++);
        continue;
      }
      const retry = res.headers.get('Retry-After');
      throw new WeftApiError(
        res.status,
        e.code ?? `http_${res.status}`,
        e.message ?? res.statusText,
        e.details ?? {},
        e.request_id ?? '',
        retry ? Number(retry) : undefined,
      );
    }
  }

  private async send(
    method: string,
    path: string,
    opts: RequestOptions,
    token: string | null,
    key: string | undefined,
  ): Promise<Response> {
    const url = new URL(path, this.base);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    if (token) headers.Authorization = `Bearer ${token}`;
    if (key) headers['Idempotency-Key'] = key;
    try {
      return await this.fetchImpl(url, {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      });
    } catch (e) {
      throw new WeftApiError(0, 'network_error', e instanceof Error ? e.message : String(e));
    }
  }
}

const enc = encodeURIComponent;
type Items<T> = { items: T[] };

/** `client.api`: one object per tag of docs/openapi.yaml. */
export class Api {
  constructor(private readonly http: Http) {}

  private call<T>(method: string, path: string, opts?: RequestOptions): Promise<T> {
    return this.http.request<T>(method, `/api/v1${path}`, opts);
  }

  readonly me = {
    get: () => this.call<User>('GET', '/me'),
    rename: (display_name: string) => this.call<User>('PATCH', '/me', { body: { display_name } }),
  };

  readonly workspaces = {
    list: async () => (await this.call<Items<Workspace>>('GET', '/workspaces')).items,
    get: (id: string) => this.call<Workspace>('GET', `/workspaces/${enc(id)}`),
    create: (name: string) => this.call<Workspace>('POST', '/workspaces', { body: { name }, idempotent: true }),
    rename: (id: string, name: string) => this.call<Workspace>('PATCH', `/workspaces/${enc(id)}`, { body: { name } }),
    remove: (id: string) => this.call<void>('DELETE', `/workspaces/${enc(id)}`),
    leave: (id: string) => this.call<void>('POST', `/workspaces/${enc(id)}/leave`),
    transferOwnership: (id: string, userId: string) =>
      this.call<void>('POST', `/workspaces/${enc(id)}/transfer-ownership`, { body: { user_id: userId } }),
  };

  readonly documents = {
    list: (ws: string, q: { q?: string; deleted?: boolean; cursor?: string; limit?: number } = {}) =>
      this.call<Page<DocumentInfo>>('GET', `/workspaces/${enc(ws)}/documents`, { query: q }),
    get: (id: string) => this.call<DocumentInfo>('GET', `/documents/${enc(id)}`),
    create: (ws: string, d: { kind: DocumentKind; title: string }) =>
      this.call<DocumentInfo>('POST', `/workspaces/${enc(ws)}/documents`, { body: d, idempotent: true }),
    rename: (id: string, title: string) => this.call<DocumentInfo>('PATCH', `/documents/${enc(id)}`, { body: { title } }),
    remove: (id: string) => this.call<void>('DELETE', `/documents/${enc(id)}`),
    restore: (id: string) => this.call<DocumentInfo>('POST', `/documents/${enc(id)}/restore`),
    content: (id: string) => this.call<Record<string, unknown>>('GET', `/documents/${enc(id)}/content`),
  };

  readonly members = {
    list: async (ws: string) => (await this.call<Items<Member>>('GET', `/workspaces/${enc(ws)}/members`)).items,
    invite: (ws: string, i: { email: string; role: Role }) =>
      this.call<InvitationCreated>('POST', `/workspaces/${enc(ws)}/invitations`, { body: i, idempotent: true }),
    setRole: (ws: string, userId: string, role: Role) =>
      this.call<Member>('PATCH', `/workspaces/${enc(ws)}/members/${enc(userId)}`, { body: { role } }),
    remove: (ws: string, userId: string) => this.call<void>('DELETE', `/workspaces/${enc(ws)}/members/${enc(userId)}`),
  };

  readonly invitations = {
    list: async (ws: string) => (await this.call<Items<Invitation>>('GET', `/workspaces/${enc(ws)}/invitations`)).items,
    revoke: (ws: string, id: string) => this.call<void>('DELETE', `/workspaces/${enc(ws)}/invitations/${enc(id)}`),
    accept: (token: string) => this.call<Workspace>('POST', `/invitations/${enc(token)}/accept`),
  };

  readonly activity = {
    list: (ws: string, q: { cursor?: string; limit?: number } = {}) =>
      this.call<Page<Activity>>('GET', `/workspaces/${enc(ws)}/activity`, { query: q }),
  };
}
