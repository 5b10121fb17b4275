"""Intake alerts: raised once per kind with their emails, due in office hours, escalated once.

Every time is passed in explicitly. The clinic is in London with office hours Monday to Friday
9:00 to 17:00 and a two-hour escalation; an urgent alert raised on Friday at 16:30 is due on
Monday at 10:30. No alert email says anything about health: only which consult, and a link.
"""

from __future__ import annotations

import re
import signal
import subprocess
import threading
import time as time_module
from datetime import UTC, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.accounts.services import create_staff
from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.core.models import AlertKind, Appointment, IntakeAlert, OutboxMessage, StaffUser
from clinic.intake import alerts
from clinic.intake.alerts import escalate_due, office_days, raise_alert
from clinic.notify.compose import compose
from tests.support import factories
from tests.support.mail import FLASK, worker_env
from tests.support.servers import PROJECT

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
    assert escalate_due(FRIDAY_1630 + timedelta(days=30)) == 0


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


# --- escalating ------------------------------------------------------------------------------


def test_an_open_urgent_alert_escalates_once_to_each_active_admin_when_due(consult):
    alert = raise_(consult, AlertKind.SELF_HARM)

    assert escalate_due(MONDAY_1030 - MINUTE) == 0
    assert alert_row(alert.id).escalated_at is None
    assert emails("alert_escalated") == []

    assert escalate_due(MONDAY_1030) == 1
    assert alert_row(alert.id).escalated_at == MONDAY_1030
    escalated = emails("alert_escalated")
    assert [m.recipient for m in escalated] == list(ADMINS)
    for message in escalated:
        assert message.appointment_id == consult.id
        assert_says_nothing_about_health(message, consult.reference)
        text = compose(message).text
        assert "Alert raised: Friday 4 December 2026, 4:30 PM Europe/London (GMT)" in text

    assert escalate_due(MONDAY_1030 + timedelta(minutes=10)) == 0  # the next round
    assert len(emails("alert_escalated")) == 2


def test_an_acknowledged_alert_does_not_escalate(consult):
    alert = raise_(consult, AlertKind.EMERGENCY)
    row = alert_row(alert.id)
    row.acknowledged_at = FRIDAY_1630 + timedelta(minutes=5)
    db.session.commit()

    assert escalate_due(MONDAY_1030 + timedelta(days=1)) == 0
    assert alert_row(alert.id).escalated_at is None
    assert emails("alert_escalated") == []


def test_two_urgent_alerts_on_one_consult_send_one_email_per_admin(consult):
    raise_(consult, AlertKind.SELF_HARM)
    raise_(consult, AlertKind.EMERGENCY, FRIDAY_1630 + timedelta(minutes=10))

    assert escalate_due(MONDAY_1030 + timedelta(minutes=10)) == 2
    escalated = emails("alert_escalated")
    assert [m.recipient for m in escalated] == list(ADMINS)
    assert "4:30 PM" in compose(escalated[0]).text  # the first alert's time


def test_with_no_active_admin_the_clinics_address_is_told(consult):
    db.session.execute(sa.update(StaffUser).where(StaffUser.role == "admin").values(active=False))
    db.session.commit()
    raise_(consult, AlertKind.SELF_HARM)

    assert escalate_due(MONDAY_1030) == 1
    assert [m.recipient for m in emails("alert_escalated")] == [CLINIC_EMAIL]


def test_with_no_admin_and_no_clinic_address_the_practitioner_is_told(consult):
    db.session.execute(sa.update(StaffUser).where(StaffUser.role == "admin").values(active=False))
    clinic_settings().contact_email = ""
    db.session.commit()
    raise_(consult, AlertKind.SELF_HARM)

    assert escalate_due(MONDAY_1030) == 1
    assert [m.recipient for m in emails("alert_escalated")] == [DOCTOR_EMAIL]


def test_two_workers_at_once_escalate_each_alert_once(consult, app, monkeypatch):
    """Both rounds start together; each holds its transaction open a while after choosing its
    alerts. Without row locks (PostgreSQL) or the write lock (SQLite) both would escalate."""
    others = [
        factories.appointment(consult.practitioner, consult.starts_at + timedelta(hours=h))
        for h in range(1, 6)
    ]
    for appointment in [consult, *others]:
        raise_(appointment, AlertKind.SELF_HARM)
    db.session.remove()
    real = alerts.notify_alert_escalated

    def slow(*args, **kwargs):
        threading.Event().wait(0.05)
        real(*args, **kwargs)

    monkeypatch.setattr(alerts, "notify_alert_escalated", slow)
    barrier = threading.Barrier(2, timeout=30)
    counts: list[int] = []
    failures: list[BaseException] = []

    def worker() -> None:
        with app.app_context():
            try:
                barrier.wait()
                counts.append(escalate_due(MONDAY_1030))
            except BaseException as error:  # noqa: BLE001 - reported below
                failures.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert failures == []
    assert sorted(counts) == [0, 6]
    assert len(emails("alert_escalated")) == 6 * len(ADMINS)


def test_flask_outbox_send_escalates_what_is_due_and_sends_it(consult, runner):
    raise_(consult, AlertKind.SELF_HARM, datetime(2025, 1, 3, 16, 30, tzinfo=UTC))  # long due
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert "Alerts: 1 escalated to the admins." in result.output
    escalated = emails("alert_escalated")
    assert [m.recipient for m in escalated] == list(ADMINS)
    assert {m.status for m in escalated} == {"logged"}  # no mail server here: to the log
    again = runner.invoke(args=["outbox", "send"])
    assert "Alerts: 0 escalated to the admins." in again.output


@pytest.mark.slow
def test_each_round_of_flask_worker_escalates_what_is_due(consult, database_url, sink):
    raise_(consult, AlertKind.EMERGENCY, datetime(2025, 1, 3, 16, 30, tzinfo=UTC))  # long due
    db.session.remove()
    worker = subprocess.Popen(
        [*FLASK, "worker", "--interval", "0.2"],
        cwd=PROJECT,
        env=worker_env(database_url, sink),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time_module.monotonic() + 30
        while len(sink.received) < 4 and time_module.monotonic() < deadline:
            time_module.sleep(0.1)
    finally:
        worker.send_signal(signal.SIGTERM)
        output, _ = worker.communicate(timeout=30)
    text = output.decode(errors="replace")
    assert worker.returncode == 0, text
    assert "Alerts: 1 escalated to the admins." in text
    escalated = [r for r in sink.received if "Nobody has taken on" in str(r.message["Subject"])]
    assert sorted(str(r.message["To"]) for r in escalated) == sorted(
        f"{email.split('@')[0]} <{email}>" for email in ADMINS
    )


@pytest.mark.parametrize("backend", ["sqlite"])  # SQLite's one write lock; PostgreSQL locks rows
def test_a_round_with_nothing_due_never_waits_for_the_write_lock(app, database_url, backend):
    """The worker escalates every round; a round with nothing due only reads, so it is not held
    up by a booking holding SQLite's write lock (nor takes the lock from one)."""
    import sqlite3

    holder = sqlite3.connect(database_url.removeprefix("sqlite:///"), isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # a booking mid-write
    release = threading.Timer(5, holder.rollback)  # a round that waited is held up 5 s
    release.start()
    try:
        started = time_module.monotonic()
        assert escalate_due(datetime.now(UTC)) == 0
        took = time_module.monotonic() - started
    finally:
        release.cancel()
        holder.rollback()
        holder.close()
    assert took < 2, took
