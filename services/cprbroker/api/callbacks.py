"""The callback-URL check at subscription time: scheme, host and where it resolves.

The policy (which addresses are refused, the operator allow-list) is
:mod:`cprbroker.core.delivery.callback_url`; the sender applies it again at
connect time against DNS rebinding. Here it keeps obviously internal targets
out of the subscriptions topic in the first place.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable

from cprbroker.core.delivery.callback_url import (
    AddressPolicy,
    IpAddress,
    parse_callback_url,
)
from cprbroker.core.errors import CallbackUrlError

Resolver = Callable[[str, int], Awaitable[list[IpAddress]]]

_RESOLVE_TIMEOUT = 5.0


async def resolve_host(host: str, port: int) -> list[IpAddress]:
    """Every address ``host`` resolves to; raise CallbackUrlError if it does not resolve."""
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(_RESOLVE_TIMEOUT):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, TimeoutError) as exc:
        raise CallbackUrlError(f"callback host {host!r} does not resolve: {exc}") from exc
    addresses: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        # IPv6 scope ids ("fe80::1%eth0") are not part of the address itself.
        text = str(sockaddr[0]).split("%", 1)[0]
        addresses.append(ipaddress.ip_address(text))
    return addresses


class CallbackCheck:
    """Refuses callback URLs the delivery policy would refuse."""

    def __init__(self, allow_cidrs: Iterable[str] = (), resolver: Resolver = resolve_host) -> None:
        self._policy = AddressPolicy.from_cidrs(allow_cidrs)
        self._resolve = resolver

    async def check(self, url: str) -> None:
        """Raise CallbackUrlError unless ``url`` is http(s) and its host resolves
        only to addresses the policy admits."""
        callback = parse_callback_url(url)
        if callback.ip_literal is not None:
            self._policy.check_literal(callback)
            return
        addresses = await self._resolve(callback.host, callback.port)
        self._policy.check_resolved(callback, addresses)
