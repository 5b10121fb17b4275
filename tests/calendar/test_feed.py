"""Practitioners' calendar feeds: /calendar/<token>.ics, for subscribing by URL."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
import vobject
from flask import current_app
from hypothesis import example, given
from hypothesis import strategies as st
from icalendar.parser import Contentline
from werkzeug.http import http_date

from clinic.accounts.services import create_staff
from clinic.booking import lifecycle as changes
from clinic.booking import services
from clinic.calendar import feed as feeds
from clinic.calendar import ics
from clinic.calendar import routes as feed_routes
from clinic.calendar.ics import fold
from clinic.core.extensions import db
from clinic.core.formatting import CONTROL_CATEGORIES
from clinic.core.links import link_token
from clinic.core.models import (
    Appointment,
    AuditEvent,
    ClinicSettings,
    OutboxMessage,
    Patient,
    Practitioner,
)
from clinic.notify.compose import compose
from clinic.privacy.erasure import erase_patient
from tests.support import factories
from tests.support.apps import csrf_token
from tests.support.queries import counting

PASSWORD = "correct horse battery"
HOLD = timedelta(minutes=10)


@pytest.fixture
def ada(app):
    factories.clinic(timezone="America/New_York")
    ada = factories.practitioner(name="Dr Ada Lane", email="ada@clinic.test")
    factories.practitioner(name="Dr Ben Ode", email="ben@clinic.test")
    create_staff("ada@clinic.test", "practitioner", PASSWORD)
    create_staff("ben@clinic.test", "practitioner", PASSWORD)
    create_staff("admin@clinic.test", "admin", PASSWORD)
    create_staff("desk@clinic.test", "frontdesk", PASSWORD)
    return ada


def sign_in(client, email):
    page = client.get("/staff/sign-in")
    response = client.post(
        "/staff/sign-in",
        data={"csrf_token": csrf_token(page.text), "email": email, "password": PASSWORD},
    )
    assert response.status_code == 303


def book(practitioner, start, name="Jo Patient", email="jo@example.com"):
    return services.book(
        practitioner.id,
        start,
        ZoneInfo("Europe/London"),
        services.PatientDetails(name, email),
        datetime.now(UTC),
        "clinic.test",
    )


def feed_path(client) -> str:
    """The first feed address shown on the console's calendar page, as a path."""
    page = client.get("/staff/calendar")
    assert page.status_code == 200
    url = re.search(r'value="(https?://[^"]+/calendar/[^"]+\.ics)"', page.text).group(1)
    return "/calendar/" + url.split("/calendar/", 1)[1]


def test_the_feed_parses_and_its_uids_match_the_emailed_invites(client, ada):
    first, token = book(ada, factories.next_grid_time(days_ahead=3, hour=15))
    second, _ = book(ada, factories.next_grid_time(days_ahead=4, hour=15), "Sam Roe", "s@x.org")
    changes.reschedule(token, factories.next_grid_time(days_ahead=5, hour=9), datetime.now(UTC))
    sign_in(client, "ada@clinic.test")

    response = client.get(feed_path(client))

    assert response.status_code == 200
    assert response.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(response.data)
    vcal = vobject.readOne(response.data.decode(), validate=True)
    assert len(vcal.vevent_list) == 2
    events = {str(e["UID"]): e for e in calendar.walk("VEVENT")}
    # Every invite emailed to the practitioner carries the same UID and the latest SEQUENCE.
    invites = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.audience == "practitioner", OutboxMessage.kind != "urgent_intake"
        )
    ).all()
    emailed = {}
    for message in invites:
        invite = icalendar.Calendar.from_ical(compose(message).invite.calendar)
        [event] = invite.walk("VEVENT")
        emailed[str(event["UID"])] = max(emailed.get(str(event["UID"]), 0), int(event["SEQUENCE"]))
    assert set(events) == set(emailed) == {first.calendar_uid, second.calendar_uid}
    for uid, event in events.items():
        assert int(event["SEQUENCE"]) == emailed[uid]
    moved = events[first.calendar_uid]
    assert moved.decoded("DTSTART") == factories.next_grid_time(days_ahead=5, hour=9)
    assert "ATTENDEE" not in moved  # a feed is not an invitation


def test_patients_show_by_initials_unless_the_clinic_opts_in(client, ada):
    book(ada, factories.next_grid_time(days_ahead=3, hour=15))
    sign_in(client, "ada@clinic.test")
    path = feed_path(client)
    body = client.get(path).data.decode()
    assert "J. P." in body and "Jo Patient" not in body and "jo@example.com" not in body
    db.session.get(ClinicSettings, 1).feed_full_names = True
    db.session.commit()
    assert "Jo Patient" in client.get(path).data.decode()


def test_only_booked_consults_from_30_days_back(client, ada):
    now = datetime.now(UTC)
    recent = factories.appointment(ada, now - timedelta(days=29), status="completed")
    old = factories.appointment(ada, now - timedelta(days=31), status="completed")
    cancelled = factories.appointment(ada, now + timedelta(days=2), status="cancelled")
    ahead = factories.appointment(ada, now + timedelta(days=3))
    ben = db.session.scalar(sa.select(Practitioner).where(Practitioner.name == "Dr Ben Ode"))
    others = factories.appointment(ben, now + timedelta(days=3))
    sign_in(client, "ada@clinic.test")
    body = client.get(feed_path(client)).data.decode()
    assert recent.calendar_uid in body and ahead.calendar_uid in body
    for absent in (old, cancelled, others):
        assert absent.calendar_uid not in body


def test_replacing_the_address_retires_the_old_one(client, ada):
    sign_in(client, "ada@clinic.test")
    old = feed_path(client)
    assert client.get(old).status_code == 200
    page = client.get("/staff/calendar")
    response = client.post(
        f"/staff/calendar/{ada.id}/rotate", data={"csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 303
    new = feed_path(client)
    assert new != old
    assert client.get(old).status_code == 404
    assert client.get(new).status_code == 200
    db.session.rollback()  # read what the requests committed
    assert db.session.scalar(
        sa.select(sa.func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "calendar_feed_rotated")
    )
    # Only the token's hash is stored.
    token = new.rsplit("/", 1)[1].removesuffix(".ics")
    assert len(token) >= 43
    db.session.expire_all()
    stored = db.session.get(Practitioner, ada.id)
    assert token not in (stored.calendar_salt, stored.calendar_token_hash)


def test_who_may_see_and_replace_feed_addresses(client, ada):
    ben = db.session.scalar(sa.select(Practitioner).where(Practitioner.name == "Dr Ben Ode"))
    assert client.get("/staff/calendar").status_code == 302
    sign_in(client, "desk@clinic.test")
    assert client.get("/staff/calendar").status_code == 403
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(client.get("/staff/").text)})
    sign_in(client, "ada@clinic.test")
    page = client.get("/staff/calendar")
    assert "Dr Ada Lane" in page.text and "Dr Ben Ode" not in page.text
    refused = client.post(
        f"/staff/calendar/{ben.id}/rotate", data={"csrf_token": csrf_token(page.text)}
    )
    assert refused.status_code == 404
    client.post("/staff/sign-out", data={"csrf_token": csrf_token(page.text)})
    sign_in(client, "admin@clinic.test")
    page = client.get("/staff/calendar")
    assert "Dr Ada Lane" in page.text and "Dr Ben Ode" in page.text


def test_an_unknown_feed_address_is_404(client, ada):
    assert client.get("/calendar/" + "x" * 43 + ".ics").status_code == 404
    assert client.get("/calendar/" + "x" * 500 + ".ics").status_code == 404


def test_the_feed_takes_the_same_number_of_queries_however_many_consults(client, ada):
    """Patients and the consult type are loaded together, not one query per consult."""
    sign_in(client, "ada@clinic.test")
    path = feed_path(client)
    now = datetime.now(UTC)

    def statements() -> int:
        with counting() as seen:
            assert client.get(path).status_code == 200
        return len(seen)

    factories.appointment(ada, now + timedelta(days=2))
    few = statements()
    for day in range(3, 9):
        factories.appointment(ada, now + timedelta(days=day))
    assert statements() == few


# Lines that fold differently: escapes (a backslash or caret stays with what follows it),
# multi-byte UTF-8 (folded by octets, never inside a character), and plain ASCII.
FOLDING = st.one_of(
    st.text(st.sampled_from("a\\^;"), max_size=300),
    st.text(st.sampled_from('ab \\^;,:"é€🙂\u200b'), max_size=300),
)


TEXT = st.one_of(
    st.text(max_size=120),
    st.sampled_from(["", "\\N", "a\r\nb\rc\nd", ';,\\:"', "é" * 80, "x" * 200]),
)
EVENTS = st.builds(
    ics.ConsultEvent,
    uid=TEXT,
    sequence=st.integers(0, 10**9),
    stamp=st.datetimes(timezones=st.just(UTC)),
    start=st.datetimes(timezones=st.just(UTC)),
    end=st.datetimes(timezones=st.just(UTC)),
    summary=TEXT,
    description=TEXT,
    location=TEXT,
    organizer=st.builds(ics.Person, st.emails(), TEXT),
    attendee=st.builds(ics.Person, st.emails(), TEXT),
    cancelled=st.booleans(),
)


# Names as the settings forms take them: no control characters (``printable``).
NAMES = st.text(st.characters(exclude_categories=[*CONTROL_CATEGORIES, "Cs"]), max_size=120)


@given(events=st.lists(EVENTS, max_size=4), name=NAMES)
def test_the_feed_is_the_calendar_icalendar_would_write(events, name):
    """The feed writes its events a line at a time; icalendar's own components are the
    reference, so every escape, quote, fold and property order stays theirs."""
    reference = ics._calendar("PUBLISH")
    reference.add("x-wr-calname", name)
    for event in events:
        reference.add_component(ics._vevent(event, "FEED"))
    assert ics.feed_calendar(events, name) == reference.to_ical()


@given(line=FOLDING)
@example(line="a" * 73 + "\\n" + "b" * 80)
@example(line="é" + "a" * 71 + "\\,")
def test_feed_lines_fold_exactly_as_icalendar_folds_them(line):
    assert fold(line).encode() == Contentline(line).to_ical()


# Conditional GETs: calendar apps poll the feed, and a poll that changes nothing is answered
# 304 Not Modified without building the calendar.


@pytest.fixture
def jo(ada):
    """Jo's consult with Ada, booked, and its manage token."""
    return book(ada, factories.next_grid_time(days_ahead=3, hour=15))


@pytest.fixture
def feed(ada, jo):
    """Ada's feed address, as a path."""
    path = urlsplit(feeds.feed_url(ada)).path
    db.session.commit()
    return path


@pytest.fixture
def built(monkeypatch):
    """How many times a request built a calendar (the real builder still runs)."""
    calls = []

    def counted(events, name):
        calls.append(name)
        return ics.feed_calendar(events, name)

    monkeypatch.setattr(feeds, "feed_calendar", counted)
    return calls


@pytest.fixture
def loaded():
    """The consult and patient rows loaded as ORM objects, by any request."""
    rows = []

    def record(target, _context):
        rows.append(target)

    for model in (Appointment, Patient):
        sa.event.listen(model, "load", record)
    yield rows
    for model in (Appointment, Patient):
        sa.event.remove(model, "load", record)


def test_a_poll_with_the_current_etag_is_answered_without_building_the_feed(
    client, feed, built, loaded
):
    first = client.get(feed)
    assert first.status_code == 200 and len(built) == 1
    etag = first.headers["ETag"]
    assert etag.startswith('"')  # a strong tag: the same bytes every time
    built.clear()

    with counting() as statements:
        again = client.get(feed, headers={"If-None-Match": etag})

    assert again.status_code == 304 and again.data == b""
    assert built == [] and loaded == []
    # The address, the settings and the light query of the feed's facts; nothing written.
    assert len(statements) == 3, statements
    assert not any("patient.email" in s or s.lstrip().startswith("UPDATE") for s in statements)
    # What a 200 would carry for caches (RFC 9110 15.4.5); Last-Modified is left out there.
    assert again.headers["ETag"] == etag
    assert again.headers["Cache-Control"] == "private, max-age=300"
    assert again.headers["Referrer-Policy"] == "no-referrer"
    # A weak comparison (RFC 9110 13.1.2), and a list of tags, match as well.
    for header in (f"W/{etag}", f'"stale", {etag}', "*"):
        assert client.get(feed, headers={"If-None-Match": header}).status_code == 304
    assert built == []


def test_a_stale_etag_gets_the_whole_feed(client, feed, built):
    etag = client.get(feed).headers["ETag"]
    for header in ('"stale"', f'{etag[:-2]}x"', f"W/{etag[:-1]}"):
        response = client.get(feed, headers={"If-None-Match": header})
        assert response.status_code == 200, header
        assert icalendar.Calendar.from_ical(response.data).walk("VEVENT")
        assert response.headers["ETag"] == etag
    assert len(built) == 4


def test_if_modified_since_is_answered_from_the_last_modified(client, feed, built):
    first = client.get(feed)
    last_modified = first.headers["Last-Modified"]
    since = parsedate_to_datetime(last_modified)
    assert since <= datetime.now(UTC)

    assert client.get(feed, headers={"If-Modified-Since": last_modified}).status_code == 304
    later = http_date(since + timedelta(hours=1))
    assert client.get(feed, headers={"If-Modified-Since": later}).status_code == 304
    earlier = http_date(since - timedelta(seconds=1))
    assert client.get(feed, headers={"If-Modified-Since": earlier}).status_code == 200
    assert client.get(feed, headers={"If-Modified-Since": "yesterday"}).status_code == 200
    # If-None-Match, when sent, decides alone (RFC 9110 13.2.2).
    both = {"If-None-Match": '"stale"', "If-Modified-Since": last_modified}
    assert client.get(feed, headers=both).status_code == 200
    assert len(built) == 4


def test_polls_that_change_nothing_keep_the_validators_and_write_nothing(client, feed):
    first = client.get(feed)
    with counting() as statements:
        second = client.get(feed)
    assert second.data == first.data
    assert second.headers["ETag"] == first.headers["ETag"]
    assert second.headers["Last-Modified"] == first.headers["Last-Modified"]
    assert not any(s.lstrip().upper().startswith("UPDATE") for s in statements)


def _at(moment: datetime):
    """A stand-in for ``utc_now`` that says ``moment``: another process's clock."""
    return lambda: moment


def _ben():
    return db.session.scalar(sa.select(Practitioner).where(Practitioner.name == "Dr Ben Ode"))


# Each change sets up what it needs before the first poll, yields, then changes one thing the
# feed is made of.


def _new_booking(ada, jo, monkeypatch):
    yield
    book(ada, factories.next_grid_time(days_ahead=4, hour=15), "Sam Roe", "sam@example.org")


def _cancellation(ada, jo, monkeypatch):
    yield
    changes.cancel(jo[1], "", datetime.now(UTC))


def _move(ada, jo, monkeypatch):
    yield
    changes.reschedule(jo[1], factories.next_grid_time(days_ahead=5, hour=9), datetime.now(UTC))


def _hold_confirmed(ada, jo, monkeypatch):
    now = datetime.now(UTC)
    start = factories.next_grid_time(days_ahead=6, hour=10)
    held = factories.appointment(ada, start, status="held", hold_expires_at=now + HOLD)
    yield
    details = services.PatientDetails("Kim Lee", "kim@example.org")
    services.confirm_hold(link_token(held.link_salt), details, datetime.now(UTC))


def _outcome_marked(ada, jo, monkeypatch):
    past = factories.appointment(ada, datetime.now(UTC) - timedelta(days=2))
    yield
    past.status = "no_show"
    db.session.commit()


def _aged_out(ada, jo, monkeypatch):
    now = datetime.now(UTC)
    factories.appointment(ada, now - timedelta(days=30, minutes=-30), status="completed")
    yield
    monkeypatch.setattr(feed_routes, "utc_now", _at(now + timedelta(hours=1)))


def _older_clock(ada, jo, monkeypatch):
    """A consult committed after the first poll, stamped by a process whose clock is behind."""
    yield
    long_ago = datetime.now(UTC) - timedelta(days=10)
    start = factories.next_grid_time(days_ahead=7)
    factories.appointment(ada, start, created_at=long_ago, updated_at=long_ago)


def _returning_patient_renamed(ada, jo, monkeypatch):
    yield
    book(_ben(), factories.next_grid_time(days_ahead=3, hour=16), "Sam Roe", "jo@example.com")


def _patient_erased(ada, jo, monkeypatch):
    kim = Patient(name="Kim Lee", email="kim@example.org")
    factories.appointment(ada, datetime.now(UTC) - timedelta(days=2), patient=kim)
    yield
    erase_patient("kim@example.org", datetime.now(UTC))


def _setting(field, value):
    def change(ada, jo, monkeypatch):
        yield
        setattr(db.session.get(ClinicSettings, 1), field, value)
        db.session.commit()

    return change


def _practitioner(field, value):
    def change(ada, jo, monkeypatch):
        yield
        setattr(ada, field, value)
        db.session.commit()

    return change


def _consult_type_renamed(ada, jo, monkeypatch):
    yield
    jo[0].consult_type.name = "Welcome consult"
    db.session.commit()


def _sender(ada, jo, monkeypatch):
    yield
    monkeypatch.setitem(current_app.config, "MAIL_DEFAULT_SENDER", "Desk <desk@clinic.test>")


CHANGES = {
    "new booking": _new_booking,
    "cancellation": _cancellation,
    "move": _move,
    "hold confirmed": _hold_confirmed,
    "outcome marked": _outcome_marked,
    "consult aged out": _aged_out,
    "consult stamped by a clock behind": _older_clock,
    "returning patient renamed": _returning_patient_renamed,
    "patient erased": _patient_erased,
    "clinic name": _setting("name", "Harbour Clinic"),
    "full names": _setting("feed_full_names", True),
    "email sender": _sender,
    "practitioner name": _practitioner("name", "Dr Ada Lane-Smith"),
    "practitioner email": _practitioner("email", "ada.lane@clinic.test"),
    "meeting link": _practitioner("meeting_link", "https://meet.clinic.test/ada"),
    "consult type name": _consult_type_renamed,
}


@pytest.mark.parametrize("change", CHANGES.values(), ids=CHANGES.keys())
def test_every_change_to_what_the_feed_shows_changes_its_validators(
    client, ada, jo, feed, change, monkeypatch
):
    steps = change(ada, jo, monkeypatch)
    next(steps)
    before = client.get(feed)
    assert client.get(feed, headers={"If-None-Match": before.headers["ETag"]}).status_code == 304

    next(steps, None)
    db.session.expire_all()
    after = client.get(feed, headers={"If-None-Match": before.headers["ETag"]})

    assert after.status_code == 200
    assert after.headers["ETag"] != before.headers["ETag"]
    was = parsedate_to_datetime(before.headers["Last-Modified"])
    assert parsedate_to_datetime(after.headers["Last-Modified"]) > was
    since = {"If-Modified-Since": before.headers["Last-Modified"]}
    assert client.get(feed, headers=since).status_code == 200
    assert client.get(feed, headers={"If-None-Match": after.headers["ETag"]}).status_code == 304


def test_last_modified_only_grows_whatever_the_serving_clock_says(client, ada, feed, monkeypatch):
    first = client.get(feed)
    book(ada, factories.next_grid_time(days_ahead=4, hour=15), "Sam Roe", "sam@example.org")
    monkeypatch.setattr(feed_routes, "utc_now", _at(datetime.now(UTC) - timedelta(days=1)))
    second = client.get(feed, headers={"If-Modified-Since": first.headers["Last-Modified"]})
    assert second.status_code == 200
    was = parsedate_to_datetime(first.headers["Last-Modified"])
    assert parsedate_to_datetime(second.headers["Last-Modified"]) > was


BAD_VALIDATORS = [
    "",
    " ",
    '"',
    'W/"',
    "W/",
    ",,,",
    '"unterminated',
    "unquoted",
    '"a", W/',
    '"' + "x" * 5000 + '"',
    "\x00",
    '"\x00"',
    "é".encode().decode("latin-1"),  # UTF-8 bytes, as a server reads them
    "\x7f\xff",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Mon, 01 Jan 0001 00:00:00 GMT",
    "Sun, 31 Feb 2026 25:61:61 GMT",
    "-1",
    "99999999999999999999",
]


@pytest.mark.parametrize("value", BAD_VALIDATORS)
def test_forged_validators_never_break_the_feed(client, feed, value):
    for header in ("If-None-Match", "If-Modified-Since"):
        response = client.get(feed, headers={header: value})
        assert response.status_code in (200, 304), (header, value)
        if response.status_code == 200:
            assert icalendar.Calendar.from_ical(response.data).walk("VEVENT")


def test_a_content_stored_meanwhile_by_another_request_is_followed_not_undercut(ada, feed):
    """Two polls racing with different contents: the later write stamps after the earlier."""
    now = datetime.now(UTC)
    assert ada.feed_fingerprint is None  # this request's view, read before the other's write
    theirs = (now + timedelta(hours=1)).replace(microsecond=0)
    with db.engine.begin() as other:
        other.execute(
            sa.update(Practitioner)
            .where(Practitioner.id == ada.id)
            .values(feed_fingerprint="theirs", feed_changed_at=theirs)
        )

    current = feeds.current(ada, db.session.get(ClinicSettings, 1), now)

    assert current.last_modified == theirs + timedelta(seconds=1)
    db.session.expire_all()
    assert db.session.get(Practitioner, ada.id).feed_fingerprint == current.etag


def test_a_poll_is_not_kept_waiting_to_record_its_last_modified(
    client, ada, feed, database_url, backend
):
    """Bookings may hold the lock the feed's stamp needs: the poll waits at most
    STAMP_WAIT_MS, is served without a Last-Modified, and a later poll records it."""
    engine = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    if backend == "sqlite":
        holder = sqlite3.connect(
            database_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False
        )
        holder.execute("BEGIN IMMEDIATE")  # the database's one write lock
    else:
        holder = engine.connect()
        holder.execute(
            sa.text("SELECT id FROM practitioner WHERE id = :id FOR UPDATE"), {"id": ada.id}
        )
    release = threading.Timer(5, holder.rollback)  # a poll that waits is held up 5 s, not forever
    release.start()
    try:
        started = time.monotonic()
        response = client.get(feed)
        took = time.monotonic() - started
    finally:
        release.cancel()
        release.join()
        holder.rollback()
        holder.close()
        engine.dispose()
    assert response.status_code == 200
    assert "Last-Modified" not in response.headers and response.headers["ETag"]
    assert took < 3, f"the poll waited {took:.1f} s for the lock"
    later = client.get(feed)
    assert later.headers["ETag"] == response.headers["ETag"]
    assert "Last-Modified" in later.headers
