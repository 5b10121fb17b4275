"""Outbound requests keep their bounds against real HTTP servers on loopback: no private or
local address unless allowed (a name, a redirect, another spelling of the address), at most
five redirects, and a size cap, read timeouts and a deadline that a misbehaving server cannot
outlast."""

from __future__ import annotations

import ipaddress
import time

import pytest

from clinic.outbound import http
from clinic.outbound.addresses import allowed
from clinic.outbound.http import (
    BadAddress,
    Blocked,
    TooLarge,
    TooSlow,
    Unreachable,
    checked_url,
    fetch,
)
from tests.support.http_servers import http_server


@pytest.fixture(scope="module")
def server():
    with http_server() as running:
        running.pages["/feed.ics"] = (b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", {"ETag": '"v1"'})
        yield running


NEVER = [
    "169.254.169.254",  # cloud metadata
    "fe80::1",
    "0.0.0.0",
    "::",
    "224.0.0.1",
    "ff02::1",
    "255.255.255.255",
    "240.0.0.1",
    "::ffff:169.254.169.254",
]
PRIVATE = ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "100.64.0.1", "fd00::1"]
PRIVATE += ["fec0::1"]  # site-local, deprecated, which Python 3.11 does not call private
PRIVATE += ["::ffff:127.0.0.1", "64:ff9b::7f00:1", "2002:a00:1::1"]  # other spellings
PUBLIC = ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", NEVER + PRIVATE)
def test_only_public_addresses_are_allowed_by_default(address):
    assert not allowed(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_are_allowed(address):
    assert allowed(ipaddress.ip_address(address), allow_private=False)


@pytest.mark.parametrize("address", PRIVATE)
def test_the_setting_allows_private_addresses(address):
    assert allowed(ipaddress.ip_address(address), allow_private=True)


@pytest.mark.parametrize("address", NEVER)
def test_the_setting_never_allows_metadata_multicast_or_reserved_addresses(address):
    assert not allowed(ipaddress.ip_address(address), allow_private=True)


@pytest.mark.parametrize(
    ("given", "why"),
    [
        ("ftp://example.com/cal.ics", "starting with https://"),
        ("file:///etc/passwd", "starting with https://"),
        ("javascript:alert(1)", "starting with https://"),
        ("not a web address", "starting with https://"),
        ("https://", "starting with https://"),
        ("https://user:secret@example.com/cal.ics", "user name and password"),
        ("https://example.com:port/cal.ics", "not a web address"),
        ("https://example.com/" + "a" * 2000, "longer than"),
    ],
)
def test_addresses_that_are_not_fetched_say_why(given, why):
    with pytest.raises(BadAddress, match=why):
        checked_url(given)


def test_webcal_addresses_are_fetched_over_https():
    assert checked_url(" webcal://p01-calendars.icloud.com/published/2/abc ") == (
        "https://p01-calendars.icloud.com/published/2/abc"
    )


def test_a_feed_on_an_allowed_host_is_fetched(server):
    got = fetch(server.url + "/feed.ics", allow_private=True)
    assert got.status == 200 and got.body.startswith(b"BEGIN:VCALENDAR")
    assert got.headers["etag"] == '"v1"'  # names in lower case, whatever was sent


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::ffff:127.0.0.1]", "2130706433"])
def test_loopback_is_refused_by_any_name_and_nothing_is_sent(server, host):
    before = len(server.hits)
    port = server.server_address[1]
    with pytest.raises(Blocked):
        fetch(f"http://{host}:{port}/feed.ics", allow_private=False)
    assert len(server.hits) == before


def test_a_redirect_to_a_local_address_is_refused_before_it_is_followed(monkeypatch):
    """127.0.0.1 stands in for a public host; the redirect leads to 127.0.0.2, loopback."""
    public = ipaddress.ip_address("127.0.0.1")
    monkeypatch.setattr(
        http,
        "allowed",
        lambda address, *, allow_private: (
            address == public or allowed(address, allow_private=False)
        ),
    )
    with http_server("127.0.0.1") as outside, http_server("127.0.0.2") as inside:
        inside.pages["/secret"] = (b"internal", {})
        assert fetch(outside.url + "/chain/0", allow_private=False).body == b"end"
        with pytest.raises(Blocked):
            fetch(f"{outside.url}/redirect?to={inside.url}/secret", allow_private=False)
        assert inside.hits == []


@pytest.mark.parametrize("target", ["file:///etc/passwd", "ftp://example.com/x"])
def test_a_redirect_away_from_http_is_refused(server, target):
    with pytest.raises(Blocked):
        fetch(f"{server.url}/redirect?to={target}", allow_private=True)


def test_five_redirects_are_followed_and_a_sixth_is_not(server):
    assert fetch(server.url + "/chain/5", allow_private=True).body == b"end"
    with pytest.raises(Unreachable, match="more than 5"):
        fetch(server.url + "/chain/6", allow_private=True)


def test_a_body_over_the_cap_is_refused(server):
    assert len(fetch(server.url + "/bytes/1000", allow_private=True, max_bytes=1000).body) == 1000
    with pytest.raises(TooLarge):
        fetch(server.url + "/bytes/1001", allow_private=True, max_bytes=1000)
    with pytest.raises(TooLarge):  # said up front
        fetch(server.url + "/claims-a-gigabyte", allow_private=True)


def test_a_body_that_never_ends_is_cut_off_at_the_cap(server):
    started = time.monotonic()
    with pytest.raises(TooLarge):
        fetch(server.url + "/endless", allow_private=True, max_bytes=2_000_000)
    assert time.monotonic() - started < 10


def test_a_body_that_trickles_is_cut_off_at_the_deadline(server):
    started = time.monotonic()
    with pytest.raises(TooSlow):
        fetch(server.url + "/trickle", allow_private=True, deadline=1.0)
    assert time.monotonic() - started < 5


def test_a_server_that_does_not_answer_times_out(server):
    with pytest.raises(TooSlow):
        fetch(server.url + "/slow", allow_private=True, timeout=(1.0, 0.5))


def test_a_closed_port_is_unreachable():
    with http_server() as gone:
        url = gone.url
    with pytest.raises(Unreachable):
        fetch(url + "/feed.ics", allow_private=True)


@pytest.mark.parametrize("url", ["http://a..b/x", "http://" + "a" * 64 + ".example/x"])
def test_a_host_the_client_cannot_parse_is_an_outbound_error(url):
    with pytest.raises(Unreachable):
        fetch(url, allow_private=False)
