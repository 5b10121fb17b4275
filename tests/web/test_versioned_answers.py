"""Pages of free times are kept under what they were worked out from, for visitors with a
session too (clinic/web/versioned_answers.py).

What must hold: a returning visitor's second ask of an address is served without rendering,
with their own working CSRF token and the same headers; a booking, a hold or a settings change
made by another process is never answered from a kept page; a kept page never outlives the
minute it was worked out in, a lapsing hold or the minimum notice; a page with a flashed
message is never served from, or kept in, the cache.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from flask import template_rendered

from clinic.availability.open_times import active_practitioners, kept_open_times
from clinic.core.extensions import db
from clinic.core.models import Appointment, ClinicSettings
from clinic.scheduling import Interval
from clinic.web import versioned_answers
from tests.support import factories
from tests.support.apps import csrf_token, make_app
from tests.support.booking import book, hold, hold_from
from tests.support.queries import counting

TOKEN = re.compile(r'name="csrf_token" type="hidden" value="[^"]+"')


@pytest.fixture
def doctor(app):
    factories.clinic(timezone="UTC", min_notice_minutes=60)
    return factories.practitioner(name="Dr Ada Lane")


@pytest.fixture
def patient(app, doctor):
    """A returning visitor: their first page gave them a session cookie."""
    client = app.test_client()
    assert client.get("/").status_code == 200
    client.get("/book?tz=UTC")
    assert client.get_cookie("session") is not None
    return client


@pytest.fixture
def elsewhere(app, database_url):
    """Another process's app on the same database: its own caches, its own commits."""
    other = make_app(database_url)
    with other.app_context():
        yield other
        db.session.remove()


def rendered(app, client, url: str) -> tuple[object, int, int]:
    """The answer to a GET of ``url``, the templates rendered and the statements sent."""
    templates: list[str] = []

    def record(_sender, template, context, **_extra) -> None:
        templates.append(template.name)

    template_rendered.connect(record, app)
    try:
        with counting() as statements:
            response = client.get(url)
    finally:
        template_rendered.disconnect(record, app)
    assert response.status_code == 200, response.text[:300]
    return response, len(templates), len(statements)


def starts(response) -> set[datetime]:
    if response.is_json:
        return {datetime.fromisoformat(s["start_utc"]) for s in response.get_json()["slots"]}
    return {
        datetime.fromisoformat(v)
        for v in re.findall(r'name="start" value="([^"]+)"', response.text)
    }


def test_a_returning_visitor_is_served_the_kept_page_with_their_own_working_token(app, patient):
    day = factories.next_grid_time(days_ahead=2).date()
    url = f"/book?tz=UTC&day={day}"
    first, templates, _ = rendered(app, patient, url)
    again, templates_again, statements = rendered(app, patient, url)

    assert templates >= 1 and templates_again == 0
    assert statements == 1  # the practitioners with their versions, the settings, the type
    assert TOKEN.sub("", again.text) == TOKEN.sub("", first.text)
    assert csrf_token(again.text) == csrf_token(first.text)  # this visitor's, from their session
    assert {k: v for k, v in again.headers.items() if k != "Date"} == {
        k: v for k, v in first.headers.items() if k != "Date"
    }
    start = min(starts(again))
    held = hold_from(patient, again.text, start, tz="UTC")
    assert held.status_code == 303, held.text[:300]


def test_another_visitors_kept_page_carries_their_token_not_the_first_ones(app, patient):
    url = "/book?tz=UTC"
    first = patient.get(url)
    other = app.test_client()
    other.get("/")
    again, templates, _ = rendered(app, other, url)
    assert templates == 0
    assert csrf_token(again.text) != csrf_token(first.text)


@pytest.mark.parametrize(
    "address", ["/book?tz=UTC&day={day}", "/api/v1/slots?timezone=UTC&from={day}&to={day}"]
)
def test_a_time_booked_or_held_by_another_process_is_never_offered_from_a_kept_page(
    app, patient, doctor, elsewhere, address
):
    day = factories.next_grid_time(days_ahead=2).date()
    url = address.format(day=day)
    offered = starts(rendered(app, patient, url)[0])
    booked, held = sorted(offered)[:2]

    with elsewhere.app_context():
        book(doctor, booked)
        assert hold(elsewhere.test_client(), held, tz="UTC").status_code == 303

    left = starts(rendered(app, patient, url)[0])
    assert booked not in left and held not in left
    assert left == offered - {booked, held}


def test_a_settings_change_by_another_process_is_never_answered_from_a_kept_page(
    app, patient, elsewhere
):
    url = "/book?tz=UTC"
    assert "Test Clinic" in patient.get(url).text
    with elsewhere.app_context():
        db.session.execute(sa.update(ClinicSettings).values(name="Riverside Clinic"))
        db.session.commit()
    page, templates, _ = rendered(app, patient, url)
    assert templates >= 1
    assert "Riverside Clinic" in page.text and "Test Clinic" not in page.text


def test_a_page_with_a_flashed_message_is_rendered_and_shows_it(app, patient):
    url = "/book?tz=UTC"
    patient.get(url)  # kept
    with patient.session_transaction() as session:
        session["_flashes"] = [("message", "Your consult was cancelled.")]
    page, templates, _ = rendered(app, patient, url)
    assert templates >= 1 and "Your consult was cancelled." in page.text
    assert "Your consult was cancelled." not in patient.get(url).text  # shown once, as ever


def test_a_kept_answer_never_outlives_the_minute_it_was_worked_out_in(app, monkeypatch):
    late = datetime(2026, 12, 3, 10, 0, 59, 500_000, tzinfo=UTC)
    monkeypatch.setattr(versioned_answers, "utc_now", lambda: late)
    answers = app.extensions["clinic.web.versioned_answers"]
    with app.test_request_context("/book?tz=UTC"):
        versioned_answers.answered("proof", lambda now: ("page", now + timedelta(hours=1)))
        kept = answers.get("/book?tz=UTC", "proof", late)
        assert kept is not None and kept.valid_until == datetime(2026, 12, 3, 10, 1, tzinfo=UTC)
        assert answers.get("/book?tz=UTC", "proof", kept.valid_until) is None
        assert answers.get("/book?tz=UTC", "another proof", late) is None


def test_free_times_are_kept_no_longer_than_a_hold_lasts_or_the_notice_allows(app, patient, doctor):
    start = factories.next_grid_time(days_ahead=2, hour=9)
    assert hold(patient, start, tz="UTC").status_code == 303
    now = datetime.now(UTC)
    with app.app_context():
        lapses = db.session.scalar(sa.select(sa.func.min(Appointment.hold_expires_at)))
        window = Interval(now, now + timedelta(days=7))
        times, until = kept_open_times(active_practitioners(), None, window, now)
    assert start not in {t.start for t in times}
    assert now < until <= lapses
    assert until <= times[0].start - timedelta(minutes=60) + timedelta(microseconds=1)


def test_without_a_hold_the_notice_bounds_how_long_free_times_are_kept(app, doctor):
    now = datetime.now(UTC)
    window = Interval(now, now + timedelta(days=2))
    times, until = kept_open_times(active_practitioners(), None, window, now)
    assert times and until <= times[0].start - timedelta(minutes=60) + timedelta(microseconds=1)
    assert until > now


def test_a_kept_page_ends_when_a_hold_on_it_lapses_within_its_minute(
    app, patient, doctor, monkeypatch
):
    """A hold lapsing frees its time without any write: the page kept while it was held is
    not served past that moment, even within the same minute."""
    start = factories.next_grid_time(days_ahead=2, hour=9)
    assert hold(app.test_client(), start, tz="UTC").status_code == 303
    minute = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(minutes=2)
    db.session.execute(
        sa.update(Appointment).values(hold_expires_at=minute + timedelta(seconds=30))
    )
    db.session.commit()
    clock = [minute + timedelta(seconds=10)]
    monkeypatch.setattr(versioned_answers, "utc_now", lambda: clock[0])
    url = f"/book?tz=UTC&day={start.date()}"

    held, templates, _ = rendered(app, patient, url)
    assert templates >= 1 and start not in starts(held)
    clock[0] = minute + timedelta(seconds=20)
    assert rendered(app, patient, url)[1] == 0  # kept while the hold stands
    clock[0] = minute + timedelta(seconds=40)
    lapsed, templates, _ = rendered(app, patient, url)
    assert templates >= 1 and start in starts(lapsed)
