"""HTTP(S) to other servers, on guard: ``fetch`` for a GET, ``SafeSession`` for a library
that takes a session (CalDAV).

The address check sits in the session's DNS resolver. Every connection niquests opens, for
the first request and for every redirect, takes its addresses from the resolver and connects
to exactly those, so the address checked is the address used: a name that resolves to a
public address once and to 127.0.0.1 the next time gains nothing. The socket's peer is
checked again once connected, before a byte is sent. The body is read in chunks up to the
size cap and the deadline, on every hop, before niquests itself reads it.
"""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import niquests
from niquests.packages.urllib3.contrib.resolver.system import (  # type: ignore[import-not-found]
    SystemResolver,
)

from clinic.outbound.addresses import allowed
from clinic.outbound.urls import (
    BadAddress,
    Blocked,
    OutboundError,
    TooLarge,
    TooSlow,
    Unreachable,
    checked_url,
)

__all__ = [
    "BadAddress",
    "Blocked",
    "Fetched",
    "OutboundError",
    "SafeSession",
    "TooLarge",
    "TooSlow",
    "Unreachable",
    "checked_url",
    "fetch",
]

MAX_REDIRECTS = 5
MAX_BYTES = 5 * 1024 * 1024
TIMEOUT = (5.0, 10.0)  # seconds to connect; seconds any one read may wait
DEADLINE = 30.0  # seconds to read a whole body


@dataclass(frozen=True)
class Fetched:
    status: int
    headers: dict[str, str]  # names in lower case (HTTP/2 sends them so; HTTP/1.1 need not)
    body: bytes


class _CheckedResolver(SystemResolver):  # type: ignore[misc]
    """The system's DNS, handing out only the addresses the policy allows."""

    def __init__(self, *args: Any, allow_private: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allow_private = allow_private

    def _allowed(self, sockaddr: tuple) -> bool:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        return allowed(address, allow_private=self.allow_private)

    def getaddrinfo(self, host, port, family, type, proto=0, flags=0, **kwargs):  # type: ignore[no-untyped-def]  # noqa: A002
        records = super().getaddrinfo(host, port, family, type, proto, flags)
        usable = [record for record in records if self._allowed(record[4])]
        if not usable:
            raise Blocked(
                f"{host} is a private or local address; only public calendar servers can be "
                "reached."
            )
        return usable

    def create_connection(self, *args: Any, **kwargs: Any) -> Any:
        sock = super().create_connection(*args, **kwargs)
        if not self._allowed(sock.getpeername()):
            sock.close()
            raise Blocked("The server's address is private or local.")
        return sock


class SafeSession(niquests.Session):
    """A session whose every request (and redirect) keeps the rules in this module's
    docstring; hand it to libraries that take one."""

    def __init__(
        self,
        *,
        allow_private: bool = False,
        max_bytes: int = MAX_BYTES,
        timeout: tuple[float, float] = TIMEOUT,
        deadline: float = DEADLINE,
    ) -> None:
        super().__init__(
            resolver=_CheckedResolver(allow_private=allow_private),
            timeout=timeout,
            disable_http3=True,
            happy_eyeballs=False,
        )
        self.trust_env = False  # no proxies from the environment, no .netrc passwords
        self.max_redirects = MAX_REDIRECTS
        self.adapters.pop("http+unix://", None)  # no redirect into a Unix socket
        self.max_bytes = max_bytes
        self.deadline = deadline

    def send(self, request: Any, **kwargs: Any) -> Any:  # every hop passes here
        if urlsplit(request.url or "").scheme not in ("http", "https"):
            raise Blocked("A redirect led away from the web (only http and https are fetched).")
        if kwargs.get("proxies"):
            raise Blocked("Requests through a proxy are not made.")
        kwargs["proxies"] = {}
        kwargs["multiplexed"] = False  # a lazy response would skip the reading hook
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self.timeout
        hooks = request.hooks.setdefault("response", [])
        if self._read_body not in hooks:
            hooks.insert(0, self._read_body)
        return super().send(request, **kwargs)

    def _read_body(self, response: Any, **_: Any) -> Any:
        """Read the body now, in chunks, refusing one over the cap or the deadline."""
        if response._content_consumed:
            return response
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            response.close()
            raise TooLarge(f"The server sent more than {self.max_bytes // 1_000_000} MB.")
        ends = time.monotonic() + self.deadline
        body = bytearray()
        try:
            for chunk in response.iter_content(64 * 1024):
                body += chunk
                if len(body) > self.max_bytes:
                    raise TooLarge(f"The server sent more than {self.max_bytes // 1_000_000} MB.")
                if time.monotonic() > ends:
                    raise TooSlow(f"The server took more than {self.deadline:.0f} s to answer.")
        except OutboundError:
            response._content_consumed = False  # close the socket rather than drain it
            response.close()
            raise
        response._content, response._content_consumed = bytes(body), True
        return response


def fetch(
    url: str,
    *,
    allow_private: bool,
    headers: dict[str, str] | None = None,
    max_bytes: int = MAX_BYTES,
    timeout: tuple[float, float] = TIMEOUT,
    deadline: float = DEADLINE,
) -> Fetched:
    """GET ``url`` within the rules; any failure is an ``OutboundError`` saying why."""
    url = checked_url(url)
    host = urlsplit(url).hostname
    session = SafeSession(
        allow_private=allow_private, max_bytes=max_bytes, timeout=timeout, deadline=deadline
    )
    try:
        with session:
            response = session.get(url, headers=headers or {}, allow_redirects=True)
            headers = {name.lower(): value for name, value in response.headers.items()}
            return Fetched(response.status_code or 0, headers, response.content or b"")
    except niquests.exceptions.TooManyRedirects:
        raise Unreachable(f"{host} redirected more than {MAX_REDIRECTS} times.") from None
    except niquests.exceptions.Timeout:
        raise TooSlow(f"{host} did not answer in time.") from None
    except OutboundError:
        raise
    except Exception as error:  # noqa: BLE001 - the client's other errors (an unparsable host...)
        raise Unreachable(f"Couldn't reach {host} ({type(error).__name__}).") from None
