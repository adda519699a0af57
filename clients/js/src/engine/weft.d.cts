// Types of dist/engine/weft.cjs, the copy of build/wasm/weft.js that
// scripts/copy-engine.mjs makes (clients/wasm/weft.d.ts has the full ones).
import type { WeftModule } from '../engine.js';
declare function createWeft(): Promise<WeftModule>;
export = createWeft;
