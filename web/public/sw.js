// Keeps the app shell available offline so field staff can open the field
// page without a connection. Network first: a deploy is seen at once, and
// the cache is only the fallback. API answers are never cached here; the
// field page keeps its own outbox in IndexedDB.
const CACHE = 'trygg-shell-v9';
const SHELL = [
  '/map', '/analys', '/uppfoljning', '/field', '/measures', '/tillganglighet', '/accessibility', '/login', '/konto', '/tvastegsverifiering', '/administration',
  '/config.json', '/icon.svg', '/css/app.css', '/css/report.css',
  '/i18n/sv.json', '/i18n/en.json',
  '/js/account.js', '/js/admin.js', '/js/analysis.js', '/js/api.js', '/js/chart.js', '/js/embed.js', '/js/followup.js', '/js/field.js', '/js/forms.js', '/js/geo.js', '/js/hextiles.js', '/js/i18n.js', '/js/login.js', '/js/mapbase.js',
  '/js/measures.js', '/js/mvt.js', '/js/net.js', '/js/patterns.js', '/js/period.js', '/js/planner.js', '/js/queue.js', '/js/scope.js',
  '/js/second-factor.js', '/js/shell.js',
  '/js/statement.js', '/js/table.js',
  '/vendor/leaflet/leaflet-src.esm.js', '/vendor/leaflet/leaflet.css',
  '/vendor/leaflet/images/layers.png', '/vendor/leaflet/images/layers-2x.png',
  '/vendor/leaflet/images/marker-icon.png', '/vendor/leaflet/images/marker-icon-2x.png',
  '/vendor/leaflet/images/marker-shadow.png',
];

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // Data is never cached here: tiles are the API's data too, and keyed by
  // path alone one filter's tile would stand in for another's.
  if (url.pathname.startsWith('/api/') || url.pathname.startsWith('/tiles/') || url.pathname === '/readyz' || url.pathname === '/healthz') return;
  event.respondWith((async () => {
    const cache = await caches.open(CACHE);
    try {
      const res = await fetch(req);
      if (res.ok) cache.put(url.pathname === '/' ? '/map' : url.pathname, res.clone());
      return res;
    } catch (err) {
      const key = url.pathname === '/' ? '/map' : url.pathname;
      const hit = await cache.match(key);
      if (hit) return hit;
      throw err;
    }
  })());
});
