/* The message thread without signal: a message written offline goes into the outbox
   (static/js/outbox.js) and shows in the thread as waiting; the outbox sends it when the phone
   is back online (app.js on "online" and page load, or the service worker's sync).

   Configured by data- attributes on the thread (templates/messages/thread.html):
   data-exchange-id, data-author and the data-msg-* strings. Forms marked data-message-form
   are sent by fetch while online, so a network error can still keep the message; without
   JavaScript they post as plain forms. */
(function () {
  "use strict";

  const thread = document.querySelector("[data-message-thread]");
  const outbox = window.CarebankOutbox;
  if (!thread || !outbox) {
    return;
  }
  const msg = thread.dataset;
  const exchangeId = Number(msg.exchangeId);
  const lang = document.documentElement.lang || "en";
  let drawing = Promise.resolve();

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

  function timeElement(iso) {
    const time = element("time", "", new Intl.DateTimeFormat(lang, {dateStyle: "medium", timeStyle: "short"})
      .format(new Date(iso)));
    time.dateTime = iso;
    return time;
  }

  function announce(text) {
    const line = document.querySelector("[data-message-announce]");
    if (line) {
      line.textContent = text;
    }
  }

  /* A message still on the phone: its text, and what became of it. */
  function itemElement(item) {
    const li = element("li", "message mine message-" + item.status);
    li.dataset.outboxId = item.id;
    li.dataset.status = item.status;
    const meta = element("p", "meta");
    meta.append(element("strong", "", msg.author), " ", timeElement(item.created_at));
    const status = element("p", "message-status");
    status.id = "message-status-" + item.id;
    status.textContent = item.status === "failed"
      ? (item.error && item.error.message) || msg.msgFailed : msg.msgWaiting;
    li.append(meta, element("p", "message-body", item.body), status);
    if (item.status === "failed") {
      const dismiss = element("button", "secondary", msg.msgDismiss);
      dismiss.type = "button";
      dismiss.setAttribute("aria-describedby", status.id);
      dismiss.addEventListener("click", () => outbox.remove(item.id));
      li.append(dismiss);
    }
    return li;
  }

  /* Sent: the thread holds it now, shown once (the server may have drawn it already). */
  function showSent(li, item) {
    const message = item.result || {};
    if (!li || thread.querySelector('[data-message-id="' + message.id + '"]')) {
      if (li) {
        li.remove();
      }
      return;
    }
    li.className = "message mine";
    li.dataset.messageId = message.id;
    delete li.dataset.outboxId;
    li.querySelector(".message-status").remove();
    if (message.created_at) {
      li.querySelector("time").replaceWith(timeElement(message.created_at));
    }
    announce(msg.msgSent);
  }

  async function update() {
    const items = (await outbox.list("message")).filter((item) => item.exchange_id === exchangeId).reverse();
    const drawn = new Map(Array.from(thread.querySelectorAll("[data-outbox-id]"), (li) => [li.dataset.outboxId, li]));
    for (const item of items) {
      const li = drawn.get(item.id);
      drawn.delete(item.id);
      if (item.status === "done") {
        showSent(li, item);
        await outbox.remove(item.id);
      } else if (!li || li.dataset.status !== item.status) {
        const fresh = itemElement(item);
        if (li) {
          li.replaceWith(fresh);
        } else {
          thread.append(fresh);
        }
        if (item.status === "failed") {
          announce(fresh.querySelector(".message-status").textContent);
        }
      }
    }
    drawn.forEach((li) => li.remove());  // dismissed, or cleared elsewhere
    const empty = thread.querySelector("[data-empty]");
    if (empty) {
      empty.hidden = thread.children.length > 1;
    }
  }

  function render() {
    drawing = drawing.then(update).catch(() => {});  // one at a time; no IndexedDB: nothing to show
    return drawing;
  }

  function bodyOf(form, submitter) {
    if (submitter && submitter.name === "body") {
      return submitter.value;  // a quick reply
    }
    return form.elements.body ? form.elements.body.value : "";
  }

  async function keep(form, body) {
    await outbox.addMessage(exchangeId, body);
    if (form.elements.body && form.elements.body.tagName === "TEXTAREA") {
      form.elements.body.value = "";
    }
    await render();
    announce(msg.msgWaiting);
  }

  /* Online: sent by fetch, so that a connection lost on the way keeps the message. A
     redirect is success (the page's flash waits for the next page); any other answer (a
     refusal to show on the form) is asked for again by the plain form. */
  async function send(form, submitter, body) {
    let response;
    try {
      response = await fetch(form.action, {method: "POST", body: new FormData(form, submitter),
                                           credentials: "same-origin", redirect: "manual"});
    } catch (offline) {
      await keep(form, body);
      return;
    }
    if (response.type === "opaqueredirect") {
      location.assign(location.pathname);
      return;
    }
    form.dataset.plain = "1";
    form.requestSubmit(submitter);
  }

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("form[data-message-form]") || form.dataset.plain) {
      return;
    }
    const body = bodyOf(form, event.submitter);
    if (!body.trim()) {
      return;  // the server says "Write a message first." on the form
    }
    event.preventDefault();
    const submitter = event.submitter || null;
    const work = navigator.onLine ? send(form, submitter, body) : keep(form, body);
    work.catch(() => {
      form.dataset.plain = "1";
      form.requestSubmit(submitter);
    });
  });

  window.addEventListener("carebank:outbox", render);
  if (navigator.serviceWorker) {
    navigator.serviceWorker.addEventListener("message", (event) => {
      if (event.data && event.data.type === "carebank:outbox") {
        render();
      }
    });
  }
  render();
})();
