/* The outbox: visit confirmations and messages saved on the phone while it has no signal,
   sent later.

   Works in pages and in the service worker (which imports this file). One global,
   CarebankOutbox: add(code), addMessage(exchangeId, body), list(kind), remove(id), clear(),
   flush(). Items live in IndexedDB (database "carebank", store "outbox"): a confirmation is
   {id, code, created_at, status} (items saved before messages existed have no kind), a
   message {id, kind: "message", exchange_id, body, created_at, status}. Status is "pending",
   "done" (with result: the transaction or the message) or "failed" (with error: {code,
   message} from the server, shown to the member). The id travels as the Idempotency-Key, so
   a confirmation or message sent twice counts once. list() gives the confirmations, as it
   always did; list("message") the messages. */
(function (scope) {
  "use strict";

  const DB_NAME = "carebank";
  const STORE = "outbox";
  const SYNC_TAG = "carebank-outbox";
  const CHANGED = "carebank:outbox";
  // Answers that say "not now" rather than "not this code": the item waits for another try.
  const TRY_AGAIN = new Set([401, 408, 429, 500, 502, 503, 504]);
  const inWorker = typeof ServiceWorkerGlobalScope !== "undefined" && scope instanceof ServiceWorkerGlobalScope;

  let connection = null;
  let queue = Promise.resolve();  // one flush at a time in this page or worker

  function open() {
    if (!connection) {
      connection = new Promise((resolve, reject) => {
        const request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = () => request.result.createObjectStore(STORE, {keyPath: "id"});
        request.onsuccess = () => {
          const db = request.result;
          // Another version or a deletion (logout elsewhere) must not wait for this page.
          db.onversionchange = () => { db.close(); connection = null; };
          db.onclose = () => { connection = null; };
          resolve(db);
        };
        request.onerror = () => { connection = null; reject(request.error); };
      });
    }
    return connection;
  }

  /* Runs `work(store)` in one transaction; resolves with its request's result once committed. */
  async function withStore(mode, work) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, mode);
      const request = work(transaction.objectStore(STORE));
      transaction.oncomplete = () => resolve(request ? request.result : undefined);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  function newId() {
    if (scope.crypto && scope.crypto.randomUUID) {
      return scope.crypto.randomUUID();
    }
    const bytes = scope.crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    const hex = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join("-");
  }

  function kindOf(item) {
    return item.kind || "confirmation";
  }

  /* Every item, newest first. */
  async function everything() {
    const items = await withStore("readonly", (store) => store.getAll());
    return items.sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : 0));
  }

  /* The items of one kind ("confirmation" unless told), newest first. */
  async function list(kind) {
    const wanted = kind || "confirmation";
    return (await everything()).filter((item) => kindOf(item) === wanted);
  }

  async function save(item) {
    await withStore("readwrite", (store) => store.add(item));
    changed();
    requestSync();
    return item;
  }

  async function add(code) {
    const text = String(code || "").trim();
    // Scanning the same code twice while offline is one confirmation, not two.
    const waiting = (await list()).find((item) => item.status === "pending" && item.code === text);
    if (waiting) {
      return waiting;
    }
    return save({id: newId(), code: text, created_at: new Date().toISOString(), status: "pending"});
  }

  /* A message to the other party of an exchange; each one written is its own item. */
  function addMessage(exchangeId, body) {
    return save({id: newId(), kind: "message", exchange_id: Number(exchangeId), body: String(body || ""),
                 created_at: new Date().toISOString(), status: "pending"});
  }

  async function remove(id) {
    await withStore("readwrite", (store) => store.delete(id));
    changed();
  }

  async function clear() {
    await withStore("readwrite", (store) => store.clear());
    changed();
  }

  /* Records an answer on an item still in the outbox: one dismissed or cleared (logout)
     while its request was under way stays gone. */
  async function settle(id, changes) {
    const db = await open();
    return new Promise((resolve, reject) => {
      const transaction = db.transaction(STORE, "readwrite");
      const store = transaction.objectStore(STORE);
      const found = store.get(id);
      found.onsuccess = () => {
        if (found.result) {
          store.put(Object.assign(found.result, changes));
        }
      };
      transaction.oncomplete = () => resolve();
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error);
    });
  }

  /* Asks the browser to wake the worker when the connection is back (where it can). */
  function requestSync() {
    const ready = inWorker ? Promise.resolve(scope.registration)
      : (scope.navigator.serviceWorker ? scope.navigator.serviceWorker.getRegistration() : Promise.resolve(null));
    ready.then((registration) => registration && registration.sync && registration.sync.register(SYNC_TAG))
      .catch(() => {});  // no Background Sync: pages flush on load and when back online
  }

  function changed() {
    scope.dispatchEvent(new CustomEvent(CHANGED));
    if (inWorker) {
      scope.clients.matchAll({type: "window", includeUncontrolled: true})
        .then((pages) => pages.forEach((page) => page.postMessage({type: CHANGED})));
    }
  }

  async function csrfToken() {
    const response = await fetch("/api/v1/session", {credentials: "same-origin", cache: "no-store"});
    const body = await response.json();
    return body.member ? body.csrf_token : null;
  }

  async function readJson(response) {
    try {
      return await response.json();
    } catch (notJson) {
      return {};
    }
  }

  /* Where each kind of item goes, and what of the answer it keeps. */
  const KINDS = {
    confirmation: {
      url: () => "/api/v1/confirmations",
      payload: (item) => ({code: item.code}),
      result: (body) => body.transaction || null,
    },
    message: {
      url: (item) => "/api/v1/exchanges/" + encodeURIComponent(item.exchange_id) + "/messages",
      payload: (item) => ({body: item.body}),
      result: (body) => body.message || null,
    },
  };

  /* Sends one item; says "sent", "failed" or "kept" (no connection, or not logged in). */
  async function send(item) {
    const kind = KINDS[kindOf(item)];
    let response;
    try {
      const token = await csrfToken();
      if (!token) {
        return "kept";  // logged out (the session ended): the item is still good after logging in
      }
      response = await fetch(kind.url(item), {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Idempotency-Key": item.id, "X-CSRFToken": token},
        body: JSON.stringify(kind.payload(item)),
      });
    } catch (offline) {
      return "kept";
    }
    if (TRY_AGAIN.has(response.status)) {
      return "kept";
    }
    const body = await readJson(response);
    const sentAt = new Date().toISOString();
    if (response.status === 200 || response.status === 201) {
      await settle(item.id, {status: "done", result: kind.result(body), sent_at: sentAt});
      return "sent";
    }
    const error = body.error || {code: "http_" + response.status, message: ""};
    await settle(item.id, {status: "failed", error: {code: error.code, message: error.message}, sent_at: sentAt});
    return "failed";
  }

  async function flushNow() {
    const tally = {sent: 0, failed: 0, kept: 0};
    // Oldest first; a kind this version does not know (saved by a newer one) is left alone.
    const pending = (await everything()).filter((item) => item.status === "pending" && KINDS[kindOf(item)])
      .reverse();
    for (const item of pending) {
      const outcome = tally.kept ? "kept" : await send(item);  // once offline, the rest wait too
      tally[outcome] += 1;
      if (outcome !== "kept") {
        changed();
      }
    }
    return tally;
  }

  function flush() {
    // Pages and the worker share one lock where the browser has Web Locks; the server's
    // Idempotency-Key makes a duplicate harmless anyway.
    const run = scope.navigator.locks
      ? () => scope.navigator.locks.request("carebank-outbox-flush", flushNow)
      : flushNow;
    const result = queue.then(run, run);
    queue = result.catch(() => {});
    return result;
  }

  scope.CarebankOutbox = {add, addMessage, list, remove, clear, flush};
})(self);
