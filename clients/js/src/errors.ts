// The errors the SDK throws or reports (README.md, "Errors").

/** A failed REST call: the server's error body, or status 0 for a network failure. */
export class WeftApiError extends Error {
  override name = 'WeftApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: Record<string, unknown> = {},
    readonly requestId = '',
    /** Seconds from Retry-After on 429. */
    readonly retryAfter?: number,
  ) {
    super(message);
  }
}

/** An edit on a handle the user may only read (a viewer's). */
export class ReadOnlyError extends Error {
  override name = 'ReadOnlyError';
}

/** The protocol's error codes (docs/protocol.md §4). */
export const SyncErrorNames: Record<number, string> = {
  400: 'protocol_error',
  401: 'unauthenticated',
  402: 'token_expired',
  403: 'forbidden',
  404: 'not_found',
  409: 'out_of_order',
  410: 'access_removed',
  413: 'too_large',
  422: 'invalid_update',
  429: 'rate_limited',
  503: 'unavailable',
  508: 'slow_consumer',
};

/** An error the sync server reported for a document or the connection. */
export class SyncError extends Error {
  override name = 'SyncError';
  readonly codeName: string;
  constructor(
    readonly code: number,
    message: string,
    readonly docId = '',
  ) {
    super(message || SyncErrorNames[code] || `error ${code}`);
    this.codeName = SyncErrorNames[code] ?? 'unknown';
  }
}

/**
 * Local storage (IndexedDB) refused a write. `kind` 'edit': an edit's
 * record; the edit is still sent (also after its handle is closed, until
 * acknowledged) but would not survive a reload before it is acknowledged.
 * 'copy': the document's local copy; its edits' records still are stored
 * (reported once until a save succeeds again). 'session': the signed-in
 * session (refresh token); the session is used all the same, but a reload
 * before it is stored again finds the previous one (docId ''). Reported
 * on the client's `error` event; `code` 0, `codeName` 'storage_failed'.
 */
export class StorageError extends SyncError {
  override name = 'StorageError';
  override readonly codeName = 'storage_failed';
  constructor(
    message: string,
    docId: string,
    readonly kind: 'edit' | 'copy' | 'session',
    /** What local storage threw. */
    readonly detail?: unknown,
  ) {
    super(0, message, docId);
  }
}
