// weft's service worker: keeps the built app shell (asset-manifest.json,
// written by vite.config.ts) in a cache so the app loads offline. API and
// sync requests are never cached: they go to the network or fail.
// One cache per build (main.ts registers /sw.js?build=ID); older ones are
// deleted when this one activates.
const CACHE = `weft-shell-${new URL(self.location.href).searchParams.get('build') ?? 'dev'}`;

self.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const manifest = await (await fetch('/asset-manifest.json', { cache: 'no-store' })).json();
      const cache = await caches.open(CACHE);
      await cache.addAll(manifest.files);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const key of await caches.keys()) if (key !== CACHE) await caches.delete(key);
      await self.clients.claim();
    })(),
  );
});

self.addEventListener('fetch', (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/')) return;
  if (event.request.mode === 'navigate') {
    // Network first so a new build shows at once; the cached shell offline.
    event.respondWith(
      fetch(event.request).catch(async () => (await caches.match('/')) ?? Response.error()),
    );
    return;
  }
  event.respondWith(
    (async () => (await caches.match(event.request)) ?? fetch(event.request))(),
  );
});
