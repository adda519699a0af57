// Puts the engine where the package finds it: build/wasm/weft.js (from
// `make wasm`) becomes dist/engine/weft.cjs (Node) and weft.mjs (browsers),
// the `@weft/sdk/engine` export; its types, clients/wasm/weft.d.ts, become
// weft.d.cts and weft.d.mts in src/engine (for tsc) and dist/engine.
// Runs before tsc. WEFT_WASM overrides where weft.js is read from.
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
  for (const ext of ['d.cts', 'd.mts']) fs.copyFileSync(types, path.resolve(here, '..', dir, `weft.${ext}`));
}
fs.copyFileSync(from, path.resolve(here, '../dist/engine/weft.cjs'));
// Browsers and bundlers get an ES module of the same code (Emscripten's
// output only exports through CommonJS/AMD); its Node branch never runs there.
fs.writeFileSync(
  path.resolve(here, '../dist/engine/weft.mjs'),
  `${fs.readFileSync(from, 'utf8')}\nexport default createWeft;\n`,
);
