/* carebank's service worker. Served by the app at /sw.js (carebank/web/pwa.py), which puts
   `self.CAREBANK_WORKER = {version, shell, offline}` in front of this file.

   - The app shell (offline page, CSS, scripts, icons) is precached per version.
   - Pages: network first. Offline, a page a visitor saw before comes from the cache, any
     other page gets the offline page. A response marked `no-store` (every page a logged-in
     member sees: balances, ledgers, profiles, codes) is never cached: phones are shared.
   - /static/: stale-while-revalidate. The API and anything not GET: network only.
   - The outbox of offline confirmations is flushed on Background Sync and on request.
   - A Web Push message {title, body, url} (carebank/push/services.py) is shown as a
     notification; a tap on it focuses a window already on that page, or opens it. */
"use strict";

importScripts("/static/js/outbox.js");

const CONFIG = self.CAREBANK_WORKER || {version: "dev", shell: [], offline: "/offline"};
const SHELL_CACHE = "carebank-shell-" + CONFIG.version;
const PAGES_CACHE = "carebank-pages-" + CONFIG.version;
const SYNC_TAG = "carebank-outbox";
const MAX_PAGES = 40;  // every search is its own address: keep the latest few, not all

self.addEventListener("install", (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(dropOldCaches().then(enablePreload).then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) {
    return;  // network only: never answer for the API or a change
  }
  if (request.mode === "navigate") {
    event.respondWith(networkFirst(event));
  } else if (url.pathname.startsWith("/static/")) {
    event.respondWith(staleWhileRevalidate(event));
  }
});

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) {
    event.waitUntil(flushOrRetryLater());
  }
});

self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type === "flush") {
    event.waitUntil(CarebankOutbox.flush());
  } else if (data.type === "page") {
    event.waitUntil(keepShell(data.lang).catch(() => {}));
  }
});

const PUSH_ICON = "/static/icons/icon-192.png";

self.addEventListener("push", (event) => {
  event.waitUntil(showPush(event.data));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  event.waitUntil(openPage((event.notification.data || {}).url));
});

/* A push is always shown (browsers require it); an unreadable one still says the app's name. */
async function showPush(data) {
  let message = {};
  try {
    message = (data && data.json()) || {};
  } catch (notJson) {
    message = {};
  }
  await self.registration.showNotification(message.title || "Carebank", {
    body: message.body || "",
    icon: PUSH_ICON,
    badge: PUSH_ICON,
    data: {url: samePage(message.url)},
  });
}

/* Only a page of this site: a push never sends the phone elsewhere. */
function samePage(url) {
  try {
    const page = new URL(url || "/notifications/", self.location.origin);
    return page.origin === self.location.origin ? page.href : self.location.origin + "/notifications/";
  } catch (notUrl) {
    return self.location.origin + "/notifications/";
  }
}

async function openPage(url) {
  const page = samePage(url);
  const windows = await self.clients.matchAll({type: "window", includeUncontrolled: true});
  const open = windows.find((client) => client.url === page);
  if (open) {
    return open.focus();
  }
  return self.clients.openWindow(page);
}

async function precache() {
  const cache = await caches.open(SHELL_CACHE);
  // "reload": the freshest bytes, not what the browser's HTTP cache holds.
  await Promise.all(CONFIG.shell.map(async (url) => {
    const response = await fetch(url, {cache: "reload", credentials: "same-origin"});
    if (!(await keep(cache, url, response))) {
      throw new Error("could not precache " + url);
    }
  }));
}

async function dropOldCaches() {
  const current = [SHELL_CACHE, PAGES_CACHE];
  const names = await caches.keys();
  await Promise.all(names.filter((name) => name.startsWith("carebank-") && !current.includes(name))
    .map((name) => caches.delete(name)));
}

async function enablePreload() {
  // The page request starts while the worker boots: network-first costs no extra wait.
  if (self.registration.navigationPreload) {
    await self.registration.navigationPreload.enable();
  }
}

function isStorable(response) {
  const cacheControl = response.headers.get("Cache-Control") || "";
  return response.ok && response.type === "basic" && !/\bno-store\b/i.test(cacheControl);
}

/* Puts a response in a cache only if it may be kept; says whether it did. */
async function keep(cache, key, response) {
  if (!isStorable(response)) {
    return false;
  }
  await cache.put(key, response);
  return true;
}

async function networkFirst(event) {
  const request = event.request;
  try {
    const response = (await event.preloadResponse) || (await fetch(request));
    event.waitUntil(rememberPage(request.url, response.clone()));
    return response;
  } catch (offline) {
    const saved = await caches.match(request.url, {cacheName: PAGES_CACHE, ignoreVary: true});
    return saved || (await caches.match(CONFIG.offline, {cacheName: SHELL_CACHE, ignoreVary: true}))
      || Response.error();
  }
}

async function rememberPage(url, response) {
  const cache = await caches.open(PAGES_CACHE);
  const isPage = (response.headers.get("Content-Type") || "").startsWith("text/html");
  if (!(isPage && !response.redirected && (await keep(cache, url, response)))) {
    // The page is personal now (the visitor logged in) or gone: forget a visitor's copy.
    await cache.delete(url);
    return;
  }
  const kept = await cache.keys();  // oldest first
  await Promise.all(kept.slice(0, Math.max(0, kept.length - MAX_PAGES)).map((old) => cache.delete(old)));
}

async function staleWhileRevalidate(event) {
  const cache = await caches.open(SHELL_CACHE);
  const cached = await cache.match(event.request, {ignoreVary: true});
  const fresh = fetch(event.request).then(async (response) => {
    await keep(cache, event.request, response.clone());
    return response;
  });
  if (cached) {
    event.waitUntil(fresh.catch(() => {}));
    return cached;
  }
  return fresh;
}

async function flushOrRetryLater() {
  const result = await CarebankOutbox.flush();
  if (result.kept) {
    // Still no connection: a rejected sync is retried by the browser later.
    throw new Error("outbox: " + result.kept + " kept for later");
  }
}

/* Each page, when online, tells the worker its language. A shell that is gone (a logout
   cleared the caches, or the browser evicted them) is fetched again; an offline page in
   another language than the member reads now is replaced. */
async function keepShell(lang) {
  const cache = await caches.open(SHELL_CACHE);
  const offline = await cache.match(CONFIG.offline, {ignoreVary: true});
  if (!offline) {
    await precache();
  } else if (lang && offline.headers.get("Content-Language") !== lang) {
    await keep(cache, CONFIG.offline, await fetch(CONFIG.offline, {cache: "reload", credentials: "same-origin"}));
  }
}
