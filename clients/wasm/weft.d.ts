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
  insert(pos: number, text: string): void;
  /** Deletes len code points at pos (embind reserves `delete` for freeing). */
  remove(pos: number, len: number): void;
  text(): string;
  length(): number;
  stateVector(): Uint8Array;
  /** The update a peer at `stateVector` lacks. */
  diff(stateVector: Uint8Array): Uint8Array;
  /** Only the operations below `upto`, a causally closed state vector
   * (e.g. another replica's). */
  diffRange(have: Uint8Array, upto: Uint8Array): Uint8Array;
  /** Idempotent; any order. Returns the visible changes. */
  applyUpdate(update: Uint8Array): TextChange[];
  /** Like applyUpdate, without building change events. */
  applyUpdateQuiet(update: Uint8Array): void;
  snapshot(): Uint8Array;
  pendingRuns(): number;
  /** Frees the WASM memory of this document. */
  delete(): void;
  static load(snapshot: Uint8Array, clientId: number): TextDoc;
}

export interface WeftModule {
  TextDoc: typeof TextDoc;
  utf16ToCodePoint(text: string, utf16Offset: number): number;
  codePointToUtf16(text: string, codePointOffset: number): number;
}

declare function createWeft(): Promise<WeftModule>;
export default createWeft;
