// @ts-check
/// <reference lib="webworker" />
/**
 * The offline cache, after squoosh's src/sw. build.py writes this file to the site root (dist/sw.js),
 * so its scope is the whole site, and fills in the build hash and the two lists of files below. It is
 * a classic script because module service workers are not in every browser. Only offline.js
 * registers it, and only in a built site.
 *
 * - install: cache the app shell, the Pyodide runtime and NumPy (PRECACHE) in one cache named
 *   after the build; each file is checked against its sha256, so a cache never mixes two builds.
 * - activate: delete this site's caches of other builds, take control of open pages.
 * - fetch: same-origin GET only, cache first; the LAZY files (wheels loaded on demand, e.g.
 *   matplotlib) are cached the first time they are fetched.
 */
const sw = /** @type {ServiceWorkerGlobalScope} */ (/** @type {unknown} */ (self));

/** sha256 of the build (12 hex digits). */
const BUILD_HASH = "__BUILD_HASH__";
/** Files cached at install, relative to this script, with their Subresource Integrity hashes. @type {Record<string, string>} */
const PRECACHE = /* __PRECACHE__ */ {};
/** Files of this build cached the first time the page fetches them. @type {string[]} */
const LAZY = /* __LAZY__ */ [];

/**
 * Caches are per origin, and all GitHub Pages project sites of a user share one origin, so the name
 * also carries the scope's path: activate deletes only this site's caches of other builds.
 */
const SCOPE_PATH = new URL(sw.registration.scope).pathname;
const PREFIX = "kmeans-";
const CACHE = `${PREFIX}${BUILD_HASH} ${SCOPE_PATH}`;
const LAZY_URLS = new Set(LAZY.map((path) => new URL(path, sw.location.href).href));
const INDEX = new URL("index.html", sw.registration.scope).href;

sw.addEventListener("install", (event) => {
  const requests = Object.entries(PRECACHE).map(
    // "no-cache": revalidate with the server (a 304 reuses the HTTP cache), never take a stale copy.
    ([path, integrity]) => new Request(path, { integrity, cache: "no-cache" }),
  );
  // addAll is all or nothing: one failed or mismatched file fails the install, the empty cache is
  // dropped, and the previous version (if any) keeps serving.
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      try {
        await cache.addAll(requests);
      } catch (error) {
        await caches.delete(CACHE);
        throw error;
      }
    })(),
  );
});

sw.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      const stale = names.filter((name) => name.startsWith(PREFIX) && name.endsWith(` ${SCOPE_PATH}`) && name !== CACHE);
      await Promise.all(stale.map((name) => caches.delete(name)));
      await sw.clients.claim();
    })(),
  );
});

sw.addEventListener("message", (event) => {
  // offline.js sends this when the user accepts the update.
  if (event.data?.type === "skip-waiting") sw.skipWaiting();
});

sw.addEventListener("fetch", (event) => {
  const { request } = event;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== sw.location.origin) return;
  event.respondWith(respond(event, request, url));
});

/**
 * Cache first; on a miss, the network (and the cache, for LAZY files).
 * @param {FetchEvent} event
 * @param {Request} request
 * @param {URL} url
 */
async function respond(event, request, url) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(cacheKey(request, url));
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && LAZY_URLS.has(url.href)) event.waitUntil(cache.put(url.href, response.clone()));
  return response;
}

/**
 * Pages are cached without their query (embed.html?src=…&k=8 is embed.html), and the site's root
 * folder is index.html.
 * @param {Request} request
 * @param {URL} url
 */
function cacheKey(request, url) {
  if (request.mode !== "navigate") return request;
  const page = new URL(url.pathname, url);
  return page.href === sw.registration.scope ? INDEX : page.href;
}
