"""Addresses an outbound request may be made to, checked before any network is touched, and
the failures an outbound request ends in (kept apart from ``http``, which needs niquests, so
that pages checking an address don't load an HTTP client)."""

from __future__ import annotations

from urllib.parse import urlsplit

MAX_URL = 2000


class OutboundError(Exception):
    """A request refused or failed; the message says why, in plain words, and names no
    secret (a calendar's address can be one)."""


class BadAddress(OutboundError):
    """Not an address this product will fetch (the scheme, credentials in it, no host)."""


class Blocked(OutboundError):
    """The host is, or leads to, an address outbound requests may not reach."""


class TooLarge(OutboundError):
    pass


class TooSlow(OutboundError):
    pass


class Unreachable(OutboundError):
    """No answer: refused, timed out, a TLS or DNS failure, or too many redirects."""


def checked_url(url: str) -> str:
    """``url`` as it will be fetched (``webcal://`` is HTTPS), or ``BadAddress``."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise BadAddress(f"That address is longer than {MAX_URL} characters.")
    if url.lower().startswith("webcal://"):
        url = "https://" + url[len("webcal://") :]
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise BadAddress("That is not a web address.") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise BadAddress("Please give a web address starting with https://, http:// or webcal://.")
    if parts.username is not None or parts.password is not None:
        raise BadAddress("Please leave the user name and password out of the address.")
    return url
