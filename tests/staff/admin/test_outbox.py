"""The staff outbox page: delivery state without email bodies, and resending a failed email.

Resending is checked end to end: the message fails against a real SMTP server on loopback,
is resent from the page, and ``flask outbox send`` then delivers it to that server.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import sqlalchemy as sa

from clinic.core.extensions import db
from clinic.core.models import OutboxMessage
from clinic.notify.compose import compose
from tests.support.apps import csrf_token, running_app
from tests.support.mail import outbox_send
from tests.support.records import rows
from tests.support.staff import audit_count, seed_staff_clinic, sign_in

PATIENT = "jo@example.com"


@pytest.fixture
def mail_app(database_url, backend, sink):
    """Sending through ``sink``; a message fails for good at its second failed attempt."""
    with running_app(database_url, backend, **sink.config(), OUTBOX_MAX_ATTEMPTS=2) as app:
        yield app


@pytest.fixture
def clinic(mail_app):
    return seed_staff_clinic()


@pytest.fixture
def desk(mail_app, clinic):
    client = mail_app.test_client()
    assert sign_in(client, "desk").status_code == 303
    return client


def fresh(message_id: int) -> OutboxMessage:
    db.session.rollback()
    return db.session.get(OutboxMessage, message_id, populate_existing=True)


def booked_to_patient() -> OutboxMessage:
    db.session.rollback()
    return db.session.scalar(
        sa.select(OutboxMessage).where(
            OutboxMessage.kind == "booked", OutboxMessage.recipient == PATIENT
        )
    )


def resend(client, message_id: int, page: str = "/staff/outbox"):
    token = csrf_token(client.get(page).text)
    return client.post(f"/staff/outbox/{message_id}/resend", data={"csrf_token": token})


def test_a_failed_email_resent_from_the_page_reaches_the_mail_server(mail_app, clinic, desk, sink):
    runner = mail_app.test_cli_runner()
    sink.refuse = True
    assert outbox_send(runner)["retrying"] >= 2  # first attempt: waits to retry
    assert outbox_send(runner, "--retry-now")["failed"] >= 2  # second: fails for good
    sink.refuse = False
    assert outbox_send(runner)["sent"] == 0  # failed messages are not retried on their own
    message = booked_to_patient()
    assert (message.status, message.attempts) == ("failed", 2)
    assert "451" in message.last_error

    page = desk.get("/staff/outbox")
    assert f"Resend the booked email to {PATIENT}" in page.text
    before = audit_count("outbox_resend")
    response = resend(desk, message.id)

    assert response.status_code == 303
    assert response.headers["Location"].endswith("/staff/outbox")
    message = fresh(message.id)
    assert (message.status, message.attempts) == ("pending", 0)
    assert message.next_attempt_at <= datetime.now(UTC)
    assert "451" in message.last_error  # kept until it is sent
    assert audit_count("outbox_resend") == before + 1
    assert f"Resend the booked email to {PATIENT}" not in desk.get("/staff/outbox").text

    assert outbox_send(runner)["sent"] == 1
    arrived = sink.messages_to(PATIENT)
    assert [str(m["Message-ID"]) for m in arrived] == [message.message_id]
    message = fresh(message.id)
    assert (message.status, message.last_error) == ("sent", "")

    # Once sent it can't be sent again from the page.
    refused = resend(desk, message.id)
    assert refused.status_code == 409
    assert "That email was already sent, so it can't be resent." in unescape(refused.text)
    assert fresh(message.id).status == "sent"
    assert audit_count("outbox_resend") == before + 1


def test_retry_now_for_an_email_waiting_after_a_failure(mail_app, clinic, desk, sink):
    runner = mail_app.test_cli_runner()
    sink.refuse = True
    outbox_send(runner)
    sink.refuse = False
    message = booked_to_patient()
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.next_attempt_at > datetime.now(UTC)
    assert f"Retry the booked email to {PATIENT} now" in desk.get("/staff/outbox").text

    assert resend(desk, message.id).status_code == 303
    message = fresh(message.id)
    assert (message.status, message.attempts) == ("pending", 0)
    assert message.next_attempt_at <= datetime.now(UTC)

    assert outbox_send(runner)["sent"] == 1  # only this one: the others still wait
    assert [str(m["Message-ID"]) for m in sink.messages_to(PATIENT)] == [message.message_id]
    assert fresh(message.id).status == "sent"


@pytest.mark.parametrize(
    "status, attempts, why",
    [
        ("sent", 1, "already sent"),
        ("dropped", 0, "dropped as no longer wanted"),
        ("logged", 0, "written to the log"),
        ("sending", 1, "being sent right now"),
        ("pending", 0, "already waiting to be sent"),
    ],
)
def test_resend_is_refused_unless_the_email_failed(desk, status, attempts, why):
    message = booked_to_patient()
    message.status, message.attempts, message.last_error = status, attempts, "earlier error"
    db.session.commit()
    before = audit_count("outbox_resend")
    snapshot = {c: getattr(message, c) for c in ("status", "attempts", "next_attempt_at")}

    response = resend(desk, message.id)

    assert response.status_code == 409
    assert why in unescape(response.text)
    after = fresh(message.id)
    assert {c: getattr(after, c) for c in snapshot} == snapshot
    assert after.last_error == "earlier error"
    assert audit_count("outbox_resend") == before


def _failed() -> OutboxMessage:
    message = booked_to_patient()
    message.status, message.attempts, message.last_error = "failed", 10, "SMTPDataError: 451"
    db.session.commit()
    return message


def test_an_email_about_an_older_version_of_the_consult_is_not_resent(desk, clinic):
    """Invariant 4: once the consult is cancelled, its failed 'booked' invite must not follow."""
    message = _failed()
    token = csrf_token(desk.get(f"/staff/consults/{clinic}").text)
    cancelled = desk.post(
        f"/staff/consults/{clinic}/cancel", data={"csrf_token": token, "reason": "Unwell"}
    )
    assert cancelled.status_code == 303
    assert "Resend the booked email" not in desk.get("/staff/outbox").text

    response = resend(desk, message.id)

    assert response.status_code == 409
    assert "a newer email about it replaces it" in unescape(response.text)
    assert fresh(message.id).status == "failed"


def test_resend_needs_a_good_csrf_token_and_a_real_message(desk, mail_app):
    message = _failed()
    assert desk.post(f"/staff/outbox/{message.id}/resend").status_code == 400
    forged = desk.post(f"/staff/outbox/{message.id}/resend", data={"csrf_token": "forged"})
    assert forged.status_code == 400
    assert resend(desk, 999_999).status_code == 404
    assert fresh(message.id).status == "failed"
    assert audit_count("outbox_resend") == 0


def test_practitioners_cannot_resend(mail_app, clinic):
    message = _failed()
    client = mail_app.test_client()
    sign_in(client, "own")
    token = csrf_token(client.get("/staff/password").text)
    response = client.post(f"/staff/outbox/{message.id}/resend", data={"csrf_token": token})
    assert response.status_code == 403
    assert fresh(message.id).status == "failed"


def test_the_page_lists_failed_then_pending_and_never_an_email_body(desk, clinic):
    message = _failed()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.kind == "reminder")
        .values(status="sent", sent_at=datetime.now(UTC))
    )
    db.session.commit()
    link = re.search(r"https?://\S+/manage/\S+", compose(fresh(message.id)).text).group(0)

    response = desk.get("/staff/outbox")

    assert response.status_code == 200
    statuses = re.findall(r"<td>(failed|pending|sent)</td>", rows(response))
    assert statuses[0] == "failed"
    assert statuses.index("sent") > statuses.index("pending")
    assert sorted(statuses, key=["failed", "pending", "sent"].index) == statuses
    assert "SMTPDataError: 451" in rows(response)
    assert f'href="/staff/consults/{clinic}"' in rows(response)
    assert "/manage/" not in response.text and link not in response.text


def test_the_status_filter(desk, clinic):
    _failed()
    only_failed = rows(desk.get("/staff/outbox?status=failed"))
    assert re.findall(r"<td>(\w+)</td>\s*<td>\d+</td>", only_failed) == ["failed"]
    pending = rows(desk.get("/staff/outbox?status=pending"))
    assert "failed" not in re.findall(r"<td>(\w+)</td>\s*<td>\d+</td>", pending)
    assert "No emails with this status." in desk.get("/staff/outbox?status=sent").text


@pytest.mark.parametrize("query", ["status=lost", "status=", "page=0", "page=-1"])
def test_bad_outbox_filters_are_refused(desk, query):
    response = desk.get(f"/staff/outbox?{query}")
    assert response.status_code == 422
    assert "<tbody>" not in response.text


def test_the_outbox_pages(desk, clinic, monkeypatch):
    from clinic.staff.admin import outbox as outbox_admin

    monkeypatch.setattr(outbox_admin, "PER_PAGE", 2)
    db.session.rollback()
    total = db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage))
    assert total > 2
    first = desk.get("/staff/outbox")
    assert f"Emails 1 to 2 of {total}." in first.text
    assert "Next page" in first.text
    last = desk.get(f"/staff/outbox?page={-(-total // 2)}")
    assert "Previous page" in last.text and "Next page" not in last.text
