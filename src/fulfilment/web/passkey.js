// The passkey ceremony, for forms marked data-passkey ("login" or "register"): asks the
// service for the options (data-options), lets the browser's authenticator answer, and
// sends the answer in the form's "credential" field. Without this script (or without
// WebAuthn in the browser) the forms stay hidden; logging in with a password needs none.
"use strict";

(function () {
  if (!window.PublicKeyCredential || !navigator.credentials) {
    return;
  }

  function bytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(base64 + "====".slice(base64.length % 4 || 4));
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) {
      out[i] = raw.charCodeAt(i);
    }
    return out.buffer;
  }

  function text(buffer) {
    var view = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < view.length; i++) {
      raw += String.fromCharCode(view[i]);
    }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(options) {
    options.challenge = bytes(options.challenge);
    options.user.id = bytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (credential) {
      credential.id = bytes(credential.id);
    });
    return options;
  }

  function requestOptions(options) {
    options.challenge = bytes(options.challenge);
    (options.allowCredentials || []).forEach(function (credential) {
      credential.id = bytes(credential.id);
    });
    return options;
  }

  function answer(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: text(credential.rawId),
      type: credential.type,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: text(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = text(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = text(response.authenticatorData);
      json.response.signature = text(response.signature);
      if (response.userHandle) {
        json.response.userHandle = text(response.userHandle);
      }
    }
    if (credential.authenticatorAttachment) {
      json.authenticatorAttachment = credential.authenticatorAttachment;
    }
    return JSON.stringify(json);
  }

  function fail(form) {
    var message = form.querySelector("[data-passkey-failed]");
    message.textContent = message.getAttribute("data-passkey-failed");
    message.hidden = false;
  }

  function ceremony(form, event) {
    var name = form.elements.passkey_name;
    if (name && !name.value.trim()) {
      return; // the service says what is missing, beside the field
    }
    event.preventDefault();
    var body = new URLSearchParams();
    body.set("csrf_token", form.elements.csrf_token.value);
    fetch(form.getAttribute("data-options"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: body.toString()
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("options refused");
        }
        return response.json();
      })
      .then(function (options) {
        if (form.getAttribute("data-passkey") === "register") {
          return navigator.credentials.create({ publicKey: creationOptions(options) });
        }
        return navigator.credentials.get({ publicKey: requestOptions(options) });
      })
      .then(function (credential) {
        form.elements.credential.value = answer(credential);
        form.submit();
      })
      .catch(function () {
        fail(form);
      });
  }

  document.querySelectorAll("form[data-passkey]").forEach(function (form) {
    form.hidden = false;
    form.addEventListener("submit", function (event) {
      ceremony(form, event);
    });
  });
})();
