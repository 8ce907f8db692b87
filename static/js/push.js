/* "Turn on notifications on this phone" (templates/push/_control.html): subscribes this
   browser to Web Push with the server's VAPID key and hands the subscription to the API, or
   turns it off again. Permission is asked for only when the button is tapped. Configured by
   the data- attributes of [data-push]. */
(function () {
  "use strict";

  const box = document.querySelector("[data-push]");
  if (!box || !("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    return;  // the control stays hidden: this browser cannot show pushed notifications
  }
  const msg = box.dataset;
  const state = box.querySelector("[data-push-state]");
  const actions = box.querySelector("[data-push-actions]");
  const button = box.querySelector("[data-push-toggle]");
  let on = false;

  function show(text, buttonText) {
    state.textContent = text;
    actions.hidden = !buttonText;
    button.textContent = buttonText || "";
  }

  function showState() {
    if (Notification.permission === "denied") {
      show(msg.msgBlocked, null);
    } else if (on) {
      show(msg.msgOn, msg.msgTurnOff);
    } else {
      show(msg.msgOff, msg.msgTurnOn);
    }
  }

  async function csrfToken() {
    const response = await fetch("/api/v1/session", {credentials: "same-origin", cache: "no-store"});
    const body = await response.json();
    return body.member ? body.csrf_token : null;
  }

  async function api(url, options) {
    const token = options && options.method ? await csrfToken() : null;
    const response = await fetch(url, Object.assign({credentials: "same-origin", cache: "no-store"}, options, {
      headers: {"Content-Type": "application/json", "X-CSRFToken": token || ""},
    }));
    if (!response.ok) {
      throw new Error("push: " + url + " answered " + response.status);
    }
    return response.status === 204 ? null : response.json();
  }

  /* The base64url key as the bytes PushManager.subscribe wants. */
  function keyBytes(text) {
    const base64 = (text + "===".slice((text.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  }

  /* This browser's subscription and the server's record of it for this member (or null). */
  async function current() {
    const registration = await navigator.serviceWorker.ready;
    const subscription = await registration.pushManager.getSubscription();
    if (!subscription) {
      return {registration, subscription: null, saved: null};
    }
    const list = (await api(msg.subscriptionsUrl)).subscriptions;
    return {registration, subscription, saved: list.find((s) => s.endpoint === subscription.endpoint) || null};
  }

  async function turnOn() {
    if ((await Notification.requestPermission()) !== "granted") {
      return;  // refused or dismissed: showState says so
    }
    const {registration, subscription} = await current();
    const key = (await api(msg.keyUrl)).key;
    let chosen = subscription;
    if (chosen && !sameKey(chosen, key)) {
      await chosen.unsubscribe();  // made with another server key: push services would refuse it
      chosen = null;
    }
    chosen = chosen || await registration.pushManager.subscribe({userVisibleOnly: true, applicationServerKey: keyBytes(key)});
    const json = chosen.toJSON();
    await api(msg.subscriptionsUrl, {method: "POST", body: JSON.stringify({endpoint: json.endpoint, keys: json.keys})});
    on = true;
  }

  function sameKey(subscription, key) {
    const used = subscription.options && subscription.options.applicationServerKey;
    if (!used) {
      return true;  // the browser does not say: try it
    }
    const bytes = new Uint8Array(used);
    const wanted = keyBytes(key);
    return bytes.length === wanted.length && bytes.every((b, i) => b === wanted[i]);
  }

  async function turnOff() {
    const {subscription, saved} = await current();
    if (saved) {
      await api(msg.subscriptionsUrl + "/" + saved.id, {method: "DELETE"});
    }
    if (subscription) {
      await subscription.unsubscribe();
    }
    on = false;
  }

  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      await (on ? turnOff() : turnOn());
      showState();
    } catch (failed) {
      showState();
      state.textContent = msg.msgFailed;
    } finally {
      button.disabled = false;
    }
  });

  box.hidden = false;
  showState();
  current().then((found) => {
    // On only where this member's notifications come here (a shared phone may hold another's).
    on = Boolean(found.saved) && Notification.permission === "granted";
    showState();
  }).catch(() => {});
})();
