// The WebAssembly engine (build/wasm/weft.js, `make wasm`): its types and
// the default loader.

import type { Doc, TextDoc, WeftModule } from './engine/weft.cjs';

// The engine's own types (clients/wasm/weft.d.ts, copied by
// scripts/copy-engine.mjs), under the names the SDK uses.
export type { ContainerRef, ItemId, StructChange, TextChange as EngineTextChange, Value, WeftModule } from './engine/weft.cjs';
export type EngineTextDoc = TextDoc;
export type EngineDoc = Doc;

/**
 * The default `loadEngine`: the copy of build/wasm/weft.js that
 * `npm run build` puts in dist/engine, as CommonJS for Node and as an ES
 * module for browsers. Relative imports, not the package name, so that the
 * SDK linked into an app (`file:`, workspaces) still finds it; the Node
 * one is hidden from bundlers, which only see the browser one.
 */
export async function defaultLoadEngine(): Promise<WeftModule> {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  const isNode = typeof proc?.versions?.node === 'string';
  if (isNode) {
    const nodeCopy = './engine/weft.cjs';
    const mod = (await import(/* @vite-ignore */ nodeCopy)) as { default: () => Promise<WeftModule> };
    return mod.default();
  }
  const mod = await import('./engine/weft.mjs');
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
