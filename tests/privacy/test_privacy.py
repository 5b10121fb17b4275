"""The privacy commands: `flask patient export`, `flask patient erase`, `flask data purge`."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from clinic.calendar.feed import feed_bytes, read_feed
from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.core.models import (
    Appointment,
    AuditEvent,
    ConsultNote,
    IntakeAlert,
    IntakeFlagRaised,
    IntakeResponse,
    IntakeRevision,
    OutboxMessage,
    Patient,
    Practitioner,
)
from clinic.intake.questionnaire import VERSION, question
from clinic.privacy.erasure import CANCEL_REASON
from tests.support.privacy import (
    JO_CANCEL_REASON,
    JO_CONCERN,
    JO_EMAIL,
    JO_NAME,
    JO_NOTE,
    JO_PHONE,
    SAM_CONCERN,
    SAM_EMAIL,
    SAM_NAME,
    SAM_NOTE,
    SAM_PHONE,
    database_rows,
    database_text,
    seed_two_patients,
)
from tests.support.staff import audit_count, sign_in


@pytest.fixture
def seeded(app):
    return seed_two_patients()


def consult(reference: str) -> Appointment:
    db.session.rollback()
    return db.session.scalar(sa.select(Appointment).where(Appointment.reference == reference))


def audit_events(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


# --- flask patient export -------------------------------------------------------------------


def test_export_holds_every_kind_of_data_about_the_patient(runner, seeded, tmp_path):
    path = tmp_path / "jo.json"
    result = runner.invoke(args=["patient", "export", "JO@example.COM", "--output", str(path)])
    assert result.exit_code == 0, result.output
    assert "3 consults" in result.output
    assert JO_NAME not in result.output  # the data goes to the file only
    data = json.loads(path.read_text(encoding="utf-8"))
    assert path.stat().st_mode & 0o077 == 0  # readable by its owner only

    assert data["details"] == [
        {
            "name": JO_NAME,
            "email": JO_EMAIL,
            "phone": JO_PHONE,
            "marketing_opt_in": False,
            "first_booked_at": data["details"][0]["first_booked_at"],
        }
    ]
    consults = {c["reference"]: c for c in data["consults"]}
    assert set(consults) == {seeded.booked, seeded.cancelled, seeded.past}
    booked, cancelled, past = (consults[r] for r in (seeded.booked, seeded.cancelled, seeded.past))
    assert (booked["status"], booked["practitioner"], booked["your_time_zone"]) == (
        "confirmed",
        "Dr Ada Lane",
        "Europe/London",
    )
    assert booked["source"] == "api" and booked["marked_urgent"] is True
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", JO_CANCEL_REASON)
    assert past["status"] == "completed"
    for moment in (booked["starts_at"], booked["booked_at"], cancelled["cancelled_at"]):
        parsed = datetime.fromisoformat(moment)
        assert parsed.utcoffset() is not None  # ISO 8601 with the offset (the clinic's)
    assert datetime.fromisoformat(booked["starts_at"]) == consult(seeded.booked).starts_at

    intake = booked["intake"]
    assert intake["questionnaire_version"] == VERSION
    lines = {line["question_id"]: line for line in intake["answers"]}
    assert lines["phq9_1"]["question"] == question("phq9_1").text
    assert lines["phq9_1"]["answer"] == "More than half the days"
    assert lines["goals_concerns"]["answer"] == JO_CONCERN
    # Every save is exported as it was made, with the flags it raised and why.
    saved = [(r["number"], r["part"]) for r in intake["revisions"]]
    assert saved == [(n, part) for n, part in enumerate(("about", "mood", "goals"), start=1)]
    goals_saved = {line["question_id"]: line for line in intake["revisions"][2]["answers"]}
    assert goals_saved["goals_concerns"]["answer"] == JO_CONCERN
    [red] = [f for f in intake["flags_raised"] if f["level"] == "red"]
    assert "item 9" in red["message"] and red["raised_by"]
    assert [a["kind"] for a in booked["intake_alerts"]] == ["self_harm"]
    assert cancelled["intake"] is None and cancelled["intake_alerts"] == []
    assert [note["text"] for note in booked["staff_notes"]] == [JO_NOTE]

    kinds = {m["kind"] for c in data["consults"] for m in c["emails"]}
    assert {"booked", "reminder", "cancelled"} <= kinds
    for message in (m for c in data["consults"] for m in c["emails"]):
        assert message["to"] == JO_EMAIL
        assert set(message) == {"kind", "to", "written_at", "sent_at", "status"}  # no bodies

    text = path.read_text(encoding="utf-8").lower()
    for other in (SAM_NAME, SAM_EMAIL, SAM_PHONE, SAM_CONCERN, SAM_NOTE, seeded.sam):
        assert other.lower() not in text
    assert "dr ada lane" in text  # the practitioner is named, other staff are not
    assert "admin@clinic.test" not in text and "ada@clinic.test" not in text

    [event] = audit_events("patient_exported")
    jo = db.session.scalar(sa.select(Patient).where(Patient.email == JO_EMAIL))
    assert (event.subject, event.staff_user_id, event.detail) == (f"patient {jo.id}", None, "")


def test_export_prints_the_json_without_a_file(runner, seeded):
    result = runner.invoke(args=["patient", "export", SAM_EMAIL])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [c["reference"] for c in data["consults"]] == [seeded.sam]
    assert audit_count("patient_exported") == 1


def test_export_of_an_unknown_email_writes_nothing(runner, seeded, tmp_path):
    path = tmp_path / "nobody.json"
    before = database_rows()
    result = runner.invoke(args=["patient", "export", "nobody@example.com", "-o", str(path)])
    assert result.exit_code == 1
    assert "No patient has that email address" in result.output
    assert not path.exists()
    assert database_rows() == before  # not even an audit row


def test_export_to_an_unwritable_place_is_not_audited(runner, seeded, tmp_path):
    path = tmp_path / "missing-folder" / "jo.json"
    result = runner.invoke(args=["patient", "export", JO_EMAIL, "--output", str(path)])
    assert result.exit_code == 1
    assert "Could not write" in result.output
    assert audit_count("patient_exported") == 0


# --- flask patient erase --------------------------------------------------------------------


def test_erase_leaves_no_trace_of_the_patient_and_keeps_the_schedule(runner, client, seeded):
    settings = clinic_settings()
    ada = db.session.scalar(sa.select(Practitioner).where(Practitioner.name == "Dr Ada Lane"))
    assert b"J. P." in feed_bytes(
        read_feed(ada, settings, datetime.now(UTC))
    )  # shown before erasing
    before = database_text()
    for trace in (JO_NAME, JO_EMAIL, JO_PHONE, JO_CONCERN, JO_NOTE, JO_CANCEL_REASON):
        assert trace.lower() in before, trace  # the search below can find each of them
    jo_messages = _message_ids(seeded.booked, seeded.cancelled)
    assert db.session.scalars(sa.select(IntakeFlagRaised)).all()  # Jo's, to be erased
    assert db.session.scalars(sa.select(IntakeAlert)).all()

    result = runner.invoke(args=["patient", "erase", "Jo@Example.com", "--yes"])

    assert result.exit_code == 0, result.output
    assert f"Cancelled {seeded.booked} with Dr Ada Lane" in result.output
    assert "the practitioner has been emailed" in result.output
    after = database_text()
    for trace in (JO_NAME, JO_EMAIL, JO_PHONE, JO_CONCERN, JO_NOTE, JO_CANCEL_REASON):
        assert trace.lower() not in after, trace
    assert "europe/london" not in after  # the patient's zone went too
    assert "[erased]" in after  # the failed sign-in under their email stays, without it
    for trace in (SAM_NAME, SAM_EMAIL, SAM_PHONE, SAM_CONCERN, SAM_NOTE):
        assert trace.lower() in after, trace  # another patient is untouched

    booked, cancelled, past = (consult(r) for r in (seeded.booked, seeded.cancelled, seeded.past))
    for row in (booked, cancelled, past):
        assert row is not None and row.patient_id is None and not row.urgent
    assert (booked.status, booked.cancel_reason) == ("cancelled", CANCEL_REASON)
    assert (cancelled.status, cancelled.cancel_reason) == ("cancelled", "")
    assert past.status == "completed"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(IntakeResponse)) == 1  # Sam's
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsultNote)) == 1  # Sam's
    # The intake's revisions and kept flags went with it; the alerts (their kind says why) too.
    kept = {
        model: {row.response.appointment.reference for row in db.session.scalars(sa.select(model))}
        for model in (IntakeRevision, IntakeFlagRaised)
    }
    assert kept == {IntakeRevision: {seeded.sam}, IntakeFlagRaised: set()}  # Sam's raised none
    assert (
        db.session.scalars(
            sa.select(IntakeAlert).where(IntakeAlert.appointment_id.in_([booked.id, past.id]))
        ).all()
        == []
    )

    new = db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.appointment_id.in_([booked.id, cancelled.id, past.id]),
            OutboxMessage.id.not_in(jo_messages),
        )
    ).all()
    assert [(m.kind, m.audience, m.recipient) for m in new] == [
        ("cancelled", "practitioner", "ada@clinic.test")
    ]
    assert not db.session.scalars(
        sa.select(OutboxMessage).where(
            OutboxMessage.audience == "patient", OutboxMessage.appointment_id == booked.id
        )
    ).all()

    [event] = audit_events("patient_erased")
    assert event.staff_user_id is None and event.subject.startswith("patient ")
    assert "3 consults anonymised" in event.detail and "1 intake," in event.detail
    assert "jo" not in (event.subject + event.detail).lower()
    assert b"J. P." not in feed_bytes(read_feed(ada, settings, datetime.now(UTC)))
    assert client.get(f"/manage/{seeded.booked_token}").status_code == 404


def test_erase_keeps_staff_mail_that_happens_to_share_the_address(runner, seeded):
    """A practitioner whose address is also a patient's keeps the emails about their consults."""
    db.session.rollback()
    practitioner_mail = sa.select(sa.func.count()).where(
        OutboxMessage.audience == "practitioner",
        OutboxMessage.kind != "cancelled",  # the erasure writes cancellations of its own
    )
    before = db.session.scalar(practitioner_mail)
    ada = db.session.scalar(sa.select(Practitioner).where(Practitioner.name == "Dr Ada Lane"))
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.audience == "practitioner")
        .values(recipient=JO_EMAIL)
    )
    ada.email = JO_EMAIL
    db.session.commit()

    assert runner.invoke(args=["patient", "erase", JO_EMAIL, "--yes"]).exit_code == 0

    db.session.rollback()
    assert before > 0 and db.session.scalar(practitioner_mail) == before


def test_erasing_twice_says_there_is_nothing_left(runner, seeded):
    assert runner.invoke(args=["patient", "erase", JO_EMAIL, "--yes"]).exit_code == 0
    before = database_rows()
    again = runner.invoke(args=["patient", "erase", JO_EMAIL, "--yes"])
    assert again.exit_code == 0
    assert "Nothing left to erase" in again.output
    assert database_rows() == before
    assert audit_count("patient_erased") == 1


@pytest.mark.parametrize("answer", [None, "n\n"])
def test_erase_asks_first_and_changes_nothing_without_a_yes(runner, seeded, answer):
    before = database_rows()
    result = runner.invoke(args=["patient", "erase", JO_EMAIL], input=answer)
    assert result.exit_code == 1
    assert f"{seeded.booked} with Dr Ada Lane" in result.output  # says what would happen
    assert "Erase it all?" in result.output and "Aborted" in result.output
    assert database_rows() == before


def test_erase_goes_ahead_when_confirmed(runner, seeded):
    result = runner.invoke(args=["patient", "erase", JO_EMAIL], input="y\n")
    assert result.exit_code == 0, result.output
    assert db.session.scalar(sa.select(Patient).where(Patient.email == JO_EMAIL)) is None


def test_staff_see_an_erased_consult_without_its_patient(runner, client, seeded):
    assert runner.invoke(args=["patient", "erase", JO_EMAIL, "--yes"]).exit_code == 0
    sign_in(client, "admin")
    page = client.get(f"/staff/consults/{seeded.past}")
    assert page.status_code == 200
    assert "Erased: the clinic no longer holds the patient's details" in page.text
    assert JO_NAME not in page.text
    today = datetime.now(UTC).date()
    span = f"from={today - timedelta(days=20)}&to={today + timedelta(days=10)}"
    listing = client.get(f"/staff/consults?{span}")
    assert seeded.past in listing.text and JO_NAME not in listing.text


def _message_ids(*references: str) -> list[int]:
    return list(
        db.session.scalars(
            sa.select(OutboxMessage.id)
            .join(Appointment, OutboxMessage.appointment_id == Appointment.id)
            .where(Appointment.reference.in_(references))
        )
    )
