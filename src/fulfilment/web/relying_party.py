"""The site a passkey ceremony runs on, whose relying-party id is the domain the account's
own host and the shared host have in common, so that a passkey made on one works on the
other."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """The site a ceremony runs on: `id` is the domain passkeys are bound to, `origin` the
    address the browser must report, `name` what the authenticator shows."""

    id: str
    origin: str
    name: str


def relying_party_id(host: str, subdomain: str, public_url: str | None) -> str | None:
    """The domain passkeys are bound to, for a page of the account `subdomain` served on
    `host` (a name without its port): the host of FULFILMENT_PUBLIC_URL when the page is
    on it or below it; else the host without the account's own label (`acme.example.com`
    -> `example.com`; the shared host `example.com` itself). None for an IP address
    (WebAuthn needs a domain)."""
    name = host.lower().strip("[]").rstrip(".")
    try:
        ipaddress.ip_address(name)
        return None
    except ValueError:
        pass
    if not name:
        return None
    public = urlsplit(public_url).hostname if public_url else None
    if public and (name == public or name.endswith("." + public)):
        return public
    label, _, rest = name.partition(".")
    if label == subdomain and "." in rest:
        return rest
    return name
