"""Which webhook callback URLs cprbroker will POST to.

Only ``http`` and ``https``, with a host; and every address the host resolves
to must be publicly routable (not private, loopback, link-local, multicast,
reserved or unspecified) unless an operator allow-list of CIDRs admits it.
The resolving is I/O and lives in the adapter; the decisions live here, so the
API (at subscription time) and the sender (at connect time, against DNS
rebinding) apply the same policy.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from cprbroker.core.errors import CallbackUrlError, DeliveryPolicyError

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IpNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Letters (also non-ASCII, for IDN), digits, dots and hyphens; nothing that
# could smuggle a second authority, a zone id or whitespace into the request.
_HOST_NAME = re.compile(r"^[\w.-]+$")
# All-numeric names ("127.1", "2130706433", "0x7f.1") are legacy IPv4 forms
# that resolvers map onto addresses; refuse them rather than guess.
_NUMERIC_NAME = re.compile(r"^(?:0x[0-9a-f]+|\d+)(?:\.(?:0x[0-9a-f]+|\d+))*\.?$", re.IGNORECASE)
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True, slots=True)
class CallbackUrl:
    """A syntactically acceptable callback URL; ``host`` is lower-case, IPv6
    literals without brackets."""

    url: str
    scheme: str
    host: str
    port: int

    @property
    def ip_literal(self) -> IpAddress | None:
        """The address when the host is an IP literal, else ``None``."""
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None


def parse_callback_url(url: str) -> CallbackUrl:
    """Return ``url`` split into scheme, host and port; raise CallbackUrlError
    naming the URL and what is wrong if it is not an ``http(s)://host`` URL."""
    if not url or any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise CallbackUrlError(f"callback URL {url!r} is empty or contains whitespace")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CallbackUrlError(f"callback URL {url!r} is malformed: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise CallbackUrlError(
            f"callback URL {url!r} has scheme {parts.scheme!r}; only http and https are allowed"
        )
    host = (parts.hostname or "").lower()
    if not host:
        raise CallbackUrlError(f"callback URL {url!r} has no host")
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if not _HOST_NAME.match(host) or _NUMERIC_NAME.match(host):
            raise CallbackUrlError(
                f"callback URL {url!r} has host {host!r}, which is neither a host name "
                "nor a canonical IP address"
            ) from None
    return CallbackUrl(url=url, scheme=scheme, host=host, port=port or _DEFAULT_PORTS[scheme])


def _category(address: IpAddress) -> str | None:
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not globally routable"
    return None


def _embedded_ipv4(address: IpAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


@dataclass(frozen=True, slots=True)
class AddressPolicy:
    """Refuses non-public addresses unless ``allowed_networks`` admits them."""

    allowed_networks: tuple[IpNetwork, ...] = ()

    @classmethod
    def from_cidrs(cls, cidrs: Iterable[str]) -> AddressPolicy:
        """Build a policy from CIDR strings such as ``"127.0.0.0/8"``, ``"::1/128"``."""
        networks: list[IpNetwork] = []
        for cidr in cidrs:
            try:
                networks.append(ipaddress.ip_network(cidr.strip(), strict=False))
            except ValueError as exc:
                raise DeliveryPolicyError(f"allow-list entry {cidr!r} is not a CIDR") from exc
        return cls(tuple(networks))

    def _admitted(self, address: IpAddress) -> bool:
        return any(
            address.version == network.version and address in network
            for network in self.allowed_networks
        )

    def refusal(self, address: IpAddress) -> str | None:
        """Why ``address`` is refused (e.g. ``"loopback"``), or ``None`` if allowed."""
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
            # On the wire an IPv4-mapped address is that IPv4 address.
            return self.refusal(address.ipv4_mapped)
        if self._admitted(address):
            return None
        category = _category(address)
        if category is not None:
            return category
        embedded = _embedded_ipv4(address)
        if embedded is not None and not self._admitted(embedded):
            inner = _category(embedded)
            if inner is not None:
                return f"{inner} (embedded IPv4 {embedded})"
        return None

    def check_address(self, address: IpAddress, url: str) -> None:
        """Raise CallbackUrlError if ``address`` (which ``url``'s host resolved to)
        is refused by this policy."""
        reason = self.refusal(address)
        if reason is not None:
            raise CallbackUrlError(
                f"callback URL {url!r} resolves to {reason} address {address}, "
                "which is not on the allow-list"
            )

    def check_resolved(self, callback: CallbackUrl, addresses: Iterable[IpAddress]) -> None:
        """Raise CallbackUrlError unless ``addresses`` is non-empty and every one is
        allowed: one bad address among good ones could be the one connected to."""
        seen = False
        for address in addresses:
            seen = True
            self.check_address(address, callback.url)
        if not seen:
            raise CallbackUrlError(f"callback URL {callback.url!r}: host did not resolve")

    def check_literal(self, callback: CallbackUrl) -> None:
        """Raise CallbackUrlError if the host is an IP literal the policy refuses
        (a name needs resolving first: see :meth:`check_resolved`)."""
        literal = callback.ip_literal
        if literal is not None:
            self.check_address(literal, callback.url)
