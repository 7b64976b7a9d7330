"""The callback-URL policy: schemes, hosts, and which addresses are refused."""

from __future__ import annotations

import ipaddress
import re

import pytest

from cprbroker.core.delivery.callback_url import AddressPolicy, parse_callback_url
from cprbroker.core.errors import CallbackUrlError, DeliveryPolicyError

STRICT = AddressPolicy()
LOOPBACK_ALLOWED = AddressPolicy.from_cidrs(["127.0.0.0/8", "::1/128"])


@pytest.mark.parametrize(
    ("url", "scheme", "host", "port"),
    [
        ("https://hooks.example.org/cpr", "https", "hooks.example.org", 443),
        ("http://Hooks.Example.ORG:8080/x?y=1", "http", "hooks.example.org", 8080),
        ("HTTPS://[2001:db8::1]/", "https", "2001:db8::1", 443),
        ("http://kommune-ø.dk/", "http", "kommune-ø.dk", 80),
    ],
)
def test_parse_accepts_http_and_https(url: str, scheme: str, host: str, port: int) -> None:
    parsed = parse_callback_url(url)
    assert (parsed.scheme, parsed.host, parsed.port, parsed.url) == (scheme, host, port, url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("file:///etc/passwd", "scheme 'file'"),
        ("ftp://example.org/", "scheme 'ftp'"),
        ("gopher://example.org/", "scheme"),
        ("example.org/hook", "scheme"),
        ("http:///hook", "no host"),
        ("http://exa mple.org/", "whitespace"),
        ("http://example.org/\n", "whitespace"),
        ("", "empty"),
        ("https://example.org:99999/", "malformed"),
        ("http://127.1/", "canonical"),
        ("http://2130706433/", "canonical"),
        ("http://0x7f.0.0.1/", "canonical"),
        ("http://a%2fb.example/", "neither"),
    ],
)
def test_parse_refuses_hostile_or_broken_urls(url: str, message: str) -> None:
    with pytest.raises(CallbackUrlError, match=message) as info:
        parse_callback_url(url)
    assert repr(url) in str(info.value)


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address under test, not a bind
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),
        ("100.64.0.1", "not globally routable"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("2002:a00:1::", "private (embedded IPv4 10.0.0.1)"),
        ("64:ff9b::a9fe:a9fe", "reserved"),
        ("8.8.8.8", None),
        ("2a00:1450:4001:82b::200e", None),
    ],
)
def test_strict_policy_refuses_non_public_addresses(address: str, reason: str | None) -> None:
    assert STRICT.refusal(ipaddress.ip_address(address)) == reason


def test_allow_list_admits_its_networks_only() -> None:
    loopback = ipaddress.ip_address("127.0.0.1")
    assert LOOPBACK_ALLOWED.refusal(loopback) is None
    assert LOOPBACK_ALLOWED.refusal(ipaddress.ip_address("::1")) is None
    assert LOOPBACK_ALLOWED.refusal(ipaddress.ip_address("::ffff:127.0.0.2")) is None
    assert LOOPBACK_ALLOWED.refusal(ipaddress.ip_address("10.0.0.1")) == "private"
    assert LOOPBACK_ALLOWED.refusal(ipaddress.ip_address("169.254.169.254")) == "link-local"


@pytest.mark.parametrize(
    "url", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]/"]
)
def test_ip_literal_urls_are_refused_by_the_strict_policy(url: str) -> None:
    with pytest.raises(CallbackUrlError, match="not on the allow-list"):
        STRICT.check_literal(parse_callback_url(url))


def test_ipv6_loopback_literal_is_admitted_when_allow_listed() -> None:
    LOOPBACK_ALLOWED.check_literal(parse_callback_url("http://[::1]:8080/hook"))
    # Host names are not judged until resolved.
    STRICT.check_literal(parse_callback_url("http://localhost/"))


def test_every_resolved_address_must_be_allowed() -> None:
    callback = parse_callback_url("https://rebind.example/")
    public = ipaddress.ip_address("93.184.216.34")
    STRICT.check_resolved(callback, [public])
    with pytest.raises(CallbackUrlError, match=re.escape("loopback address 127.0.0.1")):
        STRICT.check_resolved(callback, [public, ipaddress.ip_address("127.0.0.1")])
    with pytest.raises(CallbackUrlError, match="did not resolve"):
        STRICT.check_resolved(callback, [])


def test_allow_list_refuses_malformed_cidrs() -> None:
    with pytest.raises(DeliveryPolicyError, match=re.escape("'10.0.0.0/33'")):
        AddressPolicy.from_cidrs(["10.0.0.0/33"])
