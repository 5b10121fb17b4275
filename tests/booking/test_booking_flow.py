"""The patient's booking flow through the HTML pages, with CSRF on."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import icalendar
import pytest
import sqlalchemy as sa
import wtforms
from wtforms import SelectChoice

from clinic.core.extensions import db
from clinic.core.formatting import zone_names
from clinic.core.models import Appointment, Patient
from clinic.web.fields import ANY, KeptSelect, PractitionerField, ZoneField, ZoneSelect
from tests.support import factories
from tests.support.apps import csrf_token
from tests.support.booking import DETAILS, fill_details, hold


@pytest.fixture
def setup(app):
    factories.clinic(timezone="America/New_York")
    return factories.practitioner(name="Dr Ada Lane")


def counts():
    return (
        db.session.scalar(sa.select(sa.func.count()).select_from(Appointment)),
        db.session.scalar(sa.select(sa.func.count()).select_from(Patient)),
    )


def test_slot_buttons_have_full_accessible_names(client, setup):
    start = factories.next_grid_time(days_ahead=2, hour=14)
    page = client.get(f"/book?tz=UTC&day={start.date().isoformat()}")
    assert page.status_code == 200
    label = f"{start:%A} {start.day} {start:%B}"
    button = re.search(
        rf'<button type="submit" name="start" value="{re.escape(start.isoformat())}">'
        r"(.*?)</button>",
        page.text,
    )
    assert button, "the 14:00 slot is offered"
    text = re.sub(r"<[^>]+>", "", button.group(1))
    assert text == f"{label}, 2:00 PM"
    assert "UTC" in page.text


def test_times_are_shown_in_the_chosen_zone(client, setup):
    start = factories.next_grid_time(days_ahead=2, hour=14)  # 14:00 UTC = 09:00 in New York
    page = client.get(f"/book?tz=America/New_York&day={start.date().isoformat()}")
    assert f'value="{start.isoformat()}"><span class="visually-hidden">' in page.text
    assert "9:00 AM</button>" in page.text
    assert "America/New_York (E" in page.text


def test_without_a_zone_the_clinic_zone_is_used(client, setup):
    page = client.get("/book")
    assert '<option selected value="America/New_York">' in page.text


@pytest.mark.parametrize("data", ["Europe/London", "Africa/Abidjan", "UTC", None, "", "Not/AZone"])
def test_the_zone_list_is_written_as_wtforms_writes_it(data):
    """The zone <select> reuses markup built once: byte for byte WTForms' own ``Select``."""

    class Form(wtforms.Form):
        tz = ZoneField(validators=[wtforms.validators.DataRequired()])

    field = Form(data={"tz": data}).tz
    assert isinstance(field.widget, ZoneSelect)
    for attrs in ({}, {"aria-describedby": "tz-hint", "aria-invalid": "true"}):
        assert field(**attrs) == wtforms.widgets.Select()(field, **attrs)
    assert field().count(" selected ") == (data in zone_names())


@pytest.mark.parametrize("data", ["any", "2", "9", None, ""])
def test_the_practitioner_list_is_written_as_wtforms_writes_it(data):
    """The practitioner <select> reuses markup built once per list: byte for byte WTForms'."""

    class Form(wtforms.Form):
        practitioner = PractitionerField()

    for names in (["Dr Ada Lane", "Dr Ben <Ode> & Co"], ["Dr Ada Lane"]):
        field = Form(data={"practitioner": data}).practitioner
        field.choices = [ANY] + [SelectChoice(str(i), n) for i, n in enumerate(names, 1)]
        assert isinstance(field.widget, KeptSelect)
        for attrs in ({}, {"aria-describedby": "practitioner-error", "aria-invalid": "true"}):
            assert field(**attrs) == wtforms.widgets.Select()(field, **attrs)
        assert field().count(" selected ") == (data in ("any", "1", "2")[: len(names) + 1])
    field = Form(data={"practitioner": data}).practitioner
    field.choices = [("any", "First available"), ("2", "Dr <Ben>")]  # pairs, as WTForms allows
    assert field() == wtforms.widgets.Select()(field)


def test_book_a_consult_end_to_end(client, setup):
    start = factories.next_grid_time(days_ahead=3, hour=15)
    held = hold(client, start)
    assert held.status_code == 303
    details_url = held.headers["Location"]
    page = client.get(details_url)
    assert page.status_code == 200
    assert "We are holding this time for you" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer"

    done = fill_details(client, details_url)
    assert done.status_code == 303
    confirmation = client.get(done.headers["Location"])
    assert confirmation.status_code == 200
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.status == "confirmed"
    assert appointment.starts_at == start
    assert appointment.patient.email == "jo@example.com"
    assert appointment.patient_timezone == "Europe/London"
    assert appointment.reference in confirmation.text
    assert "Europe/London" in confirmation.text and "America/New_York" in confirmation.text
    assert f"https://video.clinic.test/{appointment.reference}" in confirmation.text

    ics = client.get(done.headers["Location"].replace("/done", "/consult.ics"))
    assert ics.mimetype == "text/calendar"
    calendar = icalendar.Calendar.from_ical(ics.data)
    [event] = calendar.walk("VEVENT")
    assert str(event["UID"]) == appointment.calendar_uid
    assert event.decoded("DTSTART") == start
    assert event.decoded("DTEND") == start + timedelta(minutes=20)


def test_submitting_twice_books_once(client, setup):
    held = hold(client, factories.next_grid_time(days_ahead=3, hour=16))
    first = fill_details(client, held.headers["Location"])
    again = client.post(held.headers["Location"], data={**DETAILS})
    assert first.status_code == 303
    assert again.status_code in (303, 400)
    assert counts() == (1, 1)


def test_a_taken_time_offers_the_nearest_free_times(client, setup):
    start = factories.next_grid_time(days_ahead=2, hour=11)
    factories.appointment(setup, start)
    response = hold(client, start)
    assert response.status_code == 409
    assert "That time was just taken" in response.text
    for nearby in (start - timedelta(minutes=30), start + timedelta(minutes=30)):
        assert f'value="{nearby.isoformat()}"' in response.text
    assert counts() == (1, 1)


@pytest.mark.parametrize(
    "start, message",
    [
        (lambda: factories.next_grid_time(days_ahead=-1), "already passed"),
        (  # earlier today (or late yesterday, just after midnight UTC), off the grid
            lambda: datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=53),
            "already passed",
        ),
        (lambda: factories.next_grid_time(days_ahead=400), "too far ahead"),
        (
            lambda: factories.next_grid_time(days_ahead=2) + timedelta(minutes=10),
            "not one of the times",
        ),
    ],
)
def test_times_not_offered_are_refused_with_a_message(client, setup, start, message):
    response = hold(client, start())
    assert response.status_code == 422
    assert message in response.text
    assert counts() == (0, 0)


def test_outside_working_hours_is_refused(client, app):
    factories.clinic()
    from datetime import time

    factories.practitioner(hours=[(d, time(9), time(12)) for d in range(7)])
    response = hold(client, factories.next_grid_time(days_ahead=2, hour=15))
    assert response.status_code == 422
    assert "not one of the times" in response.text
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "field, value",
    [
        ("start", "tomorrow at ten"),
        ("start", "2030-01-01T10:00:00"),
        ("tz", "Mars/Olympus_Mons"),
        ("practitioner", "999"),
    ],
)
def test_malformed_holds_are_refused(client, setup, field, value):
    page = client.get("/book")
    data = {
        "csrf_token": csrf_token(page.text),
        "practitioner": "any",
        "tz": "UTC",
        "start": factories.next_grid_time(days_ahead=2).isoformat(),
        field: value,
    }
    response = client.post("/book/hold", data=data)
    assert response.status_code == 422
    assert 'role="alert"' in response.text
    assert counts() == (0, 0)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"name": ""}, "Please tell us your name."),
        ({"name": "A" * 101}, "Field cannot be longer than 100 characters."),
        ({"name": "Jo\r\nBcc: victim@example.com"}, "ordinary punctuation only"),
        ({"name": "Jo\x00"}, "ordinary punctuation only"),
        ({"email": "not-an-email"}, "doesn&#39;t look complete"),
        ({"email": ""}, "Please give an email address"),
        ({"phone": "call me maybe"}, "Please use digits"),
        ({"consent_privacy": None}, "Please agree to the privacy notice"),
        ({"consent_not_emergency": None}, "not an emergency service"),
    ],
)
def test_bad_details_get_a_message_beside_the_field(client, setup, changes, message):
    held = hold(client, factories.next_grid_time(days_ahead=2, hour=9))
    response = fill_details(client, held.headers["Location"], **changes)
    assert response.status_code == 422
    assert message in response.text
    assert 'aria-invalid="true"' in response.text
    appointment = db.session.scalar(sa.select(Appointment))
    assert appointment.status == "held" and appointment.patient_id is None
    assert counts() == (1, 0)


def test_hints_and_errors_are_read_out_with_their_control(client, setup):
    """A screen reader hears a field's hint, and then its error, with the control itself."""
    held = hold(client, factories.next_grid_time(days_ahead=2, hour=9))
    page = client.get(held.headers["Location"]).text
    assert re.search(r'aria-describedby="email-hint"[^>]*id="email"', page)
    response = fill_details(client, held.headers["Location"], email="")
    assert re.search(r'aria-describedby="email-hint email-error"[^>]*id="email"', response.text)
    assert 'id="email-error"' in response.text and 'id="email-hint"' in response.text


def test_the_honeypot_stops_bots_and_writes_nothing(client, setup):
    held = hold(client, factories.next_grid_time(days_ahead=2, hour=9))
    response = fill_details(client, held.headers["Location"], website="http://spam.example")
    assert response.status_code == 422
    assert db.session.scalar(sa.select(Appointment)).status == "held"
    assert counts() == (1, 0)


def test_a_tampered_hold_link_is_refused(client, setup):
    held = hold(client, factories.next_grid_time(days_ahead=2, hour=9))
    tampered = held.headers["Location"][:-3] + "xyz"
    assert client.get(tampered).status_code == 404
    token = csrf_token(client.get(held.headers["Location"]).text)
    response = client.post(tampered, data={**DETAILS, "csrf_token": token})
    assert response.status_code == 404
    assert "isn&#39;t valid" in response.text
    assert counts() == (1, 0)


def test_a_form_without_its_csrf_token_is_refused(client, setup):
    response = client.post(
        "/book/hold",
        data={"practitioner": "any", "tz": "UTC", "start": factories.next_grid_time().isoformat()},
    )
    assert response.status_code == 400
    assert "reload the page" in response.text
    assert counts() == (0, 0)


def test_a_lapsed_hold_is_still_honoured_when_nobody_took_the_time(client, setup):
    held = hold(client, factories.next_grid_time(days_ahead=2, hour=9))
    appointment = db.session.scalar(sa.select(Appointment))
    appointment.hold_expires_at = appointment.created_at - timedelta(minutes=1)
    db.session.commit()
    response = fill_details(client, held.headers["Location"])
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(Appointment)).status == "confirmed"


def test_a_lapsed_hold_taken_by_someone_else_offers_other_times(client, setup):
    start = factories.next_grid_time(days_ahead=2, hour=9)
    held = hold(client, start)
    db.session.execute(
        sa.update(Appointment).values(hold_expires_at=factories.next_grid_time(days_ahead=-1))
    )
    db.session.commit()
    other = client.application.test_client()
    taken = hold(other, start)
    assert taken.status_code == 303
    response = fill_details(client, held.headers["Location"])
    assert response.status_code == 409
    assert "That time was just taken" in response.text
    statuses = sorted(db.session.scalars(sa.select(Appointment.status)))
    assert statuses == ["expired", "held"]


def test_a_held_time_is_not_offered_to_others(client, setup):
    start = factories.next_grid_time(days_ahead=2, hour=9)
    hold(client, start)
    page = client.application.test_client().get(f"/book?tz=UTC&day={start.date().isoformat()}")
    assert f'value="{start.isoformat()}"' not in page.text
    assert f'value="{(start + timedelta(minutes=30)).isoformat()}"' in page.text


def test_bad_query_values_get_messages_and_a_usable_page(client, setup):
    page = client.get("/book?tz=Not/AZone&day=31-31-2020&practitioner=abc")
    assert page.status_code == 200
    assert "recognise that time zone" in page.text
    assert "Please choose a practitioner from the list" in page.text
    assert "Use a date like" in page.text
    assert '<button type="submit" name="start"' in page.text


def test_landing_page_explains_the_consult_and_is_not_for_emergencies(client, setup):
    page = client.get("/")
    assert "Book your free 20-minute consult" in page.text
    assert "Not for emergencies" in page.text
    assert "not medical advice" in page.text


def test_unknown_pages_are_friendly_404s(client, setup):
    assert client.get("/book/abc/done").status_code == 404
    assert client.get("/nothing-here").status_code == 404


def test_site_without_setup_says_so(client):
    page = client.get("/book")
    assert page.status_code == 503
    assert "not been set up" in page.text


_ = UTC
