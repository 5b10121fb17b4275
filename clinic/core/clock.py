"""The one clock: every "now" of the site comes from here, in UTC."""

from datetime import UTC, datetime


def utc_now() -> datetime:
    return datetime.now(UTC)
