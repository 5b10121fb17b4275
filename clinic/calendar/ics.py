"""Calendar files (RFC 5545 / 5546), built as bytes by pure functions.

One consult is always one event with one stable UID; later versions raise SEQUENCE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import icalendar

PRODID = "-//Clinic Booking//Consults//EN"


@dataclass(frozen=True)
class Person:
    email: str
    name: str = ""


@dataclass(frozen=True)
class ConsultEvent:
    """What a calendar needs to know about one consult. Instants are aware datetimes."""

    uid: str
    sequence: int
    stamp: datetime
    start: datetime
    end: datetime
    summary: str
    description: str
    location: str
    organizer: Person
    attendee: Person
    cancelled: bool = False


def _address(person: Person, **params: str) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{person.email}")
    if person.name:
        address.params["CN"] = person.name
    address.params.update(params)
    return address


def consult_calendar(event: ConsultEvent, method: str) -> bytes:
    """A VCALENDAR holding the consult, for ``method`` PUBLISH (download), REQUEST or CANCEL.

    Requests carry a reminder alarm; cancellations and downloads do not.
    """
    if method not in {"PUBLISH", "REQUEST", "CANCEL"}:
        raise ValueError(f"unsupported METHOD {method!r}")
    cal = _calendar(method)
    cal.add_component(_vevent(event, method))
    return cal.to_ical()


def feed_calendar(events: list[ConsultEvent], name: str) -> bytes:
    """A subscribable calendar (METHOD:PUBLISH) of many consults, without attendees.

    The bytes icalendar would write for ``_vevent(event, "FEED")`` components (a test holds
    them equal), written a line at a time: icalendar's general machinery takes about a third
    of a millisecond an event, seconds for a feed of thousands. Instants are written in UTC.
    """
    cal = _calendar("PUBLISH")
    cal.add("x-wr-calname", name)
    *lines, end = (line for line in cal.content_lines() if line)
    organizers: dict[Person, str] = {}
    for event in events:
        if event.organizer not in organizers:
            organizers[event.organizer] = _organizer_line(event.organizer)
        lines += [
            "BEGIN:VEVENT",
            f"SUMMARY:{_text(event.summary)}",
            f"DTSTART:{_utc(event.start)}",
            f"DTEND:{_utc(event.end)}",
            f"DTSTAMP:{_utc(event.stamp)}",
            f"UID:{_text(event.uid)}",
            f"SEQUENCE:{event.sequence:d}",
            f"DESCRIPTION:{_text(event.description)}",
        ]
        if event.location:
            lines.append(f"LOCATION:{_text(event.location)}")
        lines += [
            organizers[event.organizer],
            f"STATUS:{'CANCELLED' if event.cancelled else 'CONFIRMED'}",
            "TRANSP:OPAQUE",
            "END:VEVENT",
        ]
    lines.append(end)
    return "".join(f"{fold(line)}\r\n" for line in lines).encode()


def stored_calendar(event: ConsultEvent) -> bytes:
    """The consult as a calendar object resource for a CalDAV server (RFC 4791 4.1): no
    METHOD, and neither organizer nor attendees, so that no server sends invitations of its
    own (RFC 6638 scheduling needs both)."""
    cal = _calendar("")
    cal.add_component(_vevent(event, "STORED"))
    return cal.to_ical()


def _text(value: str) -> str:
    """A TEXT value, escaped by icalendar."""
    return icalendar.vText(value).to_ical().decode()


def _utc(instant: datetime) -> str:
    t = instant.astimezone(UTC)
    return f"{t.year:04}{t.month:02}{t.day:02}T{t.hour:02}{t.minute:02}{t.second:02}Z"


def _organizer_line(organizer: Person) -> str:
    """The ORGANIZER line, as icalendar writes it (its CN quoted and escaped)."""
    event = icalendar.Event()
    event.add("organizer", _address(organizer))
    [line] = (line for line in event.content_lines() if line.startswith("ORGANIZER"))
    return line


def fold(line: str, limit: int = 75) -> str:
    """``line`` folded as icalendar folds it (RFC 5545 3.1: under ``limit`` octets a line, and a
    backslash or caret escape never split from what it escapes), a piece at a time where
    icalendar goes a character at a time: most lines are ASCII, where characters are octets.
    """
    if not line.isascii():
        return _fold_unicode(line, limit)
    if len(line) < limit:
        return line
    width, start, pieces = limit - 1, 0, []
    while len(line) - start > width:
        end = start + width
        if line[end - 1] in "\\^":
            end -= 1
        pieces.append(line[start:end])
        start = end
    pieces.append(line[start:])
    return "\r\n ".join(pieces)


def _fold_unicode(line: str, limit: int) -> str:
    pieces: list[str] = []
    piece: list[str] = []
    octets = 0
    for char in line:
        size = len(char.encode())
        if piece and octets + size >= limit:
            carried = [piece.pop()] if len(piece) > 1 and piece[-1] in "\\^" else []
            pieces.append("".join(piece))
            piece, octets = carried, len("".join(carried).encode())
        piece.append(char)
        octets += size
    pieces.append("".join(piece))
    return "\r\n ".join(pieces)


def _calendar(method: str) -> icalendar.Calendar:
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    if method:
        cal.add("method", method)
    return cal


def _vevent(event: ConsultEvent, method: str) -> icalendar.Event:
    """One consult. ``method`` FEED leaves out the attendee (a feed is not an invitation);
    STORED the organizer too."""
    vevent = icalendar.Event()
    vevent.add("uid", event.uid)
    vevent.add("dtstamp", event.stamp)
    # Assigned, not add()ed: add() on an existing property appends a second SEQUENCE line.
    vevent["sequence"] = icalendar.vInt(event.sequence)
    vevent.add("dtstart", event.start)
    vevent.add("dtend", event.end)
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    if event.location:
        vevent.add("location", event.location)
    if method != "STORED":
        vevent.add("organizer", _address(event.organizer))
    if method in {"REQUEST", "CANCEL"}:
        vevent.add(
            "attendee",
            _address(event.attendee, ROLE="REQ-PARTICIPANT", PARTSTAT="NEEDS-ACTION", RSVP="TRUE"),
        )
    vevent.add("status", "CANCELLED" if event.cancelled or method == "CANCEL" else "CONFIRMED")
    vevent.add("transp", "OPAQUE")
    if method == "REQUEST":
        alarm = icalendar.Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", event.summary)
        alarm.add("trigger", timedelta(minutes=-15))
        vevent.add_component(alarm)
    return vevent
