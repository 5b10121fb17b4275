"""Delivering the outbox: claim what is due, send it over SMTP (Flask-Mail), record the result.

Several workers may run at once. A worker claims a batch in one short write transaction
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite's single write lock does the same job) and
marks it ``sending`` with a lease; nobody else takes those rows until the lease runs out, which
only happens if the worker died mid-batch. Each result is committed as soon as it is known.

A failure waits and is retried with exponential backoff (1, 2, 4... minutes, at most an hour
apart); after ``OUTBOX_MAX_ATTEMPTS`` it is ``failed``, its last error kept for staff. Messages
to one person about one consult go out in the order they were written.
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import time
import uuid
from datetime import datetime, timedelta

import flask_mail
import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, configure_mappers, joinedload

from clinic.core.clinic_settings import clinic_settings
from clinic.core.database import begin_write
from clinic.core.extensions import db
from clinic.core.models import Appointment, OutboxMessage, OutboxStatus
from clinic.notify.compose import as_email, compose
from clinic.notify.outbox import why_unwanted
from clinic.notify.report import Report
from clinic.notify.smtp import MESSAGE_REFUSED, Connection, Prepared

log = logging.getLogger("clinic.outbox")

BATCH_SIZE = 20
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(hours=1)
# Shown in logs in place of the patient's manage link, which must never be logged.
LINK_PLACEHOLDER = "[link not logged]"


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def deliver_due(now: datetime, *, owner: str | None = None) -> Report:
    """Deliver every message due at ``now``, batch by batch, each at most once in this run.

    With no ``MAIL_SERVER``, development and tests write messages to the log instead
    (``OUTBOX_LOG_WITHOUT_MAIL_SERVER``); elsewhere they stay in the outbox, untouched.
    """
    if not current_app.config.get("MAIL_SERVER") and not current_app.config.get(
        "OUTBOX_LOG_WITHOUT_MAIL_SERVER"
    ):
        log.warning("MAIL_SERVER is not set: emails stay in the outbox until it is.")
        return Report()
    owner = owner or worker_name()
    report = Report()
    started = time.monotonic()
    lease = timedelta(seconds=current_app.config["OUTBOX_LEASE_SECONDS"])
    while True:
        # Each batch's lease runs from when it is claimed, however long the run has taken.
        elapsed = timedelta(seconds=time.monotonic() - started)
        ids = _claim(now, owner, lease_until=now + elapsed + lease)
        if not ids:
            return report
        report.add(_deliver(ids, now, owner))


def _claim(now: datetime, owner: str, lease_until: datetime) -> list[int]:
    """Mark up to a batch of due messages ``sending`` under this worker's lease."""
    begin_write()
    earlier = aliased(OutboxMessage)
    claimable = sa.or_(
        sa.and_(
            OutboxMessage.status == OutboxStatus.PENDING.value,
            OutboxMessage.next_attempt_at <= now,
        ),
        sa.and_(
            OutboxMessage.status == OutboxStatus.SENDING.value,
            OutboxMessage.lease_expires_at < now,
        ),
    )
    # An earlier message to the same person about the same consult that is due or being
    # retried goes first: a cancellation never overtakes the invite it cancels.
    blocked = (
        sa.select(earlier.id)
        .where(
            earlier.appointment_id == OutboxMessage.appointment_id,
            earlier.recipient == OutboxMessage.recipient,
            earlier.id < OutboxMessage.id,
            earlier.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]),
            sa.or_(earlier.next_attempt_at <= now, earlier.attempts > 0),
        )
        .exists()
    )
    ids = list(
        db.session.scalars(
            sa.select(OutboxMessage.id)
            .where(claimable, ~blocked)
            .order_by(OutboxMessage.id)
            .limit(BATCH_SIZE)
            .with_for_update(skip_locked=True, of=OutboxMessage)
        )
    )
    if ids:
        db.session.execute(
            sa.update(OutboxMessage)
            .where(OutboxMessage.id.in_(ids))
            .values(
                status=OutboxStatus.SENDING.value,
                lease_owner=owner,
                lease_expires_at=lease_until,
            )
        )
    db.session.commit()
    return ids


def _deliver(ids: list[int], now: datetime, owner: str) -> Report:
    report = Report()
    to_send: list[OutboxMessage] = []
    for message in db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.id.in_(ids))
        .order_by(OutboxMessage.id)
        .options(*_with_consult())
    ).all():
        why_not = why_unwanted(message, now)
        if why_not:
            _finish(message, owner, report, dropped=why_not)
        else:
            to_send.append(message)
    if not to_send:
        return report
    if not current_app.config.get("MAIL_SERVER"):
        for message in to_send:
            _log_instead(message, owner, now, report)
        return report
    try:
        with Connection(current_app.extensions["mail"]) as connection:
            for index, message in enumerate(to_send):
                if not _refresh(message):  # erased since the claim
                    continue
                why_not = why_unwanted(message, now)  # again: the consult may have changed since
                if why_not:
                    _finish(message, owner, report, dropped=why_not)
                    continue
                try:
                    _send_one(connection, message, now)
                except MESSAGE_REFUSED as error:
                    _fail(message, owner, now, error, report)
                except OSError as error:  # SMTPServerDisconnected and timeouts included
                    # The connection is gone: this message and the rest wait for the next try
                    # (but those erased since the claim, which are gone).
                    for waiting in to_send[index:]:
                        if waiting is message or _refresh(waiting):
                            _fail(waiting, owner, now, error, report)
                    return report
                except Exception as error:  # noqa: BLE001 - one bad message must not stop the rest
                    _fail(message, owner, now, error, report)
                else:
                    _finish(message, owner, report, sent_at=now)
    except OSError as error:  # smtplib's errors are OSErrors too
        # Could not connect, log in or start TLS: the whole batch waits.
        for message in to_send:
            if _refresh(message) and message.status == OutboxStatus.SENDING.value:
                _fail(message, owner, now, error, report)
    return report


def _refresh(message: OutboxMessage) -> bool:
    """Reads the message and its consult afresh; False when the row was deleted after this
    worker claimed it (``flask patient erase``).

    One query: each commit expires what the session holds, and loading the rows back one by
    one, as the email is composed, took six.
    """
    identity = sa.inspect(message).identity  # known even when the row is expired
    assert identity is not None  # a claimed message is persistent
    message_id = identity[0]
    fresh = db.session.scalars(
        sa.select(OutboxMessage)
        .where(OutboxMessage.id == message_id)
        .options(*_with_consult())
        .execution_options(populate_existing=True)
    ).first()
    return fresh is not None


def _with_consult() -> tuple:
    """Loader options: a message's consult, with what composing the email reads of it."""
    configure_mappers()  # Appointment.intake is a backref: it exists once configured
    consult = joinedload(OutboxMessage.appointment)
    return (
        consult.joinedload(Appointment.patient),
        consult.joinedload(Appointment.practitioner),
        consult.joinedload(Appointment.consult_type),
        consult.joinedload(Appointment.intake),
    )


def _send_one(connection: flask_mail.Connection, message: OutboxMessage, now: datetime) -> None:
    settings = clinic_settings()  # read once for both
    email = as_email(message, compose(message, settings=settings), now, settings)
    connection.send(Prepared(email, message.recipient))


def _log_instead(message: OutboxMessage, owner: str, now: datetime, report: Report) -> None:
    """With no mail server configured (development), the message goes to the log."""
    try:
        composed = compose(message, link=LINK_PLACEHOLDER)
    except Exception as error:  # noqa: BLE001
        _fail(message, owner, now, error, report)
        return
    log.info(
        "No MAIL_SERVER set; message %s (%s to the %s) not sent:\nSubject: %s\n\n%s",
        message.id,
        message.kind,
        message.audience,
        composed.subject,
        composed.text,
    )
    _finish(message, owner, report, logged=True)


def _finish(
    message: OutboxMessage,
    owner: str,
    report: Report,
    *,
    sent_at: datetime | None = None,
    dropped: str = "",
    logged: bool = False,
) -> None:
    if sent_at is not None:
        values = dict(status=OutboxStatus.SENT.value, sent_at=sent_at, last_error="")
        report.sent += 1
    elif dropped:
        values = dict(status=OutboxStatus.DROPPED.value, last_error=dropped)
        report.dropped += 1
    else:
        values = dict(status=OutboxStatus.LOGGED.value)
        report.logged += 1
    _record(message, owner, **values)


def _fail(
    message: OutboxMessage, owner: str, now: datetime, error: BaseException, report: Report
) -> None:
    attempts = message.attempts + 1
    text = f"{type(error).__name__}: {error}"[:2000]
    permanent = isinstance(error, smtplib.SMTPRecipientsRefused) and all(
        code >= 500 for code, _ in error.recipients.values()
    )
    if permanent or attempts >= current_app.config["OUTBOX_MAX_ATTEMPTS"]:
        report.failed += 1
        status = OutboxStatus.FAILED.value
        log.error("Message %s (%s) failed for good: %s", message.id, message.kind, text)
    else:
        report.retrying += 1
        status = OutboxStatus.PENDING.value
        log.warning("Message %s (%s) failed, will retry: %s", message.id, message.kind, text)
    _record(
        message,
        owner,
        status=status,
        attempts=attempts,
        last_error=text,
        next_attempt_at=now + retry_delay(attempts),
    )


def _record(message: OutboxMessage, owner: str, **values) -> None:
    """Write a result, only while this worker still holds the message's lease."""
    message_id = message.id
    begin_write()
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.lease_owner == owner)
        .values(lease_expires_at=None, **values)
    )
    db.session.commit()
    db.session.expire_all()
