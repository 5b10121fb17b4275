"""Staff actions on a consult: cancel, reschedule, completed or no-show, notes.

Each action that affects the patient writes the right emails to the outbox once; the same
no-double-booking checks hold as for patients; every change is audited; bad input changes
nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from clinic.core.clinic_settings import clinic_settings
from clinic.core.extensions import db
from clinic.core.formatting import when_label
from clinic.core.models import Appointment, AuditEvent, ConsultNote, OutboxMessage, Practitioner
from clinic.notify.compose import compose
from tests.support import factories
from tests.support.apps import csrf_token
from tests.support.staff import audit_count, seed_staff_clinic, sign_in


@pytest.fixture
def ref(app):
    return seed_staff_clinic()


def consult(reference: str) -> Appointment:
    db.session.rollback()
    return db.session.scalar(sa.select(Appointment).where(Appointment.reference == reference))


def outbox(reference: str, kind: str) -> list[OutboxMessage]:
    db.session.rollback()
    return list(
        db.session.scalars(
            sa.select(OutboxMessage)
            .join(Appointment)
            .where(Appointment.reference == reference, OutboxMessage.kind == kind)
            .order_by(OutboxMessage.audience)
        )
    )


def post(client, path: str, **data):
    token = csrf_token(client.get("/staff/password").text)
    return client.post(path, data={"csrf_token": token, **data})


def practitioner_id(email: str) -> int:
    return db.session.scalar(sa.select(Practitioner.id).where(Practitioner.email == email))


# --- cancel ---------------------------------------------------------------------------------


def test_the_front_desk_cancels_with_a_reason_and_both_people_are_told_once(client, ref):
    sign_in(client, "desk")
    response = post(client, f"/staff/consults/{ref}/cancel", reason="Practitioner is unwell")
    assert response.status_code == 303
    assert "is cancelled" in client.get(response.headers["Location"]).text

    cancelled = consult(ref)
    assert cancelled.status == "cancelled" and cancelled.sequence == 1
    assert cancelled.cancel_reason == "Practitioner is unwell"
    messages = outbox(ref, "cancelled")
    assert [m.audience for m in messages] == ["patient", "practitioner"]
    assert "Practitioner is unwell" in compose(messages[0]).text
    assert all(m.status == "dropped" for m in outbox(ref, "reminder"))
    assert audit_count("consult_cancelled") == 1

    again = post(client, f"/staff/consults/{ref}/cancel", reason="twice")
    assert again.status_code == 303
    assert "Only a booked consult can be cancelled" in unescape(
        client.get(again.headers["Location"]).text
    )
    assert len(outbox(ref, "cancelled")) == 2 and consult(ref).cancel_reason != "twice"


@pytest.mark.parametrize(
    "reason, message",
    [("", "Please give a reason"), ("x" * 501, "under 500 characters"), ("a\x00b", "ordinary")],
)
def test_a_cancellation_without_a_good_reason_changes_nothing(client, ref, reason, message):
    sign_in(client, "admin")
    response = post(client, f"/staff/consults/{ref}/cancel", reason=reason)
    assert response.status_code == 422
    assert message in unescape(response.text)
    assert consult(ref).status == "confirmed"
    assert outbox(ref, "cancelled") == []


def test_another_practitioner_cannot_change_the_consult(client, ref):
    sign_in(client, "other")
    assert post(client, f"/staff/consults/{ref}/cancel", reason="no").status_code == 403
    assert post(client, f"/staff/consults/{ref}/notes", body="hello").status_code == 403
    start = (consult(ref).starts_at + timedelta(hours=1)).isoformat()
    assert post(client, f"/staff/consults/{ref}/reschedule", start=start, tz="UTC").status_code == (
        403
    )
    after = consult(ref)
    assert after.status == "confirmed" and after.sequence == 0 and after.notes == []


@pytest.mark.parametrize("reference", ["NOPE-NOPE", "AB%00C-DEFG", "%00", "x" * 200])
def test_unknown_or_odd_references_are_404(client, ref, reference):
    sign_in(client, "admin")
    assert client.get(f"/staff/consults/{reference}").status_code == 404
    assert post(client, f"/staff/consults/{reference}/cancel", reason="x").status_code == 404
    assert client.get(f"/staff/consults/{reference}/reschedule").status_code == 404


def test_a_cancelled_consult_offers_no_new_times(client, ref):
    sign_in(client, "desk")
    post(client, f"/staff/consults/{ref}/cancel", reason="Patient asked")
    response = client.get(f"/staff/consults/{ref}/reschedule")
    assert response.status_code == 303
    assert "Only a booked consult that has not ended can be moved" in unescape(
        client.get(response.headers["Location"]).text
    )


# --- reschedule -----------------------------------------------------------------------------


def test_staff_move_a_consult_even_inside_the_patients_change_window(client, ref):
    settings = clinic_settings()
    settings.change_cutoff_minutes = 60 * 24 * 7  # patients could no longer change it online
    db.session.commit()
    sign_in(client, "own")
    before = consult(ref)
    picker = client.get(f"/staff/consults/{ref}/reschedule")
    assert picker.status_code == 200
    assert "America/New_York" in picker.text  # the clinic's zone by default
    old_start = before.starts_at
    new_start = old_start + timedelta(hours=2)
    response = post(
        client,
        f"/staff/consults/{ref}/reschedule",
        start=new_start.isoformat(),
        tz="America/New_York",
    )
    assert response.status_code == 303, response.text
    assert "emailed the updated invite" in client.get(response.headers["Location"]).text

    moved = consult(ref)
    assert moved.starts_at == new_start and moved.sequence == 1
    assert [m.audience for m in outbox(ref, "rescheduled")] == ["patient", "practitioner"]
    pending = [m for m in outbox(ref, "reminder") if m.status == "pending"]
    assert pending and all(m.payload["starts_at"] == new_start.isoformat() for m in pending)
    assert audit_count("consult_rescheduled") == 1
    detail = db.session.scalar(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "consult_rescheduled")
    )
    assert detail == f"from {when_label(old_start, ZoneInfo('America/New_York'))}"


def test_staff_cannot_move_a_consult_onto_a_taken_time(client, ref):
    """Invariant 1 holds for staff: the practitioner's other consult (and its buffer) blocks."""
    ada = db.session.get(Practitioner, practitioner_id("ada@clinic.test"))
    taken = consult(ref).starts_at + timedelta(days=1)
    factories.appointment(ada, taken)
    sign_in(client, "desk")
    response = post(client, f"/staff/consults/{ref}/reschedule", start=taken.isoformat(), tz="UTC")
    assert response.status_code == 409
    assert "That time was just taken" in response.text
    assert consult(ref).sequence == 0 and outbox(ref, "rescheduled") == []


@pytest.mark.parametrize(
    "start, message",
    [
        ("not a time", "Use a date and time like"),
        ("2020-01-01T10:00:00Z", "already passed"),
        ("off the grid", "not one of the times we offer"),
    ],
)
def test_a_bad_new_time_is_refused_and_changes_nothing(client, ref, start, message):
    if start == "off the grid":
        start = (consult(ref).starts_at + timedelta(days=1, minutes=7)).isoformat()
    sign_in(client, "admin")
    response = post(client, f"/staff/consults/{ref}/reschedule", start=start, tz="UTC")
    assert response.status_code == 422
    assert message in unescape(response.text)
    assert consult(ref).sequence == 0


# --- completed and no-show ------------------------------------------------------------------


def test_an_outcome_is_recorded_only_once_the_consult_has_started(client, ref):
    sign_in(client, "desk")
    early = post(client, f"/staff/consults/{ref}/outcome", outcome="no_show")
    assert "has not started yet" in unescape(client.get(early.headers["Location"]).text)
    assert consult(ref).status == "confirmed"

    ada = db.session.get(Practitioner, practitioner_id("ada@clinic.test"))
    past = factories.appointment(ada, datetime.now(UTC) - timedelta(hours=2))
    page = client.get(f"/staff/consults/{past.reference}").text
    assert "Mark as no-show" in page and "Cancel this consult" not in page
    response = post(client, f"/staff/consults/{past.reference}/outcome", outcome="no_show")
    assert response.status_code == 303
    assert consult(past.reference).status == "no_show"
    corrected = post(client, f"/staff/consults/{past.reference}/outcome", outcome="completed")
    assert corrected.status_code == 303 and consult(past.reference).status == "completed"
    assert audit_count("consult_no_show") == 1 and audit_count("consult_completed") == 1
    assert outbox(past.reference, "cancelled") == []  # no email for an outcome


def test_an_unknown_outcome_is_refused(client, ref):
    sign_in(client, "desk")
    response = post(client, f"/staff/consults/{ref}/outcome", outcome="vanished")
    assert response.status_code == 422
    assert "Please choose completed or no-show" in response.text
    assert consult(ref).status == "confirmed"


# --- notes ----------------------------------------------------------------------------------


def test_a_note_is_kept_with_its_author_escaped_and_readable_by_all_staff(client, ref):
    sign_in(client, "desk")
    body = "Called: running late <script>alert(1)</script>"
    assert post(client, f"/staff/consults/{ref}/notes", body=body).status_code == 303
    db.session.rollback()
    [note] = db.session.scalars(sa.select(ConsultNote)).all()
    assert note.body == body and note.author.email == "desk@clinic.test"
    assert audit_count("note_added") == 1
    page = client.get(f"/staff/consults/{ref}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "desk@clinic.test" in page


@pytest.mark.parametrize(
    "body, message",
    [("   ", "write the note first"), ("y" * 2001, "under 2,000"), ("bell\x07", "ordinary")],
)
def test_a_bad_note_is_refused_and_nothing_stored(client, ref, body, message):
    sign_in(client, "own")
    response = post(client, f"/staff/consults/{ref}/notes", body=body)
    assert response.status_code == 422 and message in response.text
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ConsultNote)) == 0


def test_actions_without_a_csrf_token_change_nothing(client, ref):
    sign_in(client, "admin")
    response = client.post(f"/staff/consults/{ref}/cancel", data={"reason": "forged"})
    assert response.status_code == 400
    assert consult(ref).status == "confirmed"
