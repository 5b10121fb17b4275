"""Retention: `flask data purge --older-than DAYS [--audit-older-than DAYS] [--yes]`."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import (
    Appointment,
    AuditEvent,
    ConsultNote,
    IntakeResponse,
    OutboxMessage,
    Patient,
)
from clinic.intake.questionnaire import VERSION
from tests.support import factories
from tests.support.privacy import database_rows, database_text
from tests.support.staff import audit_count

AL = ("Al Old", "al@example.com", "+1 555 0111")  # only consults long past: erased
BEA = ("Bea Recent", "bea@example.com", "+1 555 0122")  # one long past, one recent: kept


@dataclass
class Clinic:
    al_old: int
    bea_old: int
    bea_recent: int
    waiting: int  # a message to the practitioner about Al's consult, not yet sent


def patient(details: tuple[str, str, str], now: datetime) -> Patient:
    name, email, phone = details
    return Patient(name=name, email=email, phone=phone, created_at=now - timedelta(days=200))


def consult_with_data(practitioner, who: Patient, days_ago: int, words: str, **extra):
    """A consult that ended ``days_ago`` days ago, with an intake, a note and a sent email."""
    now = datetime.now(UTC)
    row = factories.appointment(
        practitioner, factories.next_grid_time(days_ahead=-days_ago), patient=who, **extra
    )
    answers = {"goals_concerns": words}
    db.session.add_all(
        [
            IntakeResponse(appointment_id=row.id, version=VERSION, answers=answers),
            ConsultNote(appointment_id=row.id, at=now, body=f"Note: {words}"),
            message(row, "booked", "patient", who.email, status="sent"),
        ]
    )
    db.session.commit()
    return row


def message(row: Appointment, kind: str, audience: str, to: str, status: str, **payload):
    return OutboxMessage(
        appointment_id=row.id,
        kind=kind,
        audience=audience,
        recipient=to,
        payload=payload,
        message_id=f"<{secrets.token_hex(6)}@clinic.test>",
        status=status,
        next_attempt_at=datetime.now(UTC),
    )


@pytest.fixture
def clinic(app) -> Clinic:
    now = datetime.now(UTC)
    factories.clinic()
    ada = factories.practitioner(name="Dr Ada Lane", email="ada@clinic.test")
    al, bea = patient(AL, now), patient(BEA, now)
    al_old = consult_with_data(
        ada, al, 100, "Al's old concern", status="cancelled", cancel_reason="Al's reason"
    )
    al_old.urgent = True
    reason = {"reason": "Al's reason"}
    waiting = message(al_old, "cancelled", "practitioner", ada.email, "pending", **reason)
    db.session.add_all(
        [
            waiting,
            message(al_old, "cancelled", "patient", al.email, "pending", **reason),
            AuditEvent(at=now - timedelta(days=400), action="sign_in", subject="older"),
            AuditEvent(at=now - timedelta(days=100), action="sign_in", subject="newer"),
        ]
    )
    db.session.commit()
    bea_old = consult_with_data(ada, bea, 95, "Bea's old concern", status="completed")
    bea_recent = consult_with_data(ada, bea, 80, "Bea's recent concern", status="completed")
    return Clinic(al_old.id, bea_old.id, bea_recent.id, waiting.id)


def rows(model, consult_id: int) -> int:
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(model).where(model.appointment_id == consult_id)
    )


def test_purge_removes_only_what_is_old_enough(runner, clinic):
    result = runner.invoke(args=["data", "purge", "--older-than", "90", "--yes"])

    assert result.exit_code == 0, result.output
    assert "Removed 2 intakes, 2 staff notes, 3 emails" in result.output
    assert "1 patient erased (1 consult anonymised and kept)" in result.output
    text = database_text()
    for trace in (*AL, "Al's old concern", "Al's reason", "Bea's old concern"):
        assert trace.lower() not in text, trace
    for trace in (*BEA, "Bea's recent concern"):
        assert trace.lower() in text, trace

    al_old, bea_old = (
        db.session.get(Appointment, clinic.al_old),
        db.session.get(Appointment, clinic.bea_old),
    )
    assert al_old.patient_id is None and (al_old.cancel_reason, al_old.urgent) == ("", False)
    assert al_old.status == "cancelled"  # the schedule's history stays
    assert bea_old.patient is not None and bea_old.patient.name == "Bea Recent"
    for model in (IntakeResponse, ConsultNote, OutboxMessage):
        assert rows(model, clinic.bea_old) == 0
        assert rows(model, clinic.bea_recent) == 1
    waiting = db.session.get(OutboxMessage, clinic.waiting)
    assert waiting.status == "pending" and waiting.payload["reason"] == ""  # still goes out
    assert rows(OutboxMessage, clinic.al_old) == 1  # the one to Al went with Al

    assert audit_count("sign_in") == 2  # the audit log is kept unless asked
    [event] = db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == "data_purged"))
    assert event.staff_user_id is None and event.subject == "older than 90 days"
    assert "2 intakes" in event.detail and "@" not in event.detail


def test_purge_deletes_old_audit_events_only_when_asked(runner, clinic):
    args = ["data", "purge", "--older-than", "90", "--audit-older-than", "365", "--yes"]
    result = runner.invoke(args=args)
    assert result.exit_code == 0, result.output
    db.session.rollback()
    subjects = sa.select(AuditEvent.subject).where(AuditEvent.action == "sign_in")
    assert list(db.session.scalars(subjects)) == ["newer"]
    assert audit_count("data_purged") == 1  # written after the deletion: never purged itself


def test_purge_with_nothing_old_enough_changes_nothing(runner, clinic):
    before = database_rows()
    result = runner.invoke(args=["data", "purge", "--older-than", "365", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Nothing to remove" in result.output
    assert database_rows() == before


@pytest.mark.parametrize(
    "args, code, message",
    [
        (["--older-than", "29", "--yes"], 1, "at least 30 days"),
        (["--older-than", "0", "--yes"], 1, "at least 30 days"),
        (["--older-than", "90", "--audit-older-than", "364", "--yes"], 1, "at least 365 days"),
        (["--older-than", "ninety", "--yes"], 2, "is not a valid integer"),
        (["--yes"], 2, "Missing option '--older-than'"),
        (["--older-than", "90"], 1, "Aborted"),  # no --yes and nobody to confirm
    ],
)
def test_purge_refuses_bad_input_and_changes_nothing(runner, clinic, args, code, message):
    before = database_rows()
    result = runner.invoke(args=["data", "purge", *args])
    assert result.exit_code == code
    assert message in result.output
    assert database_rows() == before
