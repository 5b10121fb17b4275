"""Practitioners' calendar feeds: /calendar/<token>.ics, for subscribing by URL."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest
import sqlalchemy as sa
import vobject
from hypothesis import example, given
from hypothesis import strategies as st
from icalendar.parser import Contentline

from clinic.booking import changes, services
from clinic.extensions import db
from clinic.models import AuditEvent, ClinicSettings, OutboxMessage, Practitioner
from clinic.notify.compose import compose
from clinic.notify.ics import fold
from clinic.staff.accounts import create_staff
from tests import factories
from tests.conftest import csrf_token

PASSWORD = "correct horse battery"


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
    from tests.test_query_count import counting

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


@given(line=FOLDING)
@example(line="a" * 73 + "\\n" + "b" * 80)
@example(line="é" + "a" * 71 + "\\,")
def test_feed_lines_fold_exactly_as_icalendar_folds_them(line):
    assert fold(line).encode() == Contentline(line).to_ical()
