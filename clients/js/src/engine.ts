// The WebAssembly engine (build/wasm/weft.js, `make wasm`): the types the
// SDK uses, and the default loader. Types mirror clients/wasm/weft.d.ts.

export interface EngineTextChange {
  pos: number;
  deleted: number;
  inserted: string;
}

export interface EngineTextDoc {
  insert(pos: number, text: string): void;
  remove(pos: number, len: number): void;
  text(): string;
  length(): number;
  stateVector(): Uint8Array;
  opCount(clientId: number): number;
  diff(stateVector: Uint8Array): Uint8Array;
  applyUpdate(update: Uint8Array): EngineTextChange[];
  applyUpdateQuiet(update: Uint8Array): void;
  snapshot(): Uint8Array;
  delete(): void;
}

export type ContainerRef = string;
export type ItemId = string;
export type Value = null | boolean | number | string | { new: 'map' | 'list' | 'text' };

export interface EngineDoc {
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
  toJson(): string;
  stateVector(): Uint8Array;
  opCount(clientId: number): number;
  diff(stateVector: Uint8Array): Uint8Array;
  applyUpdate(update: Uint8Array): void;
  snapshot(): Uint8Array;
  delete(): void;
}

export interface WeftModule {
  TextDoc: { new (clientId: number): EngineTextDoc; load(snapshot: Uint8Array, clientId: number): EngineTextDoc };
  Doc: { new (clientId: number): EngineDoc; load(snapshot: Uint8Array, clientId: number): EngineDoc };
  utf16ToCodePoint(text: string, utf16Offset: number): number;
  codePointToUtf16(text: string, codePointOffset: number): number;
}

/**
 * The default `loadEngine`: the copy of build/wasm/weft.js that
 * `npm run build` puts in dist/engine (the package's `./engine` export).
 */
export async function defaultLoadEngine(): Promise<WeftModule> {
  // A relative specifier keeps Node and bundlers (Vite) resolving the same file.
  const mod = await import('./engine/weft.cjs');
  return mod.default();
}

/** A random client id: 1 .. 2^48 (0 is the server's; below 2^53 for JS numbers). */
export function randomClientId(): number {
  const c = globalThis.crypto;
  const b = new Uint32Array(2);
  if (c?.getRandomValues) c.getRandomValues(b);
  else for (let i = 0; i < 2; i++) b[i] = Math.floor(Math.random() * 2 ** 32);
  return (b[0] % 0x10000) * 2 ** 32 + b[1] + 1;
}
