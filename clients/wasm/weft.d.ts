// TypeScript types for build/wasm/weft.js (`make wasm`), the WebAssembly
// build of weft's text engine. Positions and lengths are Unicode code
// points; convert JavaScript (UTF-16) offsets with utf16ToCodePoint /
// codePointToUtf16. Bytes are Uint8Array; formats in docs/format.md.
// Errors (bad positions, hostile bytes) are thrown as Error whose message
// starts with the status code name, e.g. "corruption: ...".

export interface TextChange {
  /** Code point position in the text after the previous changes. */
  pos: number;
  /** Code points removed at pos. */
  deleted: number;
  /** UTF-8 text inserted at pos (as a JS string). */
  inserted: string;
}

export declare class TextDoc {
  /** clientId: unique per replica, an integer below 2^53. */
  constructor(clientId: number);
  /** A lone surrogate in `text` is stored as U+FFFD. */
  insert(pos: number, text: string): void;
  /** Inserts one code point (e.g. a typed key's `codePointAt(0)`) without
   * converting a string; throws invalid_argument for surrogates and values
   * outside 0..0x10FFFF. */
  insertCodePoint(pos: number, codePoint: number): void;
  /** Deletes len code points at pos (embind reserves `delete` for freeing). */
  remove(pos: number, len: number): void;
  text(): string;
  length(): number;
  stateVector(): Uint8Array;
  /** Operations of `clientId` held: a sync change's first_seq. */
  opCount(clientId: number): number;
  /** The update a peer at `stateVector` lacks. */
  diff(stateVector: Uint8Array): Uint8Array;
  /** The state vector of `clientId` alone: with clientDiff, what a local
   * change needs, at a cost that does not grow with the number of clients
   * the document has had. */
  clientStateVector(clientId: number): Uint8Array;
  /** The update of `clientId`'s operations that `stateVector` lacks (other
   * clients' entries are ignored). After local edits,
   * clientDiff(me, clientStateVector(me) before) equals
   * diff(stateVector() before). */
  clientDiff(clientId: number, stateVector: Uint8Array): Uint8Array;
  /** Only the operations below `upto`, a causally closed state vector
   * (e.g. another replica's). */
  diffRange(have: Uint8Array, upto: Uint8Array): Uint8Array;
  /** Idempotent; any order. Returns the visible changes. */
  applyUpdate(update: Uint8Array): TextChange[];
  /** Like applyUpdate, without building change events. */
  applyUpdateQuiet(update: Uint8Array): void;
  snapshot(): Uint8Array;
  pendingRuns(): number;
  /** Ties code point `pos` to a character, so that a cursor stays on it
   * while others edit: [clientId, seq] of the character at pos (the
   * position is before it); at the end of the text [clientId, seq, 1],
   * after the last character; null for an empty text. Throws
   * invalid_argument beyond the end. */
  anchorAt(pos: number): [number, number] | [number, number, 1] | null;
  /** Where such a position is now in code points (`after`: the anchor's
   * third element; a deleted character's position is where it was), or -1
   * if this replica does not hold the character. Like every call that needs
   * the document, it throws "corruption: ..." on a loaded document whose
   * snapshot failed to build (see load). */
  resolveAnchor(clientId: number, seq: number, after: boolean): number;
  /** Frees the WASM memory of this document. */
  delete(): void;
  /** Checks the snapshot's header and text and keeps the text: text() and
   * length() answer at once. The document itself is built on the first
   * other call (an edit, applyUpdate, stateVector, ...), which then throws
   * "corruption: ..." if the rest of the snapshot is bad, as does every
   * later call on this document. */
  static load(snapshot: Uint8Array, clientId: number): TextDoc;
}

/** Containers: "map:NAME" | "list:NAME" | "text:NAME" (roots) or
 * "map@CLIENT:SEQ" | "list@..." | "text@..." (nested). */
export type ContainerRef = string;
/** A list item's stable id, "CLIENT:SEQ". */
export type ItemId = string;
/** One change reported by Doc.applyUpdate: a map's key, a list's item
 * (inserted, moved, set or deleted), or a text's content (neither). */
export interface StructChange {
  container: ContainerRef;
  key?: string;
  item?: ItemId;
}
/** Integers become int64 registers, other numbers doubles. */
export type Value = null | boolean | number | string | { new: 'map' | 'list' | 'text' };

/** A document: named maps, lists and texts, nested (core/doc.h). */
export declare class Doc {
  constructor(clientId: number);
  /** Returns the new container when value is {new: ...}. */
  mapSet(map: ContainerRef, key: string, value: Value): ContainerRef | undefined;
  mapDelete(map: ContainerRef, key: string): void;
  mapContainer(map: ContainerRef, key: string): ContainerRef | undefined;
  listInsert(list: ContainerRef, index: number, value: Value): ItemId;
  listMove(list: ContainerRef, item: ItemId, index: number): void;
  listSet(list: ContainerRef, item: ItemId, value: Value): void;
  listDelete(list: ContainerRef, item: ItemId): void;
  listIds(list: ContainerRef): ItemId[];
  textInsert(text: ContainerRef, pos: number, s: string): void;
  textRemove(text: ContainerRef, pos: number, len: number): void;
  text(text: ContainerRef): string;
  /** Deterministic JSON of the whole document. */
  toJson(): string;
  stateVector(): Uint8Array;
  /** Operations of `clientId` over all parts: a sync change's first_seq. */
  opCount(clientId: number): number;
  diff(stateVector: Uint8Array): Uint8Array;
  /** The state vector of `clientId` alone: with clientDiff, what a local
   * change needs, at a cost that does not grow with the number of clients
   * the document has had. */
  clientStateVector(clientId: number): Uint8Array;
  /** The update of `clientId`'s operations that `stateVector` lacks (other
   * clients' entries are ignored). After local edits,
   * clientDiff(me, clientStateVector(me) before) equals
   * diff(stateVector() before). */
  clientDiff(clientId: number, stateVector: Uint8Array): Uint8Array;
  /** Idempotent; any order. Returns what changed visibly. */
  applyUpdate(update: Uint8Array): StructChange[];
  snapshot(): Uint8Array;
  delete(): void;
  static load(snapshot: Uint8Array, clientId: number): Doc;
}

export interface WeftModule {
  TextDoc: typeof TextDoc;
  Doc: typeof Doc;
  utf16ToCodePoint(text: string, utf16Offset: number): number;
  codePointToUtf16(text: string, codePointOffset: number): number;
}

declare function createWeft(): Promise<WeftModule>;
export default createWeft;
