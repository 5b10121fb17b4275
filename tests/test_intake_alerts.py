"""Intake alerts: raised once per kind with their emails, due in office hours.

Every time is passed in explicitly. The clinic is in London with office hours Monday to Friday
9:00 to 17:00 and a two-hour escalation; an urgent alert raised on Friday at 16:30 is due on
Monday at 10:30. No alert email says anything about health: only which consult, and a link.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.extensions import db
from clinic.intake.alerts import office_days, raise_alert
from clinic.models import AlertKind, Appointment, IntakeAlert, OutboxMessage
from clinic.notify.compose import compose
from clinic.settings import clinic_settings
from clinic.staff.accounts import create_staff
from tests import factories

LONDON = ZoneInfo("Europe/London")
FRIDAY_1630 = datetime(2026, 12, 4, 16, 30, tzinfo=LONDON)
MONDAY_1030 = datetime(2026, 12, 7, 10, 30, tzinfo=LONDON)
MINUTE = timedelta(minutes=1)
CLINIC_EMAIL = "hello@clinic.test"
DOCTOR_EMAIL = "ada@clinic.test"
ADMINS = ("admin1@clinic.test", "admin2@clinic.test")
PASSWORD = "correct horse battery"
# What an alert email must never say: the kinds of alert, the screeners, scores and flags.
HEALTH_WORDS = (
    r"self.?harm",
    r"harm",
    r"suicid",
    r"see.?doctor",
    r"high.?score",
    r"score",
    r"item.?9",
    r"skipped",
    r"PHQ",
    r"GAD",
    r"flag",
    r"amber",
    r"\bred\b",
    r"chest",
)


@pytest.fixture
def consult(app) -> Appointment:
    """A consult with Dr Ada a week after the alerts are raised; two active admins, one
    disabled admin, a front desk and Dr Ada's own account."""
    factories.clinic(timezone="Europe/London", contact_email=CLINIC_EMAIL)
    ada = factories.practitioner(name="Dr Ada Lane", email=DOCTOR_EMAIL)
    for email in ADMINS:
        create_staff(email, "admin", PASSWORD, name=email.split("@")[0])
    create_staff("gone@clinic.test", "admin", PASSWORD).active = False
    create_staff("desk@clinic.test", "frontdesk", PASSWORD)
    create_staff(DOCTOR_EMAIL, "practitioner", PASSWORD)
    db.session.commit()
    return factories.appointment(ada, datetime(2026, 12, 11, 15, tzinfo=UTC))


def raise_(appointment: Appointment, kind: AlertKind, now: datetime = FRIDAY_1630):
    """``raise_alert`` as the intake save calls it: inside a transaction the caller commits."""
    alert = raise_alert(appointment, kind, now)
    db.session.commit()
    return alert


def emails(kind: str) -> list[OutboxMessage]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .where(OutboxMessage.kind == kind)
            .order_by(OutboxMessage.recipient)
        )
    )


def alert_row(alert_id: int) -> IntakeAlert:
    db.session.expire_all()
    return db.session.get(IntakeAlert, alert_id)


def assert_says_nothing_about_health(message: OutboxMessage, reference: str) -> None:
    composed = compose(message)
    assert composed.invite is None
    assert reference in composed.subject
    for body in (composed.text, unescape(composed.html)):
        assert reference in body
        assert f"/staff/consults/{reference}" in body
    for part in (composed.subject, composed.text, unescape(composed.html)):
        said = [w for w in HEALTH_WORDS if re.search(w, part, re.IGNORECASE)]
        assert said == [], f"the {message.kind} email to {message.recipient} says {said}"
    assert "kind" not in message.payload
    assert not any(k.value in str(message.payload) for k in AlertKind)


# --- raising ---------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [AlertKind.EMERGENCY, AlertKind.SELF_HARM])
def test_an_urgent_alert_is_due_after_two_office_hours_and_emails_at_once(consult, kind):
    alert = raise_(consult, kind)

    row = alert_row(alert.id)
    assert row.level == "red" and row.is_open
    assert row.raised_at == FRIDAY_1630
    assert row.due_at == MONDAY_1030
    assert db.session.get(Appointment, consult.id).urgent is True
    urgent = emails("urgent_intake")
    assert [m.recipient for m in urgent] == [DOCTOR_EMAIL, CLINIC_EMAIL]
    assert emails("intake_review") == []
    for message in urgent:
        assert_says_nothing_about_health(message, consult.reference)


@pytest.mark.parametrize(
    "kind", [AlertKind.SEE_DOCTOR, AlertKind.HIGH_SCORE, AlertKind.ITEM9_SKIPPED]
)
def test_an_amber_alert_asks_for_a_review_soon_and_never_escalates(consult, kind):
    alert = raise_(consult, kind)

    row = alert_row(alert.id)
    assert row.level == "amber" and row.due_at is None
    assert db.session.get(Appointment, consult.id).urgent is False
    review = emails("intake_review")
    assert [m.recipient for m in review] == [DOCTOR_EMAIL, CLINIC_EMAIL]
    assert {m.audience for m in review} == {"staff"}
    assert emails("urgent_intake") == []
    for message in review:
        assert_says_nothing_about_health(message, consult.reference)
        assert "needs review soon" in compose(message).text


def test_each_kind_is_raised_once(consult):
    assert raise_(consult, AlertKind.HIGH_SCORE) is not None
    assert raise_(consult, AlertKind.HIGH_SCORE, FRIDAY_1630 + MINUTE) is None
    assert raise_(consult, AlertKind.SELF_HARM) is not None
    assert raise_(consult, AlertKind.SELF_HARM, FRIDAY_1630 + MINUTE) is None
    assert len(emails("intake_review")) == 2
    assert len(emails("urgent_intake")) == 2
    kinds = db.session.scalars(sa.select(IntakeAlert.kind).order_by(IntakeAlert.id)).all()
    assert kinds == ["high_score", "self_harm"]


def test_the_deadline_follows_the_clinics_settings(consult):
    settings = clinic_settings()
    settings.alert_escalate_minutes = 30
    settings.office_days = "4,5"  # Friday and Saturday
    settings.office_opens, settings.office_closes = time(10), time(16, 45)
    db.session.commit()
    alert = raise_(consult, AlertKind.SELF_HARM)
    # 15 minutes on Friday, the other 15 from Saturday's opening.
    assert alert_row(alert.id).due_at == datetime(2026, 12, 5, 10, 15, tzinfo=LONDON)


@pytest.mark.parametrize("days", ["", " , ", "7,8", "Mon"])
def test_without_office_days_the_deadline_runs_on_the_clock(consult, days):
    clinic_settings().office_days = days
    db.session.commit()
    alert = raise_(consult, AlertKind.EMERGENCY)
    assert alert_row(alert.id).due_at == FRIDAY_1630 + timedelta(hours=2)


def test_office_days_are_read_from_the_setting():
    assert office_days("0,1,2,3,4") == frozenset(range(5))
    assert office_days(" 6 ,0,,9,x,-1, 3") == frozenset({0, 3, 6})
    assert office_days("") == frozenset()
