/* The in-app scanner (templates/scan/scan.html).
 *
 * Reads a QR code with the phone's rear camera, or from a photo, using the browser's own
 * BarcodeDetector where it has one and the vendored jsQR otherwise. A confirmation URL of
 * this app opens its confirm page; without signal the code goes into the outbox
 * (static/js/outbox.js) and is confirmed when the phone is back online. A member card's URL
 * opens the card's check-in page (it needs signal: the resident types their PIN there).
 * Paths and every message come from data- attributes on [data-scanner], so the page needs
 * no inline script.
 */
(function () {
  "use strict";

  var FRAME_INTERVAL_MS = 150; // a frame every 150 ms finds a code fast and spares old phones
  var PROBE_TIMEOUT_MS = 6000; // weak signal: after this long, queue the code instead
  var MAX_FRAME_SIDE = 640; // larger camera frames are scaled down before jsQR reads them
  var MAX_PHOTO_SIDE = 1600; // a 12-megapixel photo would take seconds to read at full size
  var CODE = /^[0-9A-Za-z]{26}$/;

  var root = document.querySelector("[data-scanner]");
  if (!root) {
    return;
  }
  var video = root.querySelector("[data-scan-video]");
  var view = root.querySelector("[data-scan-view]");
  var startButton = root.querySelector("[data-scan-start]");
  var stopButton = root.querySelector("[data-scan-stop]");
  var photoInput = root.querySelector("[data-scan-photo]");
  var statusBox = root.querySelector("[data-scan-status]");
  var canvas = document.createElement("canvas");
  var context2d = canvas.getContext("2d", { willReadFrequently: true });

  var stream = null;
  var timer = null;
  var generation = 0; // bumped on every start and stop, so a late camera answer is dropped
  var starting = false;
  var shown = null;
  var detectorPromise = null;

  // ---- messages -------------------------------------------------------------------------

  function say(name, isError) {
    shown = name;
    statusBox.textContent = name ? root.getAttribute("data-msg-" + name) : "";
    statusBox.classList.toggle("is-error", Boolean(isError));
  }

  // ---- what a decoded text means ---------------------------------------------------------

  function originOf(url) {
    try {
      return new URL(url).origin;
    } catch (error) {
      return null;
    }
  }

  // The code in a URL of this app (this origin, or the configured one that QR codes
  // carry) under `prefix`, else null: another site's link or plain text is never followed.
  function tokenFrom(text, prefix) {
    var url;
    try {
      url = new URL(text);
    } catch (error) {
      return null;
    }
    var ours = url.origin === location.origin || url.origin === originOf(root.dataset.codeOrigin);
    if (!prefix || !ours || url.pathname.indexOf(prefix) !== 0) {
      return null;
    }
    var code = url.pathname.slice(prefix.length);
    return CODE.test(code) ? code : null;
  }

  function codeFrom(text) {
    return tokenFrom(text, root.dataset.confirmPrefix);
  }

  // A member card's secret: its URL opens the check-in page (card-prefix is given by the page;
  // "/card/" is the path cards carry).
  function cardFrom(text) {
    return tokenFrom(text, root.dataset.cardPrefix || "/card/");
  }

  // True when the text was a Carebank code or card (the scanner is done), false to keep scanning.
  function handle(text) {
    var code = codeFrom(text);
    var card = code ? null : cardFrom(text);
    if (!code && !card) {
      if (shown !== "not-ours") {
        say("not-ours", true);
      }
      return false;
    }
    stopCamera();
    say("found");
    if (card) {
      openCard(card);
    } else {
      openOrQueue(code);
    }
    return true;
  }

  // A check-in cannot be queued (the resident types their PIN on the page): without signal
  // the carer is told to scan again when online.
  function openCard(card) {
    // data-card-open: where the page sends a card instead (the card sign-in's PIN page).
    var path = (root.dataset.cardOpen || root.dataset.cardPrefix || "/card/") + card;
    if (navigator.onLine === false) {
      say("offline", true);
      return;
    }
    reachable().then(function (online) {
      if (online) {
        location.assign(path);
      } else {
        say("offline", true);
      }
    });
  }

  function openOrQueue(code) {
    if (navigator.onLine === false) {
      queue(code);
      return;
    }
    reachable().then(function (online) {
      if (online) {
        location.assign(root.dataset.confirmPrefix + code);
      } else {
        queue(code);
      }
    });
  }

  // Whether the server answers now: navigator.onLine says true on a dead connection too,
  // and a failed navigation would lose the code. The session endpoint is cheap, personal
  // (so never answered from a cache) and JSON (so an offline page cannot pass for it).
  function reachable() {
    var probe = fetch(root.dataset.probeUrl, {
      credentials: "same-origin",
      cache: "no-store",
      headers: { Accept: "application/json" },
    }).then(function (response) {
      var type = response.headers.get("Content-Type") || "";
      return response.ok && type.indexOf("json") !== -1;
    }, function () {
      return false;
    });
    var timeout = new Promise(function (resolve) {
      setTimeout(resolve, PROBE_TIMEOUT_MS, false);
    });
    return Promise.race([probe, timeout]);
  }

  function queue(code) {
    var outbox = window.CarebankOutbox;
    if (!outbox) {
      say("offline", true);
      return;
    }
    // The outbox keeps one pending item when the same code is scanned twice without signal.
    outbox.add(code).then(function () {
      say("saved");
    }, function () {
      say("offline", true);
    });
  }

  // ---- decoding --------------------------------------------------------------------------

  function detector() {
    if (!detectorPromise) {
      detectorPromise = nativeDetector();
    }
    return detectorPromise;
  }

  function nativeDetector() {
    if (!("BarcodeDetector" in window)) {
      return Promise.resolve(null);
    }
    var formats = window.BarcodeDetector.getSupportedFormats
      ? window.BarcodeDetector.getSupportedFormats()
      : Promise.resolve(["qr_code"]);
    return formats.then(function (supported) {
      return supported.indexOf("qr_code") === -1
        ? null
        : new window.BarcodeDetector({ formats: ["qr_code"] });
    }).catch(function () {
      return null;
    });
  }

  // The text of the first QR code in an image, video frame or bitmap, or null.
  function decode(source, width, height, maxSide, thorough) {
    return detector().then(function (native) {
      if (!native) {
        return readWithJsQR(source, width, height, maxSide, thorough);
      }
      return native.detect(source).then(function (codes) {
        return codes.length ? codes[0].rawValue : null;
      }, function () {
        // A detector that exists but fails (some phones): jsQR from now on.
        detectorPromise = Promise.resolve(null);
        return readWithJsQR(source, width, height, maxSide, thorough);
      });
    });
  }

  // jsQR (57 KB gzipped) is loaded only on phones without a native detector.
  var jsQRPromise = null;
  function loadJsQR() {
    if (!jsQRPromise) {
      jsQRPromise = new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        script.src = root.dataset.jsqrSrc;
        script.onload = resolve;
        script.onerror = function () {
          jsQRPromise = null; // try again next time (e.g. back online)
          reject(new Error("no QR decoder"));
        };
        document.head.appendChild(script);
      });
    }
    return jsQRPromise;
  }

  function readWithJsQR(source, width, height, maxSide, thorough) {
    return loadJsQR().then(function () {
      return readLoaded(source, width, height, maxSide, thorough);
    });
  }

  function readLoaded(source, width, height, maxSide, thorough) {
    var scale = Math.min(1, maxSide / Math.max(width, height));
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    context2d.drawImage(source, 0, 0, canvas.width, canvas.height);
    var image = context2d.getImageData(0, 0, canvas.width, canvas.height);
    // Codes on screens are dark on light; a photo may be anything, so it is read both ways.
    var found = window.jsQR(image.data, image.width, image.height, {
      inversionAttempts: thorough ? "attemptBoth" : "dontInvert",
    });
    return Promise.resolve(found ? found.data : null);
  }

  // ---- the camera ------------------------------------------------------------------------

  function cameraProblem() {
    if (!window.isSecureContext) {
      return "insecure";
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      return "no-camera";
    }
    return null;
  }

  function problemOf(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError") {
      return "denied";
    }
    if (name === "NotFoundError" || name === "OverconstrainedError") {
      return "no-camera";
    }
    return "camera-failed";
  }

  function startCamera() {
    var problem = cameraProblem();
    if (problem) {
      say(problem, true);
      return;
    }
    if (starting) {
      return; // a second tap while the permission prompt is open
    }
    stopCamera();
    var mine = generation;
    // Not disabled meanwhile: a disabled button would drop the keyboard focus.
    starting = true;
    say("starting");
    navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: "environment" } })
      .then(function (newStream) {
        if (mine !== generation) {
          stopTracks(newStream); // stopped or left while the permission prompt was open
          return;
        }
        stream = newStream;
        video.srcObject = newStream;
        return video.play().then(function () {
          showPreview(true);
          say("camera-on");
          nextFrame();
        });
      })
      .catch(function (error) {
        if (mine === generation) {
          stopCamera();
          say(problemOf(error), true);
        }
      })
      .then(function () {
        starting = false;
      });
  }

  function stopTracks(someStream) {
    someStream.getTracks().forEach(function (track) {
      track.stop();
    });
  }

  function stopCamera() {
    generation += 1;
    clearTimeout(timer);
    timer = null;
    if (stream) {
      stopTracks(stream);
      stream = null;
    }
    video.srcObject = null;
    showPreview(false);
  }

  // Swap Start and Stop, keeping keyboard focus on whichever is now showing.
  function showPreview(on) {
    var hadFocus = document.activeElement === startButton || document.activeElement === stopButton;
    view.hidden = !on;
    startButton.hidden = on;
    stopButton.hidden = !on;
    if (hadFocus) {
      (on ? stopButton : startButton).focus();
    }
  }

  function nextFrame() {
    timer = setTimeout(readFrame, FRAME_INTERVAL_MS);
  }

  function readFrame() {
    var mine = generation;
    if (!stream) {
      return;
    }
    if (video.readyState < video.HAVE_CURRENT_DATA || !video.videoWidth) {
      nextFrame();
      return;
    }
    decode(video, video.videoWidth, video.videoHeight, MAX_FRAME_SIDE, false)
      .then(function (text) {
        return mine === generation && text !== null && handle(text);
      }, function () {
        return false;
      })
      .then(function (done) {
        if (!done && mine === generation) {
          nextFrame();
        }
      });
  }

  // ---- a photo ---------------------------------------------------------------------------

  function loadImage(file) {
    if (window.createImageBitmap) {
      return window.createImageBitmap(file);
    }
    return new Promise(function (resolve, reject) {
      var url = URL.createObjectURL(file);
      var image = new Image();
      image.addEventListener("load", function () {
        URL.revokeObjectURL(url);
        resolve(image);
      });
      image.addEventListener("error", function () {
        URL.revokeObjectURL(url);
        reject(new Error("unreadable image"));
      });
      image.src = url;
    });
  }

  function readPhoto() {
    var file = photoInput.files && photoInput.files[0];
    if (!file) {
      return;
    }
    stopCamera();
    say("reading");
    loadImage(file)
      .then(function (image) {
        return decode(image, image.width, image.height, MAX_PHOTO_SIDE, true);
      })
      .then(function (text) {
        if (text === null) {
          say("no-code-in-photo", true);
        } else {
          handle(text);
        }
      })
      .catch(function () {
        say("no-code-in-photo", true);
      })
      .then(function () {
        photoInput.value = ""; // the same photo can be chosen again
      });
  }

  // ---- wiring ----------------------------------------------------------------------------

  root.querySelectorAll("[data-needs-js]").forEach(function (part) {
    part.classList.remove("needs-js");
  });
  startButton.addEventListener("click", startCamera);
  stopButton.addEventListener("click", function () {
    stopCamera();
    say("camera-off");
  });
  photoInput.addEventListener("change", readPhoto);
  // Without a native detector, jsQR is loaded straight away (the page's load event waits
  // for it): a carer may walk into a basement the moment the page is open.
  if (!("BarcodeDetector" in window)) {
    loadJsQR().catch(function () {});
  }
  // The camera is never left on behind the member's back: leaving or hiding the page stops it.
  window.addEventListener("pagehide", stopCamera);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && stream) {
      stopCamera();
      say("camera-off");
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      say(null); // back from the confirm page: start afresh
    }
  });
})();
