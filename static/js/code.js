/* The maker's code page (templates/exchanges/code.html), while the code is live.
 *
 * Keeps the screen awake while the QR code is shown (where the browser can), and replaces
 * the page's no-JavaScript reload with a quiet check: the page reloads only once the code
 * is no longer live (confirmed, expired, ended), so the screen lock is not dropped every
 * few seconds and the code stays on screen when the phone loses signal.
 */
(function () {
  "use strict";

  var CHECK_INTERVAL_MS = 10000;
  var STATE = /data-code-state="([a-z]+)"/;
  var lock = null;

  // ---- the screen stays on ---------------------------------------------------------------

  function keepAwake() {
    if (!("wakeLock" in navigator) || lock || document.visibilityState !== "visible") {
      return;
    }
    navigator.wakeLock.request("screen").then(function (sentinel) {
      lock = sentinel;
      sentinel.addEventListener("release", function () {
        lock = null;
      });
    }).catch(function () {
      // Refused (battery saver, no user activation yet): the page works as before.
    });
  }

  function letSleep() {
    if (lock) {
      lock.release().catch(function () {});
      lock = null;
    }
  }

  // ---- is the code still live? -----------------------------------------------------------

  function check() {
    fetch(location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.text() : "";
      })
      .then(function (html) {
        var state = STATE.exec(html);
        // Only the code page itself can say the code is done: a login page, an error or an
        // offline page has no state, and then the code stays on screen.
        if (state && state[1] !== "live") {
          location.reload();
        }
      }, function () {
        // No signal: try again later; the other phone can still scan the code.
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") {
      keepAwake();
      check();
    } else {
      letSleep();
    }
  });
  window.addEventListener("pagehide", letSleep);
  // The first request may need a tap first in some browsers: try again on one.
  document.addEventListener("click", keepAwake);
  keepAwake();
  setInterval(function () {
    if (document.visibilityState === "visible") {
      check();
    }
  }, CHECK_INTERVAL_MS);
})();
