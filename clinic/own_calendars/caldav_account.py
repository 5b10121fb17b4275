"""A practitioner's CalDAV account (Google, iCloud, Fastmail, Nextcloud, Radicale...), through
the ``caldav`` library, on the guarded session of ``clinic.outbound.http``: its calendars
listed, events read for a time range, and the practitioner's consults written and removed.

Every request keeps the outbound rules (public addresses only, unless allowed; timeouts; a
size cap; no proxies), and every failure becomes an ``OutboundError`` whose message says in
plain words what went wrong, never the password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urljoin, urlsplit

import niquests
from caldav.collection import Calendar
from caldav.davclient import DAVClient
from caldav.lib import error as dav_error

from clinic.outbound.http import MAX_BYTES, SafeSession
from clinic.outbound.urls import OutboundError, TooSlow, Unreachable, checked_url


class AccountError(OutboundError):
    """The account can't be used as it is: the password, the address, the server's answers."""


class SignInRefused(AccountError):
    """The server refused the user name or password."""


class Conflict(OutboundError):
    """A write's precondition failed (412): the event changed or appeared since last seen."""


@dataclass(frozen=True)
class RemoteCalendar:
    url: str
    name: str


@dataclass(frozen=True)
class Written:
    status: int
    etag: str


class Account:
    """One signed-in account; use through ``account(...)``."""

    def __init__(self, client: DAVClient) -> None:
        self.client = client

    def calendars(self) -> list[RemoteCalendar]:
        """The account's calendars, by address, with the names their owner gave them."""
        found: list[RemoteCalendar] = []
        principal = self.client.principal()
        # A web server answering anything at all would otherwise look like an empty account.
        advertised = self.client.options(str(principal.url)).headers.get("DAV") or ""
        if "calendar-access" not in advertised:
            raise AccountError(
                f"{self.client.url.hostname} did not answer as a CalDAV server does: check the "
                "server address."
            )
        listed: list = principal.get_calendars()  # type: ignore[assignment]
        for calendar in listed:
            url = str(calendar.url)
            name = calendar.get_display_name() or urlsplit(url).path.rstrip("/").rsplit("/")[-1]
            found.append(RemoteCalendar(url, str(name)[:100]))
        return found

    def events(self, calendar_url: str, start: datetime, end: datetime) -> list[str]:
        """The calendar's events (whole series, as stored) with a time in [start, end)."""
        calendar = Calendar(client=self.client, url=calendar_url)
        found: list = calendar.search(event=True, start=start, end=end, expand=False)  # type: ignore[assignment]
        return [str(event.data) for event in found if event.data]

    def put(self, href: str, body: bytes, *, etag: str | None) -> Written:
        """Write ``body`` at ``href``: only if nothing is there yet (``etag`` None), else only
        if it is still the version ``etag`` names ("" when the server gave none: any)."""
        headers = {"Content-Type": "text/calendar; charset=utf-8"}
        if etag is None:
            headers["If-None-Match"] = "*"
        elif etag:
            headers["If-Match"] = etag
        response = self._write(href, "PUT", body.decode(), headers)
        if response.status == 412:
            raise Conflict("The event changed in the calendar since it was last written.")
        if response.status not in (200, 201, 204):
            raise _refused(response.status)
        return Written(response.status, str(response.headers.get("ETag") or ""))

    def etag(self, href: str) -> str | None:
        """The current version of what is at ``href`` (None: nothing is)."""
        response = self.client.request(href, "HEAD", "", {})
        if response.status == 404:
            return None
        if response.status != 200:
            raise _refused(response.status)
        return str(response.headers.get("ETag") or "")

    def delete(self, href: str) -> None:
        """Remove what is at ``href``; already gone counts as done."""
        response = self._write(href, "DELETE", "", {})
        if response.status not in (200, 204, 404, 410):
            raise _refused(response.status)

    def _write(self, href: str, method: str, body: str, headers: dict[str, str]):
        try:
            return self.client.request(href, method, body, headers)
        except dav_error.AuthorizationError as problem:
            if problem.status == 403:  # signed in, but not allowed to change that calendar
                raise AccountError(
                    "The calendar server would not let this account change that calendar "
                    '(it may be read-only or hold only tasks): choose another under "Add '
                    'booked consults to".'
                ) from None
            raise


def event_href(calendar_url: str, uid: str) -> str:
    """Where the event with ``uid`` lives in the calendar: one address per UID, so writing it
    again replaces it rather than adding a second."""
    folder = calendar_url if calendar_url.endswith("/") else calendar_url + "/"
    return urljoin(folder, quote(uid, safe="") + ".ics")


@contextmanager
def account(
    server_url: str,
    username: str,
    password: str,
    *,
    allow_private: bool,
    max_bytes: int = MAX_BYTES,
) -> Iterator[Account]:
    """Signed in to the account at ``server_url``; every failure inside, an ``OutboundError``."""
    server_url = checked_url(server_url)
    host = urlsplit(server_url).hostname
    client = DAVClient(
        url=server_url,
        username=username,
        password=password,
        enable_rfc6764=False,  # no DNS discovery: the address given is the one used
        rate_limit_handle=False,  # a busy server is tried again next round, not waited on
    )
    client.session.close()
    client.session = SafeSession(allow_private=allow_private, max_bytes=max_bytes)
    try:
        yield Account(client)
    except OutboundError:
        raise
    except dav_error.AuthorizationError:
        raise SignInRefused(
            "The server refused the user name or app password (make a new app password and "
            "connect again)."
        ) from None
    except dav_error.NotFoundError:
        raise AccountError("There is no calendar at that address on the server.") from None
    except dav_error.RateLimitError:
        raise Unreachable(f"{host} asked to be tried again later (too many requests).") from None
    except niquests.exceptions.TooManyRedirects:
        raise Unreachable(f"{host} redirected too many times.") from None
    except niquests.exceptions.Timeout:
        raise TooSlow(f"{host} did not answer in time.") from None
    except (niquests.exceptions.ConnectionError, OSError) as problem:
        raise Unreachable(f"Couldn't reach {host} ({type(problem).__name__}).") from None
    except Exception as problem:  # noqa: BLE001 - HTML, bad XML, odd replies: the server's
        raise AccountError(
            f"{host} did not answer as a CalDAV server does ({type(problem).__name__}): check "
            "the server address."
        ) from None
    finally:
        client.close()


def _refused(status: int) -> AccountError:
    if status in (401, 403):
        return SignInRefused("The server refused the user name or app password.")
    if status == 404:
        return AccountError("There is no calendar at that address on the server any more.")
    if status == 507:
        return AccountError("The calendar is full (the server has no room for more events).")
    return AccountError(f"The calendar server answered with an error ({status}).")
