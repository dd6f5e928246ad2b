/* Passkeys (WebAuthn) for acs_auth: the browser half of the ceremonies.
 *
 * Loaded with <script src> (the CSP allows no inline script). It turns the server's JSON
 * options into what navigator.credentials.create()/get() take (base64url <-> ArrayBuffer),
 * and posts the authenticator's answer back as JSON with the page's CSRF token. Elements:
 *   [data-passkey-unsupported]  shown unless this browser can use passkeys (default: shown)
 *   form[data-passkey-register] adding a passkey on /account/passkeys
 *   [data-passkey-sign-in]      a "Sign in with a passkey" button and its URLs
 *   [data-passkey-status]       where progress and errors are written
 */
(function () {
  "use strict";

  function toBuffer(value) {
    var base64 = value.replace(/-/g, "+").replace(/_/g, "/");
    while (base64.length % 4) base64 += "=";
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function supported() {
    return Boolean(window.PublicKeyCredential && navigator.credentials &&
      navigator.credentials.create && navigator.credentials.get);
  }

  function descriptors(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBuffer(item.id) });
    });
  }

  function creationOptions(options) {
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      user: Object.assign({}, options.user, { id: toBuffer(options.user.id) }),
      excludeCredentials: descriptors(options.excludeCredentials)
    });
  }

  function requestOptions(options) {
    return Object.assign({}, options, {
      challenge: toBuffer(options.challenge),
      allowCredentials: descriptors(options.allowCredentials)
    });
  }

  function credentialJSON(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = toBase64url(response.userHandle);
    }
    return json;
  }

  /* POST ``body`` (FormData or an object sent as JSON); the JSON answer, or an Error whose
   * message is the problem's title and which may carry a page to go to. */
  function post(url, body, csrfToken, busyMessage) {
    var init = { method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken } };
    if (body instanceof FormData) {
      init.body = body;
    } else {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(url, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) return data;
        var title = data.title || (response.status === 429 && busyMessage) ||
          "Something went wrong. Please try again.";
        var error = new Error(title);
        error.redirect = data.redirect;
        throw error;
      });
    });
  }

  function say(element, text) {
    if (element) element.textContent = text;
  }

  function failed(status, error) {
    if (error && error.redirect) {
      window.location.assign(error.redirect);
      return;
    }
    if (error && error.name === "NotAllowedError") {
      say(status, "The passkey request was cancelled or timed out. Try again.");
    } else if (error && error.name === "InvalidStateError") {
      say(status, "This passkey is already registered.");
    } else {
      say(status, (error && error.message) || "Something went wrong. Please try again.");
    }
  }

  function register(form) {
    var status = form.querySelector("[data-passkey-status]");
    var button = form.querySelector("button[type=submit]");
    var csrfToken = form.querySelector("input[name=csrf_token]").value;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      button.disabled = true;
      say(status, "Follow your browser's prompts to create the passkey…");
      post(form.dataset.optionsUrl, new FormData(form), csrfToken, form.dataset.rateLimited)
        .then(function (options) {
          return navigator.credentials.create({ publicKey: creationOptions(options) });
        })
        .then(function (credential) {
          return post(form.dataset.finishUrl, { credential: credentialJSON(credential) }, csrfToken);
        })
        .then(function (done) { window.location.assign(done.redirect); })
        .catch(function (error) { failed(status, error); })
        .then(function () { button.disabled = false; });
    });
  }

  function signIn(box) {
    var status = box.querySelector("[data-passkey-status]");
    var button = box.querySelector("button");
    var csrfToken = box.querySelector("input[name=csrf_token]").value;
    button.addEventListener("click", function () {
      button.disabled = true;
      say(status, "Follow your browser's prompts to use your passkey…");
      post(box.dataset.optionsUrl, {}, csrfToken, box.dataset.rateLimited)
        .then(function (options) {
          return navigator.credentials.get({ publicKey: requestOptions(options) });
        })
        .then(function (credential) {
          return post(box.dataset.finishUrl, { credential: credentialJSON(credential) }, csrfToken,
            box.dataset.rateLimited);
        })
        .then(function (done) { window.location.assign(done.redirect); })
        .catch(function (error) { failed(status, error); })
        .then(function () { button.disabled = false; });
    });
  }

  function start() {
    if (!supported()) return;
    document.querySelectorAll("[data-passkey-unsupported]").forEach(function (element) {
      element.hidden = true;
    });
    document.querySelectorAll("form[data-passkey-register]").forEach(function (form) {
      form.hidden = false;
      register(form);
    });
    document.querySelectorAll("[data-passkey-sign-in]").forEach(function (box) {
      box.hidden = false;
      signIn(box);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
