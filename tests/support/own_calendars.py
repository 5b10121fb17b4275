"""A practitioner's own calendar connected, as the staff page connects one."""

from __future__ import annotations

from datetime import UTC, datetime

from clinic.core.extensions import db
from clinic.core.models import CalendarConnection, ConnectionKind
from clinic.own_calendars.secrets import seal

PUBLIC_FEED = "https://calendar.example.com/ada/secret-address/basic.ics"
PUBLIC_DAV = "https://dav.example.com/"
DAV_CALENDARS = [
    [f"{PUBLIC_DAV}ada/work/", "Work"],
    [f"{PUBLIC_DAV}ada/family/", "Family"],
]


def connect_feed(
    practitioner_id: int, url: str = PUBLIC_FEED, label: str = "Home", **columns: object
) -> int:
    """The connection's id; ``columns`` set others (``created_at``, ``sync_due_at``...)."""
    return _stored(practitioner_id, ConnectionKind.ICS, label, url, columns)


def connect_account(
    practitioner_id: int, label: str = "Phone", password: str = "app-password", **columns: object
) -> int:
    """A CalDAV account with two calendars, as connecting one stores it (no server asked);
    ``columns`` set others (``server_url``, ``calendars``, ``push_calendar``...)."""
    account = {
        "server_url": PUBLIC_DAV,
        "username": "ada",
        "calendars": DAV_CALENDARS,
        "busy_calendars": [url for url, _ in DAV_CALENDARS],
    }
    return _stored(practitioner_id, ConnectionKind.CALDAV, label, password, account | columns)


def _stored(
    practitioner_id: int, kind: ConnectionKind, label: str, secret: str, columns: dict
) -> int:
    """A connection written straight to the database, its secret sealed as the app seals it."""
    connection = CalendarConnection(
        practitioner_id=practitioner_id,
        kind=kind.value,
        label=label,
        secret=seal(secret),
        **({"created_at": datetime.now(UTC)} | columns),
    )
    db.session.add(connection)
    db.session.commit()
    return connection.id
