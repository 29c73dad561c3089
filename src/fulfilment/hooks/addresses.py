"""Which addresses a hook may be delivered to: http(s) URLs on public IP addresses only, so
that a hook cannot make the service reach into the network it runs in (SSRF). Checked when
a hook is saved, and again for the very address each delivery connects to."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
RESOLVE_SECONDS = 5


class AddressRefused(ValueError):
    """The address may not be delivered to; the message says why, in words."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked address: where to connect, and the name to present (Host, TLS SNI)."""

    scheme: str
    host: str
    port: int
    ips: tuple[IPAddress, ...]


# IPv4 addresses some IPv6 forms carry inside, and what each form is called.
_NAT64 = (
    ipaddress.IPv6Network("64:ff9b::/96"),  # the well-known prefix (RFC 6052)
    ipaddress.IPv6Network("64:ff9b:1::/48"),  # local use (RFC 8215)
)
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
# IETF protocol assignments: Python counts only some of them as private.
_PROTOCOL_ASSIGNMENTS = ipaddress.IPv4Network("192.0.0.0/24")


def embedded(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, str] | None:
    """The IPv4 address `ip` carries and the form that carries it, if any: a packet to it
    may well reach that IPv4 address (through a 6to4 relay, a NAT64 gateway, the
    operating system's own mapping)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped, "an IPv4-mapped address"
    if ip.sixtofour is not None:
        return ip.sixtofour, "a 6to4 address"
    if ip.teredo is not None:
        return ip.teredo[1], "a Teredo address"
    for network in _NAT64:
        if ip in network:
            return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "a NAT64 address"
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF), "an IPv4-compatible address"
    return None


def refusal(ip: IPAddress) -> str | None:
    """What kind of address `ip` is when it may not be delivered to (`a loopback address`),
    or None for a public address. An IPv6 address that carries a refused IPv4 address
    counts as that address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = embedded(ip)
        if inner is not None:
            kind = refusal(inner[0])
            if kind is not None:
                return f"{kind} ({inner[0]}, in {inner[1]})"
    elif ip in _PROTOCOL_ASSIGNMENTS:
        return "a reserved address"
    for kind, test in (
        ("an unspecified", ip.is_unspecified),
        ("a loopback", ip.is_loopback),
        ("a link-local", ip.is_link_local),
        ("a multicast", ip.is_multicast),
        ("a private", ip.is_private),
        ("a reserved", ip.is_reserved or not ip.is_global),
    ):
        if test:
            return f"{kind} address"
    return None


def parse(address: str) -> tuple[str, str, int]:
    """(scheme, host, port) of an http or https URL; AddressRefused otherwise."""
    try:
        parts = urlsplit(address)
        port = parts.port
    except ValueError:
        raise AddressRefused("it is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in {"http", "https"}:
        raise AddressRefused("it must be an http or https URL")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise AddressRefused("it has no host")
    if any(c.isspace() for c in address):
        raise AddressRefused("it may not contain white space")
    if port == 0:
        raise AddressRefused("port 0 cannot be connected to")
    return scheme, host, port or (443 if scheme == "https" else 80)


async def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """The addresses `host` names, looked up on a thread (never on the event loop)."""
    try:
        return (ipaddress.ip_address(host),)
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(RESOLVE_SECONDS):
            found = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise AddressRefused(
            f"its host {host!r} could not be resolved within {RESOLVE_SECONDS} seconds"
        ) from None
    except (socket.gaierror, UnicodeError) as error:
        raise AddressRefused(f"its host {host!r} cannot be resolved ({error})") from None
    ips: list[IPAddress] = []
    for family, _, _, _, sockaddr in found:
        if family in (socket.AF_INET, socket.AF_INET6):
            ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
            if ip not in ips:
                ips.append(ip)
    if not ips:
        raise AddressRefused(f"its host {host!r} has no IP address")
    return tuple(ips)


async def check(address: str, allow_private: bool) -> Target:
    """The address checked and resolved: every IP address its host resolves to must be
    public, unless `allow_private`."""
    scheme, host, port = parse(address)
    ips = await resolve(host, port)
    if not allow_private:
        for ip in ips:
            kind = refusal(ip)
            if kind is None:
                continue
            if str(ip) == host:
                raise AddressRefused(f"{ip} is {kind}")
            raise AddressRefused(f"its host {host!r} resolves to {ip}, {kind}")
    return Target(scheme, host, port, ips)
