// Copies the engine (build/wasm/weft.js from `make wasm`) into
// dist/engine/ so that `@weft/sdk/engine` resolves in Node and bundlers.
// WEFT_WASM overrides where weft.js is read from.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const from = process.env.WEFT_WASM ?? path.join(root, 'build/wasm/weft.js');
const to = path.resolve(here, '../dist/engine');
if (!fs.existsSync(from)) {
  console.error(`copy-engine: ${from} is missing; run 'make wasm' first`);
  process.exit(1);
}
fs.mkdirSync(to, { recursive: true });
fs.copyFileSync(from, path.join(to, 'weft.cjs'));
fs.copyFileSync(path.join(root, 'clients/wasm/weft.d.ts'), path.join(to, 'weft.d.ts'));
