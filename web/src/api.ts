// The app's one WeftClient (@weft/sdk, clients/js) and the REST calls the
// views make through it. The SDK keeps the session (IndexedDB, so a reload,
// offline too, stays signed in), refreshes tokens and runs sync.
import { WeftApiError, WeftClient } from '@weft/sdk';
import type { Activity, DocumentInfo, DocumentKind, Member, Role, User, Workspace } from '@weft/sdk';

export { WeftApiError as ApiError };
export type { Activity, Member, Role, User, Workspace };
export type Kind = DocumentKind;
export type DocumentMeta = DocumentInfo;

let theClient: WeftClient | null = null;

/** Creates the client (engine, local storage, stored session). */
export async function init(): Promise<WeftClient> {
  theClient = await WeftClient.create({ url: location.origin, storage: 'indexeddb', clientName: 'weft-web' });
  return theClient;
}

export function client(): WeftClient {
  if (!theClient) throw new Error('init() first');
  return theClient;
}

export function currentUser(): User | null { return client().auth.user; }
export function onUserChange(cb: () => void): () => void { return client().auth.on('change', cb); }

export const auth = {
  signUp: (email: string, password: string, name: string) => client().auth.signUp({ email, password, name }),
  signIn: (email: string, password: string) => client().auth.signIn({ email, password }),
  signOut: () => client().auth.signOut(),
  requestPasswordReset: (email: string) => client().auth.requestPasswordReset(email),
  resetPassword: (token: string, password: string) => client().auth.resetPassword(token, password),
};

export const workspaces = {
  list: () => client().api.workspaces.list(),
  get: (id: string) => client().api.workspaces.get(id),
  create: (name: string) => client().api.workspaces.create(name),
};

export const documents = {
  list: async (ws: string, opts: { q?: string; deleted?: boolean } = {}) =>
    (await client().api.documents.list(ws, { ...opts, limit: 200 })).items,
  get: (id: string) => client().api.documents.get(id),
  create: (ws: string, kind: Kind, title: string) => client().api.documents.create(ws, { kind, title }),
  rename: (id: string, title: string) => client().api.documents.rename(id, title),
  remove: (id: string) => client().api.documents.remove(id),
  restore: (id: string) => client().api.documents.restore(id),
};

export const members = {
  list: (ws: string) => client().api.members.list(ws),
  setRole: (ws: string, user: string, role: Role) => client().api.members.setRole(ws, user, role),
  remove: (ws: string, user: string) => client().api.members.remove(ws, user),
  invite: (ws: string, email: string, role: Role) => client().api.members.invite(ws, { email, role }),
  invitations: (ws: string) => client().api.invitations.list(ws),
  revoke: (ws: string, id: string) => client().api.invitations.revoke(ws, id),
  accept: (token: string) => client().api.invitations.accept(token),
};

export const activity = {
  list: async (ws: string) => (await client().api.activity.list(ws, { limit: 50 })).items,
};
