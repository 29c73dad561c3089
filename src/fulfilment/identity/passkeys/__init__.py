"""Passkeys (WebAuthn): the ceremonies that register one and log in with one, for any
person who logs in (a portal customer or a staff user); the script that runs them in the
browser is web/passkey.js."""
