// The service worker: keeps the app shell in a cache named after the server's content hash,
// serves it offline, and flushes the outbox on Background Sync. The server fills in VERSION
// and SHELL when it serves this file. It never opens the queue except through the outbox,
// so an update cannot lose a record.

import { FLUSH_TAG, flush } from '/v/__APP_VERSION__/pwa/outbox.js';
import { PHOTO_CACHE } from '/v/__APP_VERSION__/pwa/pull.js';

const VERSION = '__APP_VERSION__';
const SHELL = [/*__APP_SHELL__*/];
const PREFIX = 'zoufang-shell-';
const CACHE = PREFIX + VERSION;

// A versioned URL never changes content, so what the page just loaded (in the HTTP cache)
// is exactly this version's file and is not downloaded again; the page and the manifest are
// asked again of the server, which answers 304 while they are unchanged.
const versioned = (url) => url.startsWith(`/v/${VERSION}/`);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE).then((cache) =>
      cache.addAll(SHELL.map((url) => new Request(url, { cache: versioned(url) ? 'default' : 'no-cache' })))),
  );
  // No skipWaiting here: the page offers "update available" and the cadre chooses when.
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    // Only this app's own older shells; other caches are not ours to delete.
    await Promise.all(
      names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)),
    );
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data?.type === 'skip-waiting') self.skipWaiting();
  if (event.data?.type === 'version') event.source?.postMessage({ type: 'version', version: VERSION });
});

async function fromShell(request, path) {
  const cache = await caches.open(CACHE);
  return (await cache.match(path, { ignoreSearch: true })) || fetch(request);
}

// Photos never change under their uuid: keep what was seen, for visit history offline.
async function photo(request) {
  const cache = await caches.open(PHOTO_CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok) cache.put(request, response.clone());
  return response;
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === 'navigate') {
    // Only the app itself; supervisor and self-report pages stay online pages.
    if (url.pathname === '/') event.respondWith(fromShell(request, '/'));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(fromShell(request, url.pathname));
  } else if (url.pathname.startsWith('/api/photos/')) {
    event.respondWith(photo(request));
  }
});

self.addEventListener('sync', (event) => {
  if (event.tag !== FLUSH_TAG) return;
  event.waitUntil(flush({ force: true, appVersion: VERSION }).then((result) => {
    // A rejected promise asks the browser to try again later with its own backoff.
    if (result.state === 'error' || result.state === 'offline') throw new Error('retry later');
  }));
});
