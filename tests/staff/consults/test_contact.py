"""Everyone who can see a consult sees how to reach the patient: phone, email, and from the
intake only their contact preference (by email or phone, whether a message may be left). The
front desk, who take the calls, never see any other answer, and this reading is not audited
as a view of the intake.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import Appointment
from tests.support.staff import audit_count, seed_staff_clinic, sign_in

GOALS = "Sleeping badly since spring"  # an answer in the seeded intake


@pytest.fixture
def ref(app):
    return seed_staff_clinic()


def answer(ref: str, **answers) -> None:
    db.session.rollback()
    appointment = db.session.scalar(sa.select(Appointment).where(Appointment.reference == ref))
    appointment.patient.phone = "+44 20 7946 0000"
    appointment.intake.answers = {**appointment.intake.answers, **answers}
    db.session.commit()


def details(html: str) -> dict[str, str]:
    """The consult's summary list as {term: text}."""
    summary = re.search(r'<dl class="summary">(.*?)</dl>', html, re.S).group(1)
    pairs = re.findall(r"<dt>(.*?)</dt><dd>(.*?)</dd>", summary, re.S)
    return {dt: unescape(re.sub(r"<[^>]+>", "", dd)).strip() for dt, dd in pairs}


@pytest.mark.parametrize("who", ["desk", "own", "other", "admin"])
def test_every_role_sees_phone_email_and_contact_preference(client, ref, who):
    answer(ref, contact_method="phone", contact_leave_message="no")
    sign_in(client, who)
    html = client.get(f"/staff/consults/{ref}").text
    shown = details(html)
    assert shown["Patient"] == "Jo Patient"
    assert shown["Email"] == "jo@example.com"
    assert shown["Phone"] == "+44 20 7946 0000"
    assert shown["Prefers to be contacted by"] == "Phone"
    assert shown["A message may be left"] == "No"
    assert 'href="tel:+442079460000"' in html
    assert 'href="mailto:jo@example.com"' in html


@pytest.mark.parametrize("who", ["desk", "other"])
def test_those_who_may_not_read_the_intake_see_no_other_answer(client, ref, who):
    answer(ref, contact_method="email", contact_leave_message="yes")
    sign_in(client, who)
    html = client.get(f"/staff/consults/{ref}").text
    shown = details(html)
    assert (shown["Prefers to be contacted by"], shown["A message may be left"]) == ("Email", "Yes")
    assert GOALS not in unescape(html)
    assert audit_count("view_intake") == 0


def test_a_practitioner_reading_their_own_intake_is_still_audited(client, ref):
    answer(ref, contact_method="email")
    sign_in(client, "own")
    html = client.get(f"/staff/consults/{ref}").text
    assert GOALS in unescape(html)
    assert audit_count("view_intake") == 1


@pytest.mark.parametrize(
    "answers",
    [
        {},  # not answered (yet)
        {"contact_method": "pigeon", "contact_leave_message": "maybe"},  # an older version
        {"contact_method": ["phone"], "contact_leave_message": 1},  # not a single choice
    ],
)
def test_a_preference_not_given_says_so(client, ref, answers):
    answer(ref, **answers)
    sign_in(client, "desk")
    shown = details(client.get(f"/staff/consults/{ref}").text)
    assert shown["Prefers to be contacted by"] == "Not said"
    assert shown["A message may be left"] == "Not said"


def test_without_an_intake_or_a_phone_number_the_page_says_so(client, app):
    ref = seed_staff_clinic()
    appointment = db.session.scalar(sa.select(Appointment).where(Appointment.reference == ref))
    db.session.delete(appointment.intake)
    db.session.commit()
    sign_in(client, "desk")
    shown = details(client.get(f"/staff/consults/{ref}").text)
    assert shown["Phone"] == "Not given"
    assert shown["Prefers to be contacted by"] == "Not said"
