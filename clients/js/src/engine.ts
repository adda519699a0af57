// The WebAssembly engine (build/wasm/weft.js, `make wasm`): its types and
// the default loader.

import type { Doc, TextDoc, WeftModule } from './engine/weft.cjs';

// The engine's own types (clients/wasm/weft.d.ts, copied by
// scripts/copy-engine.mjs), under the names the SDK uses.
export type { ContainerRef, ItemId, TextChange as EngineTextChange, Value, WeftModule } from './engine/weft.cjs';
export type EngineTextDoc = TextDoc;
export type EngineDoc = Doc;

/**
 * The default `loadEngine`: the package's `./engine` export, the copy of
 * build/wasm/weft.js that `npm run build` puts in dist/engine, as CommonJS
 * for Node and as an ES module for browsers and bundlers (Vite picks it
 * by the export conditions).
 */
export async function defaultLoadEngine(): Promise<WeftModule> {
  const mod = await import('@weft/sdk/engine');
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
