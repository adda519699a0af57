import { defineConfig, type Plugin } from 'vite';

// Writes asset-manifest.json: every file of the build, so the service worker
// (public/sw.js) can cache the whole app shell at install and the app loads
// offline, lazy chunks included.
function assetManifest(): Plugin {
  return {
    name: 'weft-asset-manifest',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = Object.keys(bundle).map((f) => '/' + f);
      this.emitFile({
        type: 'asset',
        fileName: 'asset-manifest.json',
        source: JSON.stringify({ files: ['/', ...files] }),
      });
    },
  };
}

export default defineConfig({
  plugins: [assetManifest()],
  // A new build registers the service worker under a new URL, so it
  // installs again and caches the new shell.
  define: { __WEFT_BUILD__: JSON.stringify(Date.now().toString(36)) },
  // The SDK is linked (file:../clients/js): one CodeMirror for it and us.
  resolve: { dedupe: ['@codemirror/state', '@codemirror/view'] },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false },
  server: {
    proxy: { '/api': { target: 'http://127.0.0.1:8080', ws: true } },
  },
});
