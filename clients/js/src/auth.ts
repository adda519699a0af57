// `client.auth`: sign-up, sign-in, sign-out, password reset, and keeping an
// access token fresh with the rotating refresh token (docs/auth.md,
// "Refresh rotation and reuse detection").
//
// A refresh token may be presented once: presenting it again revokes the
// whole session. So refreshes are single-flight per client, and across
// tabs they run under the Web Lock `weft-refresh`; inside the lock the
// stored session is read again and, when another tab already rotated it,
// adopted instead of refreshed.

import { Emitter } from './emitter.js';
import { StorageError, WeftApiError } from './errors.js';
import type { Http, Session, TokenSource, User } from './rest.js';
import type { LocalStore, StoredSession } from './storage.js';

/** Refresh this long before the access token expires. */
const kRefreshMarginMs = 60_000;

type AuthEvents = { change: User | null; token: string };

export class Auth implements TokenSource {
  private session: StoredSession | null = null;
  private refreshing: Promise<boolean> | null = null;
  /** A password change on its way (it ends and replaces the session). */
  private changing: Promise<void> | null = null;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** client.close() ran: no refresh from now on (see dispose). */
  private disposed = false;
  private readonly events = new Emitter<AuthEvents>();
  /** Called before the user changes (sign-out, another user): closes handles. */
  beforeChange: (next: User | null, opts: { discardOffline?: boolean }) => Promise<void> = async () => {};
  /** Local storage refused to store (or clear) the session: the client's `error` event. */
  storageError: (e: StorageError) => void = () => {};

  constructor(
    private readonly http: Http,
    private readonly store: LocalStore | null,
  ) {}

  /** A refresh is scheduled (for tests: none after client.close()). */
  get hasRefreshTimer(): boolean {
    return this.timer !== undefined;
  }

  get user(): User | null {
    return this.session?.user ?? null;
  }

  /** 'change' (the user signed in or out) or 'token' (a new access token). */
  on<K extends keyof AuthEvents>(event: K, cb: (v: AuthEvents[K]) => void): () => void {
    return this.events.on(event, cb);
  }

  /** Restores a stored session (after a reload). */
  async restore(): Promise<void> {
    const s = await this.store?.loadSession();
    if (s) this.adopt(s);
  }

  async signUp(p: { email: string; password: string; name: string }): Promise<User> {
    const s = await this.http.request<Session>('POST', '/api/v1/auth/register', {
      auth: false,
      body: { email: p.email, password: p.password, display_name: p.name },
    });
    return this.start(s);
  }

  async signIn(p: { email: string; password: string }): Promise<User> {
    const s = await this.http.request<Session>('POST', '/api/v1/auth/login', { auth: false, body: p });
    return this.start(s);
  }

  /** Ends the session on the server (best effort) and locally. */
  async signOut(opts: { discardOffline?: boolean } = {}): Promise<void> {
    const s = this.session;
    await this.beforeChange(null, opts);
    await this.set(null);
    if (s) {
      await this.http
        .request('POST', '/api/v1/auth/logout', { auth: false, body: { refresh_token: s.refreshToken } })
        .catch(() => undefined);
    }
  }

  async requestPasswordReset(email: string): Promise<void> {
    await this.http.request('POST', '/api/v1/auth/password-reset/request', { auth: false, body: { email } });
  }

  /**
   * Sets a new password with a reset link's token. The server ends every
   * session of that user and signs us in as them: the user, or null when
   * the password was replaced but no session could be started (sign in).
   * Someone else signed in on this client is signed out on the server.
   */
  async resetPassword(token: string, password: string): Promise<User | null> {
    const before = this.session;
    const user = await this.replacing(async () => {
      const s = await this.http.request<Session | undefined>('POST', '/api/v1/auth/password-reset/confirm', {
        auth: false,
        body: { token, new_password: password },
      });
      return s ? this.start(s) : null;
    });
    if (user && before && before.user.id !== user.id) {
      await this.http
        .request('POST', '/api/v1/auth/logout', { auth: false, body: { refresh_token: before.refreshToken } })
        .catch(() => undefined);
    }
    return user;
  }

  /** Changes the password; the server ends every session and starts a new one for us. */
  async changePassword(current: string, next: string): Promise<void> {
    await this.replacing(async () => {
      const s = await this.http.request<Session>('POST', '/api/v1/me/password', {
        body: { current_password: current, new_password: next },
      });
      await this.start(s);
    });
  }

  /**
   * Runs a request that ends this user's sessions on the server and answers
   * a new one. The server also ends this client's sessions (the sync
   * connection closes with 4401, whose refresh would present the revoked
   * token): a refresh waits for the new session instead.
   */
  private async replacing<T>(request: () => Promise<T>): Promise<T> {
    const run = request();
    const done = run.then(
      () => undefined,
      () => undefined,
    );
    this.changing = done;
    try {
      return await run;
    } finally {
      if (this.changing === done) this.changing = null;
    }
  }

  /** A valid access token (refreshed first when it is about to expire), or null when signed out. */
  async accessToken(): Promise<string | null> {
    if (!this.session) return null;
    if (Date.now() >= this.session.expiresAt - kRefreshMarginMs) await this.refresh();
    return this.session?.accessToken ?? null;
  }

  async refreshAfter401(rejected: string): Promise<boolean> {
    if (!this.session) return false;
    if (this.session.accessToken !== rejected) return true; // already refreshed meanwhile
    return this.refresh();
  }

  /** Rotates the refresh token; false (and signed out) when the server refuses it. */
  refresh(): Promise<boolean> {
    if (this.disposed) return Promise.resolve(false);
    if (!this.refreshing) {
      this.refreshing = this.withLock(() => this.rotate()).finally(() => {
        this.refreshing = null;
      });
    }
    return this.refreshing;
  }

  /**
   * client.close(): no timer and no refresh from now on. A closed client
   * that went on rotating the stored refresh token could race a new
   * client of the same storage; the loser of such a race is refused
   * (reuse) and signs out, clearing the session both share.
   */
  dispose(): void {
    this.disposed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.events.clear();
  }

  private async rotate(): Promise<boolean> {
    if (this.changing) {
      const before = this.session;
      await this.changing.catch(() => undefined);
      if (this.session !== before) return this.session !== null; // the change's session
    }
    const mine = this.session;
    if (!mine) return false;
    const stored = await this.store?.loadSession();
    if (stored && stored.user.id === mine.user.id && stored.refreshToken !== mine.refreshToken) {
      this.adopt(stored); // another tab rotated it already
      if (Date.now() < stored.expiresAt - kRefreshMarginMs) return true;
    }
    const presented = this.session!;
    const token = presented.refreshToken;
    try {
      const s = await this.http.request<Session>('POST', '/api/v1/auth/refresh', {
        auth: false,
        body: { refresh_token: token },
      });
      await this.set(toStored(s));
      return true;
    } catch (e) {
      if (e instanceof WeftApiError && (e.status === 401 || e.status === 400)) {
        // A newer session arrived meanwhile (a password change): keep it.
        if (this.session !== presented) return this.session !== null;
        // Another tab stored a new session of this user after we read the
        // stored one (it changed the password, or rotated the token): take
        // it, before anything is closed; it is no sign-out.
        const stored = await this.store?.loadSession();
        if (this.session !== presented) return this.session !== null;
        if (stored && stored.user.id === presented.user.id && stored.refreshToken !== token) {
          this.adopt(stored);
          return true;
        }
        await this.beforeChange(null, {});
        // ... also while the handles were closing (which can take seconds).
        if (this.session !== presented) return this.session !== null;
        // Another tab may have stored a session since (rotated it, or
        // someone else signed in there): that one is not ours to clear.
        const current = await this.store?.loadSession();
        if (current && current.refreshToken !== token) {
          if (current.user.id === presented.user.id) {
            this.adopt(current);
            return true;
          }
          this.forget();
          return false;
        }
        await this.set(null);
        return false;
      }
      throw e; // network or 5xx: keep the session, try again later
    }
  }

  private async withLock<T>(fn: () => Promise<T>): Promise<T> {
    const locks = (globalThis.navigator as Navigator | undefined)?.locks;
    if (!locks) return fn();
    return locks.request('weft-refresh', fn) as Promise<T>;
  }

  private async start(s: Session): Promise<User> {
    const next = toStored(s);
    if (this.session?.user.id !== next.user.id) await this.beforeChange(next.user, {});
    await this.set(next);
    return next.user;
  }

  private adopt(s: StoredSession): void {
    const changed = this.session?.user.id !== s.user.id;
    this.session = s;
    this.schedule();
    if (changed) this.events.emit('change', s.user);
    this.events.emit('token', s.accessToken);
  }

  /**
   * Takes `s` (null: signed out) in memory first, then stores it. A
   * refresh's new session must be used whatever storage does: the server
   * has marked the token it replaced as used, and presenting that one
   * again would end the session (reuse). A refused write is reported
   * (StorageError, kind 'session'), never an error of the sign-in or
   * refresh.
   */
  private async set(s: StoredSession | null): Promise<void> {
    if (s) this.adopt(s);
    else this.forget();
    try {
      await this.store?.saveSession(s);
    } catch (e) {
      const what = s ? 'storing the session' : 'clearing the stored session';
      this.storageError(new StorageError(`${what} failed: ${String(e)}`, '', 'session', e));
    }
  }

  /** Signed out in this tab (what is stored is left as it is). */
  private forget(): void {
    const had = this.session !== null;
    this.session = null;
    clearTimeout(this.timer);
    if (had) this.events.emit('change', null);
  }

  private schedule(): void {
    clearTimeout(this.timer);
    if (!this.session || this.disposed) return;
    const delay = Math.max(5000, this.session.expiresAt - kRefreshMarginMs - Date.now());
    this.timer = setTimeout(() => void this.refresh().catch(() => this.schedule()), Math.min(delay, 2 ** 31 - 1));
    (this.timer as { unref?: () => void }).unref?.();
  }
}

function toStored(s: Session): StoredSession {
  return {
    refreshToken: s.refresh_token,
    accessToken: s.access_token,
    expiresAt: Date.now() + s.expires_in * 1000,
    user: s.user,
  };
}
