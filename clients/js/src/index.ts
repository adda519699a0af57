// @weft/sdk: README.md is the reference.
export { isValidDocId, WeftClient } from './client.js';
export type { ConnectionStatus, StatusEvent, WeftClientOptions } from './client.js';
export { Auth } from './auth.js';
export { Api } from './rest.js';
export type {
  Activity,
  DocumentInfo,
  DocumentKind,
  Invitation,
  InvitationCreated,
  Member,
  Page,
  Role,
  Session,
  User,
  Workspace,
} from './rest.js';
export { TextHandle, StructHandle } from './document.js';
export type { Origin, StructChangeEvent, TextChangeEvent } from './document.js';
export type { Peer, PresenceHandle, PresenceState, Selection } from './presence.js';
export { cssColor } from './presence.js';
export type { ContainerRef, ItemId, StructChange, Value, WeftModule } from './engine.js';
export type { TextChange } from './unicode.js';
export { ReadOnlyError, StorageError, SyncError, WeftApiError } from './errors.js';
export { MemoryStore, IndexedDbStore } from './storage.js';
export type { DocKind, LocalStore, PendingDoc } from './storage.js';
