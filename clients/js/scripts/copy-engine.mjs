// Puts the engine where the package finds it: build/wasm/weft.js (from
// `make wasm`) becomes dist/engine/weft.cjs, the `@weft/sdk/engine` export;
// its types, clients/wasm/weft.d.ts, become src/engine/weft.d.cts (for tsc)
// and dist/engine/weft.d.cts. Runs before tsc. WEFT_WASM overrides where
// weft.js is read from.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../../..');
const from = process.env.WEFT_WASM ?? path.join(root, 'build/wasm/weft.js');
const types = path.join(root, 'clients/wasm/weft.d.ts');
if (!fs.existsSync(from)) {
  console.error(`copy-engine: ${from} is missing; run 'make wasm' first`);
  process.exit(1);
}
for (const dir of ['src/engine', 'dist/engine']) {
  fs.mkdirSync(path.resolve(here, '..', dir), { recursive: true });
  fs.copyFileSync(types, path.resolve(here, '..', dir, 'weft.d.cts'));
}
fs.copyFileSync(from, path.resolve(here, '../dist/engine/weft.cjs'));
