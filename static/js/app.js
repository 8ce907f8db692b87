/* Every page: registers the service worker, sends saved visit confirmations (the outbox) when
   the phone is online, shows them in [data-outbox], and forgets everything on logout.
   Configured by data- attributes on its <script> element (templates/_pwa_head.html) and on
   [data-outbox] (templates/_outbox.html). */
(function () {
  "use strict";

  const config = (document.currentScript && document.currentScript.dataset) || {};
  const outbox = window.CarebankOutbox;
  const lang = document.documentElement.lang || "en";
  const DAY = 24 * 60 * 60 * 1000;
  let shown = null;  // id → status at the last render, to announce only what changed
  let drawing = Promise.resolve();

  // The app's icon shows the unread notifications where the browser has the Badging API.
  function showBadge() {
    const bell = document.querySelector("[data-unread]");
    if (!bell || !("setAppBadge" in navigator)) {
      return;
    }
    const unread = Number(bell.dataset.unread) || 0;
    (unread ? navigator.setAppBadge(unread) : navigator.clearAppBadge()).catch(() => {});
  }

  function registerWorker() {
    if (!("serviceWorker" in navigator)) {
      return;
    }
    navigator.serviceWorker.register(config.worker || "/sw.js", {scope: "/"}).catch(() => {
      // Without a worker the site still works online; only offline help is missing.
    });
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "carebank:outbox") {
        render();
      }
    });
    if (navigator.onLine) {
      // The worker keeps its offline page, in the language the member reads now.
      navigator.serviceWorker.ready.then((registration) => {
        if (registration.active) {
          registration.active.postMessage({type: "page", lang: lang});
        }
      });
    }
  }

  function flush() {
    if (navigator.onLine) {
      outbox.flush().catch(() => {});  // what failed stays in the list; nothing to do here
    }
  }

  /* "1 h 30 min", in the same words the server uses (strings from [data-outbox]). */
  function minutesText(msg, total) {
    const hours = Math.floor(total / 60);
    const minutes = total % 60;
    const pattern = hours && minutes ? msg.msgHoursMinutes : hours ? msg.msgHours : msg.msgMinutes;
    return pattern.replace("{hours}", hours).replace("{minutes}", minutes);
  }

  function statusText(msg, item) {
    if (item.status === "done") {
      return msg.msgDone.replace("{minutes}", minutesText(msg, item.result ? item.result.minutes : 0));
    }
    if (item.status === "failed") {
      return (item.error && item.error.message) || msg.msgFailed;
    }
    return msg.msgPending;
  }

  /* A code is 26 characters, or a whole link; the first and last four tell items apart. */
  function shortCode(code) {
    const last = String(code).split("/").filter(Boolean).pop() || "";
    return last.length > 10 ? last.slice(0, 4) + "…" + last.slice(-4) : last;
  }

  function timeText(iso) {
    const when = new Date(iso);
    const today = when.toDateString() === new Date().toDateString();
    const options = today ? {timeStyle: "short"} : {dateStyle: "medium", timeStyle: "short"};
    return new Intl.DateTimeFormat(lang, options).format(when);
  }

  function element(tag, className, text) {
    const node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function itemElement(box, item) {
    const msg = box.dataset;
    const li = element("li", "outbox-item outbox-" + item.status);
    li.dataset.id = item.id;
    li.dataset.status = item.status;
    const text = element("p", "outbox-text");
    text.id = "outbox-" + item.id;
    const code = element("span", "outbox-code", shortCode(item.code));
    const time = element("time", "outbox-time", timeText(item.created_at));
    time.dateTime = item.created_at;
    const status = element("span", "outbox-status", statusText(msg, item));
    text.append(code, " ", time, " ", status);
    li.append(text);
    if (item.status !== "pending") {
      const dismiss = element("button", "secondary outbox-dismiss", msg.msgDismiss);
      dismiss.type = "button";
      dismiss.setAttribute("aria-describedby", text.id);
      dismiss.addEventListener("click", () => {
        box.querySelector("h2").focus();  // the button goes away: keep focus in the list
        outbox.remove(item.id);
      });
      li.append(dismiss);
    }
    return li;
  }

  function announce(box, items) {
    const previous = shown;
    shown = new Map(items.map((item) => [item.id, item.status]));
    if (previous === null) {
      return;  // the page just loaded: the list is read with the page
    }
    const news = items.filter((item) => previous.get(item.id) !== item.status);
    const line = document.querySelector("[data-outbox-announce]");
    if (news.length && line) {
      line.textContent = statusText(box.dataset, news[0]);
    }
  }

  /* Updates the list in place: an item is redrawn only when its status changed, so the
     focus on a Dismiss button survives a flush finishing elsewhere in the list. */
  function draw(box, items) {
    const list = box.querySelector("[data-outbox-items]");
    const drawn = new Map(Array.from(list.children, (li) => [li.dataset.id, li]));
    items.forEach((item, index) => {
      let li = drawn.get(item.id);
      drawn.delete(item.id);
      if (!li || li.dataset.status !== item.status) {
        const fresh = itemElement(box, item);
        if (li) {
          li.replaceWith(fresh);
        }
        li = fresh;
      }
      if (list.children[index] !== li) {
        list.insertBefore(li, list.children[index] || null);
      }
    });
    drawn.forEach((li) => li.remove());
    box.hidden = items.length === 0;
  }

  async function update() {
    const box = document.querySelector("[data-outbox]");
    if (!box) {
      return;
    }
    let items = await outbox.list();
    // A confirmed visit is in the ledger; after a day its note here is only clutter.
    const old = items.filter((item) => item.status === "done" && Date.now() - Date.parse(item.created_at) > DAY);
    await Promise.all(old.map((item) => outbox.remove(item.id)));
    items = items.filter((item) => !old.includes(item));
    draw(box, items);
    announce(box, items);
  }

  function render() {
    // One at a time, so announcements keep their order; without IndexedDB there is nothing to show.
    drawing = drawing.then(update).catch(() => {});
    return drawing;
  }

  /* Offline, a phone's camera app opened a confirmation link (/c/<code>) and the worker
     showed the offline page at that address: offer to keep the code for later. */
  function offerToSaveCode() {
    const offer = document.querySelector("[data-offline-code]");
    const prefix = offer ? offer.dataset.confirmPath : null;
    if (!prefix || !location.pathname.startsWith(prefix)) {
      return;
    }
    const code = decodeURIComponent(location.pathname.slice(prefix.length));
    if (!code) {
      return;
    }
    offer.hidden = false;
    offer.querySelector("button").addEventListener("click", async () => {
      await outbox.add(code);
      await render();
      offer.hidden = true;
      const heading = document.querySelector("[data-outbox] h2");
      if (heading) {
        heading.focus();  // the button is gone; the saved item is what comes next
      }
    });
  }

  function withTimeout(promise, ms) {
    return Promise.race([promise, new Promise((resolve) => setTimeout(resolve, ms))]);
  }

  /* A shared phone keeps nothing of the member who leaves: no saved confirmations, no
     cached files. The server's Clear-Site-Data header does the same for browsers without JS. */
  async function forgetEverything() {
    await outbox.clear();
    if (window.caches) {
      const names = await caches.keys();
      await Promise.all(names.map((name) => caches.delete(name)));
    }
  }

  async function leaveWith(form) {
    if (navigator.onLine) {
      await withTimeout(outbox.flush().catch(() => {}), 3000);
    }
    const unsent = (await outbox.list()).filter((item) => item.status === "pending");
    if (unsent.length && !window.confirm(config.msgLogoutPending)) {
      return;
    }
    await withTimeout(forgetEverything().catch(() => {}), 3000);
    form.submit();  // submit() fires no submit event: no loop
  }

  function watchLogout() {
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (form.matches("form[data-logout]")) {
        event.preventDefault();
        leaveWith(form).catch(() => form.submit());
      }
    });
  }

  showBadge();
  // A "print this page" button (the centre's call list): no inline handler, for the CSP.
  document.querySelectorAll("[data-print]").forEach((button) => button.addEventListener("click", () => window.print()));
  if (!outbox) {
    return;
  }
  registerWorker();
  watchLogout();
  offerToSaveCode();
  window.addEventListener("carebank:outbox", render);
  window.addEventListener("online", flush);
  render().then(flush);
})();
