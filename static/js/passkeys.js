/* Passkeys: sign in, add one, or sign up with this phone's fingerprint or screen lock.
 *
 * Each [data-passkey] block is configured by data- attributes (strict CSP: no inline script):
 *   data-passkey       "get" (sign in) or "create" (add a passkey, or sign up without e-mail)
 *   data-options-url   POST here for the WebAuthn options (the challenge stays on the server)
 *   data-finish-url    where the browser's answer goes, with data-finish-method (POST or PUT)
 *   data-csrf          the page's CSRF token, sent as X-CSRFToken
 *   data-next          (sign in) the page to open afterwards
 *   data-name-input    (create) selector of the field naming the passkey ("My phone")
 *   data-remember-input (sign in) selector of the "keep me logged in" checkbox
 *   data-msg-*         the translated messages: working, cancelled, failed
 * Blocks, and [data-passkey-or] parts, are hidden in the markup and shown only where the browser has WebAuthn, so
 * elsewhere the page works as before (e-mail and password, or the card).
 */
(function () {
  "use strict";

  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  // ---- base64url <-> bytes ----------------------------------------------------------------

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) {
      base64 += "=";
    }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) {
      bytes[i] = binary.charCodeAt(i);
    }
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) {
      return null;
    }
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i += 1) {
      binary += String.fromCharCode(bytes[i]);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }

  // The server's options JSON (webauthn.options_to_json) as the browser wants them.
  function creationOptions(json) {
    var options = JSON.parse(json);
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = withIds(options.excludeCredentials);
    return { publicKey: options };
  }

  function requestOptions(json) {
    var options = JSON.parse(json);
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = withIds(options.allowCredentials);
    return { publicKey: options };
  }

  function created(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: {},
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        attestationObject: toText(response.attestationObject),
        transports: response.getTransports ? response.getTransports() : [],
      },
    };
  }

  function asserted(credential) {
    var response = credential.response;
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: {},
      response: {
        clientDataJSON: toText(response.clientDataJSON),
        authenticatorData: toText(response.authenticatorData),
        signature: toText(response.signature),
        userHandle: toText(response.userHandle),
      },
    };
  }

  // ---- talking to the server ------------------------------------------------------------

  function send(root, url, method, body) {
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": root.dataset.csrf },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().catch(function () {
        return {};
      }).then(function (answer) {
        if (!response.ok || answer.error) {
          var error = new Error("refused");
          error.serverMessage = answer.error && answer.error.message;
          throw error;
        }
        return answer;
      });
    });
  }

  // ---- one block --------------------------------------------------------------------------

  function setUp(root) {
    var button = root.querySelector("[data-passkey-start]");
    var statusBox = root.querySelector("[data-passkey-status]");
    var busy = false;

    function say(text, isError) {
      statusBox.textContent = text || "";
      statusBox.classList.toggle("is-error", Boolean(isError));
    }

    function field(selector) {
      return selector ? document.querySelector(selector) : null;
    }

    function ceremony(options) {
      if (root.dataset.passkey === "get") {
        return navigator.credentials.get(requestOptions(options)).then(function (credential) {
          var remember = field(root.dataset.rememberInput);
          return { credential: asserted(credential), next: root.dataset.next || null,
                   remember: Boolean(remember && remember.checked) };
        });
      }
      return navigator.credentials.create(creationOptions(options)).then(function (credential) {
        var name = field(root.dataset.nameInput);
        return { credential: created(credential), name: name ? name.value : "" };
      });
    }

    function start() {
      if (busy) {
        return; // a second tap while the phone asks for the fingerprint
      }
      busy = true;
      say(root.dataset.msgWorking);
      send(root, root.dataset.optionsUrl, "POST")
        .then(function (answer) {
          return ceremony(answer.options).catch(function (error) {
            error.cancelled = true; // the member said no, or the phone could not
            throw error;
          });
        })
        .then(function (body) {
          return send(root, root.dataset.finishUrl, root.dataset.finishMethod || "POST", body);
        })
        .then(function (answer) {
          location.assign(answer.redirect);
        })
        .catch(function (error) {
          busy = false;
          if (error.serverMessage) {
            say(error.serverMessage, true);
          } else {
            say(error.cancelled ? root.dataset.msgCancelled : root.dataset.msgFailed, true);
          }
        });
    }

    root.hidden = false;
    button.addEventListener("click", start);
  }

  document.querySelectorAll("[data-passkey]").forEach(setUp);
  // Parts that only make sense where passkeys work ("or with your e-mail", "no e-mail?").
  document.querySelectorAll("[data-passkey-or]").forEach(function (part) {
    part.hidden = false;
  });
})();
